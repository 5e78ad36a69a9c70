"""The language switch, remembered for logged-in users so that their e-mails follow it; and the
site's 400 handler, which answers an over-large request body with 413."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.i18n import set_language as django_set_language

from expatsi.access.models import Profile


def set_language(request: HttpRequest) -> HttpResponse:
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
    ):
        Profile.objects.update_or_create(user=request.user, defaults={"language": language})
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: Django turns RequestDataTooBig (a body over DATA_UPLOAD_MAX_MEMORY_SIZE; files
    are not counted) into a 400 — it is a 413, in the API's error shape under /api/."""
    if isinstance(exception, RequestDataTooBig):
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "request_too_large",
                    "message": "the request body is too large",
                    "field": "body",
                },
                status=413,
            )
        return HttpResponse(
            _("The form is too large to send. Upload large data as a file."),
            status=413,
            content_type="text/plain; charset=utf-8",
        )
    return defaults.bad_request(request, exception)
