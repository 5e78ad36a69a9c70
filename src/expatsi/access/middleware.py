"""Keeps a signed-in but not yet verified session on the two-step pages.

After the password, a user with an authenticator must type a code, and agency staff without one
must enrol one, before any other page (the Django admin included) answers. Only the page that
finishes the step, signing out and the language switch stay reachable. The REST API answers for
itself (``expatsi.access.auth``: 403 ``second_factor_required`` for such a session; API tokens are
machine access and unaffected).

Must come after django-otp's ``OTPMiddleware``, which tells whether the session is verified.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from expatsi.access.twofactor import verification_missing

# Reachable while the second step is missing (besides the page that completes it).
ALWAYS_ALLOWED = frozenset({"logout", "set_language", "health", "ready"})
STEP_PAGE = {"code": "login_verify", "enrol": "two_step"}


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if request.path_info.startswith("/api/"):
            return None  # the API's authentication decides, in the API's error shape
        missing = verification_missing(getattr(request, "user", None))
        if not missing:
            return None
        name = request.resolver_match.view_name if request.resolver_match else None
        step = STEP_PAGE[missing]
        if name in ALWAYS_ALLOWED or name == step:
            return None
        target = reverse(step)
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
