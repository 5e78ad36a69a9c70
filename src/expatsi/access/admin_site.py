"""The Django admin, for verified sessions only (django-otp's rule, as in its ``OTPAdminSite``).

The site keeps Django's name ``admin`` (``OTPAdminSite`` would rename its URLs) and the throttled
sign-in form; the code is asked on the portal's second-step page, where the middleware sends a
session that is signed in but not verified. This check is the admin's own line of defence should a
request ever get past the middleware.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.http import HttpRequest

from expatsi.access.throttle import ThrottledAdminAuthenticationForm
from expatsi.access.twofactor import is_verified


class VerifiedAdminSite(AdminSite):
    # The backend throttles the admin's sign-in already; this form also says so.
    login_form = ThrottledAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_verified(request.user)
