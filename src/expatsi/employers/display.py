"""An employer's name in the reader's language: its Chinese name on Chinese pages when one is
stored, its registered (English) name otherwise."""

from __future__ import annotations

from typing import Protocol

from django.utils.translation import get_language


class _Named(Protocol):
    name: str
    name_zh: str


def display_name(employer: _Named | str | None, language: str | None = None) -> str:
    """``employer`` may also be a name as signed into a card's code: shown as it is."""
    if employer is None:
        return ""
    if isinstance(employer, str):
        return employer
    language = language or get_language() or "en"
    if language.startswith("zh") and employer.name_zh:
        return employer.name_zh
    return employer.name


def other_name(employer: _Named | None, language: str | None = None) -> str:
    """The name not shown by ``display_name`` (for lists where a clerk may search by either)."""
    if employer is None or isinstance(employer, str) or not employer.name_zh:
        return ""
    shown = display_name(employer, language)
    return employer.name if shown == employer.name_zh else employer.name_zh
