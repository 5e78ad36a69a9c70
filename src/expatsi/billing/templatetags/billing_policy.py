"""The policy status of an amount, marked in words wherever money is charged or credited."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from expatsi.billing import provenance

register = template.Library()

_CLASSES = {
    "CONFIRMED": "tag-confirmed",
    "SECONDARY": "tag-secondary",
    "CONVENTION": "tag-convention",
    "UNCONFIRMED": "tag-unconfirmed",
}


@register.simple_tag
def policy_mark(status: str, url: str = "", short: bool = False) -> SafeString:
    """The status and what it means in words, and the source behind a link when there is one.
    Full: the status code (as the footer names it) and its meaning. ``short`` (narrow columns): one
    translated word, the meaning as its title. Never colour alone."""
    tag = format_html(
        '<span class="tag {}"{}>{}</span>',
        _CLASSES.get(status, "tag-secondary"),
        format_html(' title="{}"', provenance.status_label(status)) if short else "",
        provenance.status_word(status) if short else (status or "—"),
    )
    text = "" if short else format_html(" {}", provenance.status_label(status))
    link = (
        format_html(
            ' <a class="policy-source" href="{}" rel="noopener noreferrer">{}</a>', url, _("source")
        )
        if url
        else ""
    )
    return format_html('<span class="policy-mark">{}{}{}</span>', tag, text, link)


@register.filter
def status_word(status: str) -> str:
    return provenance.status_word(status)


@register.filter
def status_label(status: str) -> str:
    return provenance.status_label(status)


@register.filter
def source_url(source: str) -> str:
    return provenance.source_url(source)
