"""Bad input: a 4xx naming the field at fault, and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from expatsi.employers.models import Employer
from expatsi.insurance.models import Employment, Registration
from expatsi.people.models import Document, EntryExit, Passport, Person
from tests.api.conftest import API, USCC_NEW_SH, World, hire_payload, today

MODELS = (Employer, Person, Passport, Document, Employment, Registration, EntryExit)


@contextmanager
def nothing_written() -> Iterator[None]:
    before = {m.__name__: m.objects.count() for m in MODELS}
    yield
    assert {m.__name__: m.objects.count() for m in MODELS} == before


def post(client, path: str, body: dict):
    return client.post(API + path, body, content_type="application/json")


def assert_error(response, status: int, field: str, code: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field
    assert body["message"]
    if code:
        assert body["code"] == code


@pytest.mark.parametrize(
    ("uscc", "code"),
    [
        ("91310115MA1H7GQ2TX", "invalid_uscc"),  # wrong check character
        ("9131011", "invalid_uscc"),  # too short
        ("91310115MA1H7GQ2TO", "invalid_uscc"),  # O is not in the alphabet
    ],
)
def test_malformed_uscc(world: World, uscc: str, code: str) -> None:
    with nothing_written():
        r = post(
            world.client("agency"),
            "/employers",
            {"name": "Acme", "uscc": uscc, "region_code": "310000"},
        )
    assert_error(r, 400, "uscc", code)


def test_duplicate_uscc_is_a_conflict(world: World) -> None:
    with nothing_written():
        r = post(
            world.client("agency"),
            "/employers",
            {"name": "Again", "uscc": world.a.uscc, "region_code": "110000"},
        )
    assert_error(r, 409, "uscc", "duplicate_uscc")


def test_unknown_region(world: World) -> None:
    with nothing_written():
        r = post(
            world.client("agency"),
            "/employers",
            {"name": "Acme", "uscc": USCC_NEW_SH, "region_code": "999999"},
        )
    assert_error(r, 400, "region_code")


def test_unknown_nationality_in_hire(world: World) -> None:
    body = hire_payload(world.a.pk)
    body["person"]["nationality"] = "XYZ"
    with nothing_written():
        r = post(world.client("hr_a"), "/registrations/hire", body)
    assert_error(r, 400, "nationality")


def test_duplicate_passport_in_hire_is_a_conflict_and_writes_nothing(world: World) -> None:
    body = hire_payload(world.a.pk)
    body["person"]["passport_number"] = "TK1234567"  # Tanaka's passport, another name
    body["person"]["passport_country"] = "JPN"
    with nothing_written():
        r = post(world.client("hr_a"), "/registrations/hire", body)
    assert_error(r, 409, "passport_number", "passport_unavailable")
    assert "Tanaka" not in r.content.decode()


def test_duplicate_passport_on_replace(world: World) -> None:
    with nothing_written():
        r = post(
            world.client("hr_a"),
            f"/employees/{world.pa2.pk}/passports",
            {"country": "DEU", "number": "C01X00T47"},
        )
    assert_error(r, 409, "passport_number", "passport_unavailable")
    assert Passport.objects.get(person=world.pa2, is_current=True).number == "561234987"


def test_a_bad_document_late_in_the_hire_rolls_back_the_person(world: World) -> None:
    body = hire_payload(world.a.pk, residence_permit_number="IC110001")  # not a clash: other kind
    body["residence_permit_valid_to"] = (
        today() - timedelta(days=365)
    ).isoformat()  # ends before it starts
    with nothing_written():
        r = post(world.client("hr_a"), "/registrations/hire", body)
    assert_error(r, 400, "residence_permit_valid_to", "end_before_start")


def test_employment_end_before_start(world: World) -> None:
    with nothing_written():
        r = post(
            world.client("hr_a"),
            f"/employments/{world.ea.pk}/end",
            {"end_date": (world.ea.start_date - timedelta(days=1)).isoformat()},
        )
    assert_error(r, 400, "end_date", "end_before_start")
    world.ea.refresh_from_db()
    assert world.ea.end_date is not None and world.ea.end_date > today()


def test_employment_start_with_end_before_start(world: World) -> None:
    with nothing_written():
        r = post(
            world.client("hr_a"),
            "/employments",
            {
                "person_id": world.pa.pk,
                "employer_id": world.a.pk,
                "start_date": "2031-01-01",
                "end_date": "2030-12-31",
                "position": "Engineer",
                "contract_wage": "30000",
            },
        )
    assert_error(r, 400, "end_date", "end_before_start")


@pytest.mark.parametrize("wage", ["30000.123", "abc", "-5"])
def test_wage_must_be_yuan(world: World, wage: str) -> None:
    body = hire_payload(world.a.pk, contract_wage=wage)  # the card on file first
    with nothing_written():
        r = post(world.client("hr_a"), "/registrations/hire", body)
    assert_error(r, 400, "contract_wage")


def test_missing_and_malformed_fields_are_422_with_the_field(world: World) -> None:
    body = hire_payload(world.a.pk)
    del body["start_date"]
    with nothing_written():
        r = post(world.client("hr_a"), "/registrations/hire", body)
    assert_error(r, 422, "start_date", "invalid_input")
    body = hire_payload(world.a.pk, permit_issued_on="31/12/2025")
    with nothing_written():
        r = post(world.client("hr_a"), "/registrations/hire", body)
    assert_error(r, 422, "permit_issued_on", "invalid_input")


def test_unknown_filter_value_is_422(world: World) -> None:
    r = world.client("agency").get(f"{API}/registrations", {"deadline_status": "soonish"})
    assert_error(r, 422, "deadline_status")


def test_page_size_has_a_ceiling(world: World) -> None:
    r = world.client("agency").get(f"{API}/employees", {"limit": 100_000})
    assert_error(r, 422, "limit")


def _csv(text: str) -> dict:
    return {"file": SimpleUploadedFile("crossings.csv", text.encode(), "text/csv")}


def test_csv_with_a_bad_row_lists_every_error_and_writes_nothing(world: World) -> None:
    text = (
        "passport_country,passport_number,date,direction,port\n"
        "JPN,TK1234567,2026-03-01,entry,Pudong\n"
        "DEU,C01X00T47,2026-02-30,exit,Capital Airport\n"  # no 30 February
        "XXX,C01X00T47,2026-03-02,sideways,Capital Airport\n"  # unknown country, bad direction
        "USA,999999999,2026-03-03,entry,Pudong\n"  # nobody on file
    )
    with nothing_written():
        r = world.client("agency").post(f"{API}/entry-exit/imports", _csv(text))
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "invalid_rows"
    assert body["field"] == "file"
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert found == {(3, "date"), (4, "passport_country"), (4, "direction"), (5, "passport_number")}
    assert all(e["message"] for e in body["errors"])


def test_csv_with_a_wrong_header(world: World) -> None:
    with nothing_written():
        r = world.client("agency").post(
            f"{API}/entry-exit/imports", _csv("passport,date,direction\nX,2026-01-01,entry\n")
        )
    assert r.status_code == 400
    columns = {e["column"] for e in r.json()["errors"] if e["row"] == 1}
    assert {"passport_country", "passport_number", "port"} <= columns


def test_csv_crossing_of_someone_outside_the_officers_regions_is_not_found(world: World) -> None:
    text = f"passport_country,passport_number,date,direction,port\nDEU,C01X00T47,{today().isoformat()},exit,Capital\n"
    with nothing_written():
        r = world.client("agency_sh").post(f"{API}/entry-exit/imports", _csv(text))
    assert r.status_code == 400
    assert r.json()["errors"][0]["column"] == "passport_number"
