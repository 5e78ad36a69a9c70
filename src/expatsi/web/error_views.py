"""The site's 403, 404 and 500 pages: the portal's layout in the reader's language, and the API's
``{code, message, field}`` shape under /api/. Also the site icon.

A 500 may come from a dead database or a half-built request, so its page is rendered from a
template that needs nothing but the active language (no context processors, no user, no query).
"""

from __future__ import annotations

from pathlib import Path

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control

_API_PREFIX = "/api/"

_API_ERRORS: dict[int, tuple[str, str]] = {
    403: ("forbidden", "you may not do this"),
    404: ("not_found", "no such resource"),
    500: ("server_error", "the server could not answer; the error has been logged"),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(_API_PREFIX)


def _api_error(status: int) -> JsonResponse:
    code, message = _API_ERRORS[status]
    # ``field`` is a string ("" when no input is at fault), as the API documents it everywhere.
    return JsonResponse({"code": code, "message": message, "field": ""}, status=status)


_FAVICON = (Path(__file__).parent / "static" / "web" / "favicon.svg").read_bytes()


@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """The site icon from the app itself (not only from static files, which production may not
    serve at /favicon.ico, where browsers look)."""
    return HttpResponse(_FAVICON, content_type="image/svg+xml")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(403)
    return render(request, "web/errors/403.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(404)
    return render(request, "web/errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(500)
    language = get_language() or "en"
    html = loader.get_template("web/errors/500.html").render({"LANG": language})
    return HttpResponse(html, status=500)
