"""Template filters that turn stored codes into words in the reader's language (see
``expatsi.portal.labels``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import get_language

from expatsi.employers.display import display_name, other_name
from expatsi.notify.messages import in_language
from expatsi.portal import labels

register = template.Library()

register.filter("card_action", labels.card_action)
register.filter("card_status", labels.card_status)
register.filter("actor_name", labels.actor_name)
register.filter("actor_kind", labels.actor_kind)
register.filter("audit_action", labels.audit_action)
register.filter("field_name", labels.field_name)
register.filter("object_type", labels.object_type)


@register.filter
def detail_items(detail: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return labels.detail_items(detail)


@register.filter
def deregistration_reason(code: str) -> str:
    label = labels.DEREGISTRATION_REASONS.get(code)
    return str(label) if label is not None else code


register.filter("display_name", display_name)
register.filter("other_name", other_name)


@register.filter
def in_reader_language(note: Any) -> tuple[str, str, str]:
    """A notification's (subject, body, language) in the reader's language."""
    language = get_language() or note.language
    subject, body = in_language(note.kind, note.params, language, (note.subject, note.body))
    shown = language if (subject, body) != (note.subject, note.body) else note.language
    return subject, body, shown
