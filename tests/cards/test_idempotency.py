"""Card writes honour ``Idempotency-Key`` like every other write (issue 10): a retry with the same
key and body is answered again, not refused with 409 and not filed twice."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from expatsi.cards.models import CardApplication, CardEvent
from tests.api.conftest import API, World

from .helpers import active_card, today

pytestmark = pytest.mark.django_db


def post(client, path: str, body: dict, key: str):
    return client.post(
        API + path,
        json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


@pytest.fixture
def card(world: World):
    return active_card(world.a, world.pa)


def test_retried_change_is_replayed_not_refused(world: World, card) -> None:
    hr = world.client("hr_a")
    body = {"changes": {"position": "Lead engineer"}, "change_date": today().isoformat()}
    first = post(hr, f"/cards/{card.pk}/change", body, "chg-1")
    assert first.status_code == 201, first.content
    second = post(hr, f"/cards/{card.pk}/change", body, "chg-1")
    assert second.status_code == 201, second.content  # was 409 application_open
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert CardApplication.objects.filter(card=card, kind="change").count() == 1


def test_same_key_other_body_is_422(world: World, card) -> None:
    hr = world.client("hr_a")
    body = {"reason": "contract_ended", "end_date": today().isoformat()}
    assert post(hr, f"/cards/{card.pk}/deregistration", body, "dereg-1").status_code == 201
    other = post(
        hr,
        f"/cards/{card.pk}/deregistration",
        {**body, "end_date": (today() + timedelta(days=1)).isoformat()},
        "dereg-1",
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert CardApplication.objects.filter(card=card, kind="deregistration").count() == 1


def test_retried_decision_is_replayed(world: World, card) -> None:
    hr = world.client("hr_a")
    body = {"changes": {"position": "Lead engineer"}, "change_date": today().isoformat()}
    app_id = post(hr, f"/cards/{card.pk}/change", body, "chg-2").json()["id"]
    agency = world.client("agency")
    decision = {"approve": True, "reason": ""}
    first = post(agency, f"/cards/applications/{app_id}/decision", decision, "dec-1")
    assert first.status_code == 200, first.content
    events = CardEvent.objects.filter(card=card).count()
    second = post(agency, f"/cards/applications/{app_id}/decision", decision, "dec-1")
    assert second.status_code == 200 and second.json() == first.json()
    assert CardEvent.objects.filter(card=card).count() == events
