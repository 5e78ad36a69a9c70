"""Older physical permits (issue 10): a consistent card page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation

from expatsi.access.actors import SYSTEM
from expatsi.cards import services
from expatsi.cards.models import Card
from expatsi.portal.templatetags.portal import long_date
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

PERMIT = "110000201700012345"


def legacy(world: World, valid_to: date) -> Card:
    return services.legacy_permit_import(
        actor=SYSTEM,
        permit=services.LegacyPermit(
            permit_number=PERMIT,
            person=world.pa,
            employer=world.a,
            category="B",
            position="Teacher",
            valid_from=date(2023, 3, 1),
            valid_to=valid_to,
        ),
    )


def test_the_card_page_of_a_physical_permit_says_what_it_is_and_what_comes_next(
    world: World,
) -> None:
    valid_to = date.today() + timedelta(days=200)
    card = legacy(world, valid_to)
    html = world.client("hr_a").get(f"/cards/{card.pk}/").content.decode()
    assert 'id="legacy-permit"' in html
    assert "physical work permit issued before the Integrated Card" in html
    assert "converted to the Integrated Card" in html
    # no contradiction: not "a code is issued when the card is active" on an active card
    assert "a code is issued when the card is active" not in html
    assert "none (physical permit; given on conversion)" in html
    # the extension window opens 30 days before expiry (deadlines.toml, permit_extension_window)
    with translation.override("en"):
        opens = long_date(valid_to - timedelta(days=30))
    assert f"can be applied for from {opens}" in html
    zh = world.client("hr_a").get(f"/zh-hans/cards/{card.pk}/").content.decode()
    assert "实体工作许可证" in zh
