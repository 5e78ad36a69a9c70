"""First-entry steps complete (issue 10): Z visa, 24-hour lodging registration and e-SSC
activation were missing; every step now comes from national/first_entry.toml with its law,
status and source, and its deadline from deadlines.toml."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation

from expatsi.access.actors import SYSTEM
from expatsi.cards import services
from expatsi.cards.models import Card
from expatsi.cards.selectors import first_entry_steps
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

ENTRY = date(2026, 3, 10)
ORDER = ["applied", "notice", "z_visa", "entry", "lodging", "residence", "registration", "essc"]


@pytest.fixture
def card(world: World):
    app = services.card_apply(
        actor=SYSTEM,
        employer=world.a,
        person=world.pa2,  # new to China: no card yet (pa holds one from the hire)
        category="B",
        position="Engineer",
        valid_to=date(2028, 3, 1),
    )
    services.application_decide(actor=SYSTEM, application_id=app.pk, approve=True)
    # the notice as issued on 1 March 2026 (valid 90 days), so that the dates are fixed
    Card.objects.filter(pk=app.card_id).update(
        notice_issued_on=date(2026, 3, 1), notice_valid_to=date(2026, 5, 30)
    )
    return services.card_record_entry(actor=SYSTEM, card_id=app.card_id, entry_date=ENTRY)


def test_every_step_in_order_with_its_deadline(card) -> None:
    steps = {s.key: s for s in first_entry_steps(card, today=ENTRY)}
    assert list(steps) == ORDER
    assert steps["lodging"].day == date(2026, 3, 11)  # within 24 hours: the day after arrival
    assert steps["residence"].day == date(2026, 4, 9)  # 30 days after 10 March
    assert steps["z_visa"].state == "done"  # entered, so the visa was used
    assert steps["essc"].day is None and steps["essc"].state == "not_recorded"
    assert steps["lodging"].status == "CONFIRMED"
    assert steps["notice"].status == "SECONDARY"
    for s in steps.values():
        assert s.law and s.source and s.status


def test_steps_in_chinese(card) -> None:
    with translation.override("zh-hans"):
        steps = {s.key: s for s in first_entry_steps(card, today=ENTRY)}
    assert steps["lodging"].label == "入境后24小时内办理住宿登记"
    assert "电子社保卡" in steps["essc"].label
    assert "Z字签证" in steps["z_visa"].label


def test_the_card_page_lists_the_new_steps_with_status(world: World, card) -> None:
    html = world.client("hr_a").get(f"/cards/{card.pk}/").content.decode()
    for key in ("z_visa", "lodging", "essc"):
        assert f'data-step="{key}"' in html
    assert "Lodging registration with the police within 24 hours of arrival" in html
    assert "fao.szpu.edu.cn" in html  # the Z visa's source behind a link
    zh = world.client("hr_a").get(f"/zh-hans/cards/{card.pk}/").content.decode()
    assert "入境后24小时内办理住宿登记" in zh


def test_before_entry_the_z_visa_is_due_while_the_notice_is_valid(world: World) -> None:
    app = services.card_apply(
        actor=SYSTEM,
        employer=world.a,
        person=world.pa2,  # new to China: no card yet (pa holds one from the hire)
        category="B",
        position="Engineer",
        valid_to=date(2028, 3, 1),
    )
    services.application_decide(actor=SYSTEM, application_id=app.pk, approve=True)
    card = app.card
    card.refresh_from_db()
    steps = {s.key: s for s in first_entry_steps(card)}
    assert steps["z_visa"].state == "pending"
    assert steps["z_visa"].day == card.notice_valid_to
    assert card.notice_valid_to == card.notice_issued_on + timedelta(days=90)
    assert steps["lodging"].state == "not_applicable"
