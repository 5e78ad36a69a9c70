"""Simplified Chinese is complete, and the compiled catalogue matches its source."""

import gettext
import re
from pathlib import Path

import expatsi

LOCALE = Path(expatsi.__file__).parent / "locale"


def unquote(s: str) -> str:
    return (
        "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s))
        .encode("raw_unicode_escape")
        .decode("unicode_escape")
    )


def po_entries(path: Path) -> list[tuple[str, str, bool]]:
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = "#, fuzzy" in block
        m = re.search(r'^msgid ((?:".*"\n?)+)^msgstr ((?:".*"\n?)+)', block + "\n", re.M)
        if not m:
            continue
        msgid = unquote(m[1])
        if msgid:
            entries.append((msgid, m[2], fuzzy))
    return entries


def test_every_chinese_string_is_translated_and_not_fuzzy():
    po = LOCALE / "zh_Hans/LC_MESSAGES/django.po"
    entries = po_entries(po)
    assert entries, "no catalogue"
    missing = [msgid for msgid, msgstr, fuzzy in entries if fuzzy or msgstr.strip() == '""']
    assert missing == []


def test_compiled_catalogue_is_up_to_date():
    with (LOCALE / "zh_Hans/LC_MESSAGES/django.mo").open("rb") as fh:
        mo = gettext.GNUTranslations(fh)
    po = LOCALE / "zh_Hans/LC_MESSAGES/django.po"
    catalog = mo._catalog  # type: ignore[attr-defined]
    stale = [msgid for msgid, _, _ in po_entries(po) if msgid not in catalog]
    assert stale == [], "run `make messages` to recompile the catalogue"
