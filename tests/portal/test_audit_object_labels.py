"""The audit trail names what an event is about in words: every object type the code records has
a label, in English and Chinese (a raw ``card_application`` once showed on the Chinese page)."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from expatsi.portal.labels import OBJECT_TYPES, audit_object

SRC = Path(__file__).resolve().parents[2] / "src" / "expatsi"


def recorded_object_types() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        found |= set(re.findall(r'object_type="([a-z_]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_recorded_object_type_has_a_label_in_both_languages() -> None:
    types = recorded_object_types()
    assert {"card", "card_application", "payout"} <= types
    assert types <= set(OBJECT_TYPES), sorted(types - set(OBJECT_TYPES))
    with translation.override("en"):
        english = {t: audit_object(t) for t in types}
    with translation.override("zh-hans"):
        untranslated = [t for t in types if audit_object(t) == english[t]]
    assert not untranslated, untranslated
