"""Template tags every page shares: money, dates, countries and regions in words, the masthead."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from expatsi.access.twofactor import verification_missing
from expatsi.rules.identifiers import country as country_lookup
from expatsi.rules.regions import regions
from expatsi.web.actors import request_actor
from expatsi.web.errors import rule_message
from expatsi.web.formatting import yuan
from expatsi.web.navigation import menu_for

register = template.Library()


register.filter("yuan", yuan)


@register.filter
def country_name(code: str) -> str:
    if not code:
        return ""
    try:
        found = country_lookup(code)
    except ValueError:
        return code
    return found.name_zh if (get_language() or "").startswith("zh") else found.name


@register.filter
def region_name(code: str) -> str:
    found = regions().get(code)
    if found is None:
        return code
    return found.name_zh if (get_language() or "").startswith("zh") else found.name


@register.filter
def rule_error(error: Any) -> str:
    """An import RowError (or any object with code and message) in the reader's language."""
    return rule_message(
        getattr(error, "code", ""),
        getattr(error, "message", str(error)),
        getattr(error, "params", None),
    )


@register.filter
def long_date(day: date | None) -> str:
    return date_format(day, "DATE_FORMAT") if day else ""


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@register.inclusion_tag("web/_user.html", takes_context=True)
def portal_user(context: template.Context) -> dict[str, Any]:
    """Who is signed in (with their role) and the sign-out button, in the masthead."""
    request = context.get("request")
    user = getattr(request, "user", None)
    kind = "anonymous"
    if request is not None and user is not None and user.is_authenticated:
        kind = request_actor(request).kind
    return {"user": user, "kind": kind, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("web/_nav.html", takes_context=True)
def portal_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    kind = "anonymous"
    # Before the second step of signing in, no page but that step answers: offer none.
    signed_in = user is not None and user.is_authenticated
    if request is not None and signed_in and not verification_missing(user):
        actor = request_actor(request)
        kind = actor.kind
        for name, label in menu_for(actor):
            url = _url(name)
            if url:
                items.append((url, label))
    verify = _url("cards:verify")
    if verify:
        items.append((verify, _("Check a card")))
    path = getattr(request, "path", "")
    current = ""
    for url, _label in items:  # the longest matching prefix is the current page
        if (
            path.startswith(url)
            and len(url) > len(current)
            and (url != reverse("home") or path == url)
        ):
            current = url
    return {
        "items": items,
        "current": current,
        "user": user,
        "kind": kind,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
