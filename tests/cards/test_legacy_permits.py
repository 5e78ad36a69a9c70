"""Older physical permits (issue 10): a consistent card page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation

from expatsi.access.actors import SYSTEM
from expatsi.cards import services
from expatsi.cards.models import Card
from expatsi.web.templatetags.web import long_date
from tests.api.conftest import World

pytestmark = pytest.mark.django_db

PERMIT = "110000201700012345"  # for pa2, who holds no card (pa holds one from the hire)


def legacy(world: World, valid_to: date) -> Card:
    return services.legacy_permit_import(
        actor=SYSTEM,
        permit=services.LegacyPermit(
            permit_number=PERMIT,
            person=world.pa2,
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


def _one(world: World, **over: str) -> dict[str, str]:
    from expatsi.people.models import Passport

    passport = Passport.objects.get(person=world.pa2, is_current=True)
    data = {
        "permit_number": PERMIT,
        "passport_country": passport.country,
        "passport_number": passport.number,
        "employer_uscc": world.a.uscc,
        "category": "B",
        "position": "Teacher",
        "valid_from": "2023-03-01",
        "valid_to": (date.today() + timedelta(days=200)).isoformat(),
    } | over
    return {f"one-{k}": v for k, v in data.items()}


def test_agency_page_brings_one_permit_on_file(world: World) -> None:
    agency = world.client("agency")
    assert agency.get("/cards/legacy/").status_code == 200
    assert "旧版实体工作许可证" in agency.get("/zh-hans/cards/legacy/").content.decode()
    r = agency.post("/cards/legacy/", _one(world))
    card = Card.objects.get(legacy=True)
    assert r.status_code == 302 and r["Location"].endswith(f"/cards/{card.pk}/")
    bad = agency.post("/cards/legacy/", _one(world, permit_number="12345", valid_to="2024-01-01"))
    assert bad.status_code == 400
    assert Card.objects.filter(legacy=True).count() == 1


def test_a_bad_row_is_shown_with_its_field(world: World) -> None:
    r = world.client("agency").post("/cards/legacy/", _one(world, permit_number="12345"))
    assert r.status_code == 400
    assert 'id="id_one-permit_number_error"' in r.content.decode()
    assert not Card.objects.filter(legacy=True).exists()


def test_agency_page_imports_a_file_with_dry_run(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    row = _one(world)
    header = ",".join(k.removeprefix("one-") for k in row)
    body = f"{header}\n{','.join(row.values())}\n".encode()
    agency = world.client("agency")
    dry = agency.post(
        "/cards/legacy/",
        {"file-file": SimpleUploadedFile("p.csv", body, "text/csv"), "file-dry_run": "on"},
    )
    assert dry.status_code == 200 and 'id="legacy-report"' in dry.content.decode()
    assert not Card.objects.filter(legacy=True).exists()
    done = agency.post("/cards/legacy/", {"file-file": SimpleUploadedFile("p.csv", body)})
    assert done.status_code == 200 and Card.objects.filter(legacy=True).count() == 1


@pytest.mark.parametrize("role", ["hr_a", "self", "other"])
def test_only_agency_staff_reach_the_page(world: World, role: str) -> None:
    assert world.client(role).get("/cards/legacy/").status_code == 403
