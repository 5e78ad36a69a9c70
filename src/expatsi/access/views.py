"""The language switch, remembered for logged-in users so that their e-mails follow it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
