"""A Chinese page shows no English from the message catalogue and no raw internal code.

The main pages are rendered in zh-hans over the demo data set; their visible text (not markup,
not attribute values) must contain no msgid of the catalogue (a string someone forgot to mark or
translate shows as its English msgid) and no stored code: a model choice's value, a card history
action or an audit action (``notice_issued``, ``approve_first_entry``, ``card.read``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.utils import translation

import expatsi
from expatsi.cards.models import Card, CardApplication, CardEvent
from expatsi.demo.data import demo_load
from expatsi.employers.models import Employer
from expatsi.portal.labels import AUDIT_ACTIONS, CARD_ACTIONS, audit_action, detail_items
from tests.twofactor import verified_login

pytestmark = pytest.mark.django_db

CATALOGUE = Path(expatsi.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


class _Text(HTMLParser):
    """The page's visible text nodes."""

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.nodes.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.nodes


def english_msgids() -> list[str]:
    """Catalogue entries of at least three words that are translated to something else: such an
    English sentence on a Chinese page was not translated. (Short ones like "A" or "Apply" could
    be part of a name.)"""
    text = CATALOGUE.read_text(encoding="utf-8")
    found = []
    for block in text.split("\n\n"):
        ids = re.findall(r'^msgid (".*")$((?:\n".*")*)', block, re.M)
        if not ids or "#, fuzzy" in block:
            continue
        msgid = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', ids[0][0] + ids[0][1]))
        msgid = msgid.replace('\\"', '"').replace("\\n", " ")
        if "%(" in msgid or "{" in msgid or len(msgid.split()) < 3:
            continue
        found.append(" ".join(msgid.split()))
    return found


def codes() -> set[str]:
    """Stored codes: every choice value with an underscore, every card and audit action."""
    values: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("expatsi."):
            continue
        for f in model._meta.get_fields():
            if isinstance(f, models.Field) and f.choices:
                values |= {str(v) for v, _label in f.flatchoices if "_" in str(v)}
    values |= {c for c in CARD_ACTIONS if "_" in c}
    values |= set(AUDIT_ACTIONS) | {f"card.{c}" for c in CARD_ACTIONS}
    return values | {"system"}  # the actor label of scheduled jobs


def _pages() -> list[tuple[str, str]]:
    card = Card.objects.filter(events__action="approve_first_entry").first()
    legacy = CardEvent.objects.filter(action="import_legacy").values_list("card_id", flat=True)
    pages = [
        ("agency-officer", "/zh-hans/"),
        ("agency-officer", "/zh-hans/registrations/"),
        ("agency-officer", "/zh-hans/cards/"),
        ("agency-officer", "/zh-hans/cards/queue/"),
        ("agency-officer", "/zh-hans/audit/"),
        ("hr-jingcheng", "/zh-hans/"),
        ("hr-jingcheng", "/zh-hans/cards/"),
        ("agency-officer", "/zh-hans/registrations/?status="),
        ("agency-admin", "/zh-hans/administration/"),
        ("agency-admin", "/zh-hans/administration/employers/new/"),
        ("agency-admin", "/zh-hans/administration/staff/"),
    ]
    employer = Employer.objects.order_by("pk").first()
    if employer is not None:
        pages.append(("agency-admin", f"/zh-hans/administration/employers/{employer.pk}/"))
    if card is not None:
        pages.append(("agency-officer", f"/zh-hans/cards/{card.pk}/"))
    if legacy:
        pages.append(("agency-officer", f"/zh-hans/cards/{legacy[0]}/"))
    return pages


def test_chinese_pages_show_no_english_msgid_and_no_raw_code() -> None:
    demo_load(password="demo-password-for-tests", people=40)
    msgids = english_msgids()
    stored = codes()
    assert "approve_first_entry" in stored and "card.read" in stored and len(msgids) > 100
    problems: list[str] = []
    for username, url in _pages():
        client = verified_login(Client(), User.objects.get(username=username))
        page = client.get(url)
        assert page.status_code == 200, (username, url)
        nodes = visible_text(page.content.decode())
        text = "\n".join(nodes)
        for msgid in msgids:
            if msgid in text:
                problems.append(f"{url} ({username}): English {msgid!r}")
        for code in stored:
            if re.search(rf"(?<![\w.@/-]){re.escape(code)}(?![\w@/-])", text):
                problems.append(f"{url} ({username}): code {code!r}")
    assert not problems, "\n".join(problems)
    positions = [
        a.request.get("changes", {}).get("position", "") for a in CardApplication.objects.all()
    ]
    assert not [p for p in positions if "Senior Senior" in p]


def test_audit_details_show_amounts_in_yuan_and_codes_as_words() -> None:
    with translation.override("zh-hans"):
        items = dict(detail_items({"amount": "26745758", "from": "notice_issued", "to": "active"}))
        assert items["金额"] == "¥267,457.58"
        assert "notice_issued" not in items.values() and "active" not in items.values()
        assert audit_action("card.read") != "card.read"
