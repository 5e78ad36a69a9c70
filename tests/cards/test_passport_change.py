"""A card change application with a new passport: the number is encrypted at rest, shown by role,
applied on approval; the public verification page never shows a passport number."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client

from expatsi.access import crypto
from expatsi.cards.models import CardApplication
from expatsi.people.models import Passport
from tests.api.conftest import API, World

from .helpers import active_card, today

pytestmark = pytest.mark.django_db

OLD = "C01X00T47"
NEW = "C4J8LM2N1"


@pytest.fixture
def card(world: World) -> Any:
    return active_card(world.a, world.pa)


def _raw_application(pk: int) -> tuple[str, str]:
    with connection.cursor() as c:
        c.execute("SELECT request, passport_number FROM cards_cardapplication WHERE id = %s", [pk])
        row = c.fetchone()
    return str(row[0]), str(row[1])


def _file_change(world: World, card: Any) -> dict[str, Any]:
    r = world.client("hr_a").post(
        f"{API}/cards/{card.pk}/change",
        {
            "changes": {"passport_number": NEW, "passport_country": "DEU"},
            "change_date": today().isoformat(),
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    return dict(r.json())


def test_the_new_number_is_encrypted_shown_by_role_and_applied(world: World, card: Any) -> None:
    filed = _file_change(world, card)
    assert filed["request"]["changes"]["passport_number"] == NEW  # HR: the passport to be current
    request, column = _raw_application(filed["id"])
    assert NEW not in request and "****M2N1" in request
    assert NEW not in column and column.startswith("gAAAAA")
    assert CardApplication.objects.get(pk=filed["id"]).passport_number == NEW

    queue = world.client("agency").get("/cards/queue/")
    assert (
        queue.status_code == 200 and f"Passport number: {NEW}" in queue.content.decode()
    )  # the field in words
    r = world.client("agency").post(
        f"{API}/cards/applications/{filed['id']}/decision",
        {"approve": True},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["request"]["changes"]["passport_number"] == NEW
    assert Passport.objects.get(person=world.pa, is_current=True).number == NEW
    assert {p.number for p in Passport.objects.filter(person=world.pa)} == {OLD, NEW}


def test_the_migration_moves_numbers_out_of_the_request(world: World, card: Any) -> None:
    filed = _file_change(world, card)
    # As stored before the migration: the number in plaintext in the JSON, no encrypted column.
    CardApplication.objects.filter(pk=filed["id"]).update(
        request={"changes": {"passport_number": NEW, "passport_country": "DEU"}}
    )
    with connection.cursor() as c:
        c.execute(
            "UPDATE cards_cardapplication SET passport_number = '' WHERE id = %s", [filed["id"]]
        )
    migration = importlib.import_module(
        "expatsi.cards.migrations.0002_application_passport_number_encrypted"
    )
    migration.encrypt_requested_numbers(django_apps, None)
    request, column = _raw_application(filed["id"])
    assert NEW not in request and NEW not in column
    app = CardApplication.objects.get(pk=filed["id"])
    assert app.passport_number == NEW
    assert app.request["changes"] == {"passport_number": "****M2N1", "passport_country": "DEU"}
    migration.encrypt_requested_numbers(django_apps, None)  # twice: nothing changes
    assert _raw_application(filed["id"]) == (request, column)
    migration.restore_requested_numbers(django_apps, None)
    assert CardApplication.objects.get(pk=filed["id"]).request["changes"]["passport_number"] == NEW


def test_reencrypt_covers_the_application_column(world: World, card: Any) -> None:
    filed = _file_change(world, card)
    crypto.data_key_rotate()
    changed = {f"{c.model}.{c.field}": c.changed for c in crypto.reencrypt()}
    assert changed["cards.CardApplication.passport_number"] == 1
    assert crypto.is_current(_raw_application(filed["id"])[1])


def test_the_public_verification_page_never_shows_the_passport_number(card: Any) -> None:
    html = Client().post("/cards/verify/", {"text": card.tokens.get().text}).content.decode()
    assert 'data-result="valid"' in html
    assert OLD not in html and OLD[-4:] not in html
