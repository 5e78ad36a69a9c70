"""Template tags every page shares: money, dates, countries and regions in words, the masthead."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from expatsi.access.actors import actor_for_user, client_ip
from expatsi.access.twofactor import verification_missing
from expatsi.rules.identifiers import country as country_lookup
from expatsi.rules.regions import regions
from expatsi.web.errors import rule_message
from expatsi.web.formatting import yuan

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
    if user is not None and user.is_authenticated:
        kind = actor_for_user(user, ip=client_ip(request)).kind
    return {"user": user, "kind": kind, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("web/_nav.html", takes_context=True)
def portal_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    items: list[tuple[str, str]] = []
    kind = "anonymous"
    # Before the second step of signing in, no page but that step answers: offer none.
    if user is not None and user.is_authenticated and not verification_missing(user):
        actor = actor_for_user(user, ip=client_ip(request))
        kind = actor.kind
        items.append((reverse("home"), _("Home")))
        if actor.kind == "hr":
            items.append((reverse("hire_new"), _("Register a new hire")))
            items.append((reverse("hire_import"), _("Bulk import")))
        if actor.kind == "employee":
            items.append((reverse("me"), _("My record")))
        if actor.kind == "agency":
            items.append((reverse("registrations"), _("Registrations")))
            audit = _url("audit:list")
            if audit:
                items.append((audit, _("Audit trail")))
        optional = [("cards:list", _("Cards"))]
        if actor.kind == "agency":
            optional += [
                ("cards:queue", _("Card decisions")),
                ("billing:collection", _("Collection")),
                ("billing:payments", _("Payments")),
                ("cases:findings", _("Compliance")),
                ("cases:list", _("Enforcement cases")),
            ]
        elif actor.kind == "hr":
            optional += [
                ("billing:bills", _("Bills")),
                ("billing:declarations", _("Contribution bases")),
                ("billing:payments", _("Payments")),
                ("cases:list", _("Orders to rectify")),
            ]
        elif actor.kind == "employee":
            optional += [("billing:me", _("My contributions"))]
        optional += [("notify:inbox", _("Inbox"))]
        for name, label in optional:
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
