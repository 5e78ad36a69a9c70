"""One card number (issue #10): the employee documents endpoint files no Integrated Card or work
permit. The card is the cards register's — applied for at /api/v1/cards, or an older permit the
agency imports — and a hire names it; a typed second number here would stand beside it."""

from __future__ import annotations

import pytest
from django.utils import translation

from expatsi.people.models import Document
from expatsi.web.errors import rule_message
from tests.api.conftest import API, World, today

pytestmark = pytest.mark.django_db


def _post(client, person_id: int, body: dict) -> object:
    return client.post(
        f"{API}/employees/{person_id}/documents", body, content_type="application/json"
    )


@pytest.mark.parametrize("kind", ["integrated_card", "work_permit"])
@pytest.mark.parametrize("role", ["hr_a", "token_a", "agency"])
def test_a_typed_card_is_refused_on_kind_and_nothing_is_filed(
    world: World, kind: str, role: str
) -> None:
    before = Document.objects.filter(person=world.pa).count()
    r = _post(
        world.client(role),
        world.pa.pk,
        {"kind": kind, "number": "IC77001122", "issued_on": today().isoformat()},
    )
    assert r.status_code == 400, r.content
    body = r.json()
    assert (body["code"], body["field"]) == ("card_kind_by_register", "kind")
    assert "cards register" in body["message"]
    assert "/api/v1/cards" in body["message"]
    assert Document.objects.filter(person=world.pa).count() == before
    assert not Document.objects.filter(number="IC77001122").exists()


def test_the_refusal_has_its_words_in_both_languages() -> None:
    """The code is shown as words wherever a page shows it (web/errors.py MESSAGES, django.po)."""
    with translation.override("en"):
        english = rule_message("card_kind_by_register", "fallback")
    with translation.override("zh-hans"):
        chinese = rule_message("card_kind_by_register", "fallback")
    assert english.startswith("An Integrated Card or work permit is recorded by the cards register")
    assert "证卡登记" in chinese and "/api/v1/cards" in chinese


def test_another_employers_person_is_still_a_404_whatever_the_kind(world: World) -> None:
    r = _post(
        world.client("hr_a"),
        world.pb.pk,
        {"kind": "integrated_card", "number": "IC77001124", "issued_on": today().isoformat()},
    )
    assert r.status_code == 404


def test_a_residence_permit_is_still_filed(world: World) -> None:
    r = _post(
        world.client("hr_a"),
        world.pa.pk,
        {"kind": "residence_permit", "number": "RP77001125", "issued_on": today().isoformat()},
    )
    assert r.status_code == 201, r.content
    assert r.json()["kind"] == "residence_permit"
