"""A hire (API, portal form, bulk import) whose passport or document number is on file for someone
else is refused without saying who that is, where they work, or that the number is theirs: HR
learns only that this number cannot be registered with these details, and whom to ask."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.employers.models import Employer
from expatsi.insurance.imports import hires_import
from expatsi.insurance.models import Registration
from expatsi.people.models import Passport, Person
from tests.api.conftest import hire_payload
from tests.portal.factories import PASSWORD, make_employer, make_hire, make_hr

pytestmark = pytest.mark.django_db

API = "/api/v1"
OTHER_NAME = "Müller"
LEAKS = ("another person", "already registered", "belongs to", "müller", "MÜLLER")


@pytest.fixture
def world() -> dict[str, Any]:
    a = make_employer(1, name="Rhine Precision (Beijing) Co., Ltd.")
    b = make_employer(2, name="Sakura Trading Co., Ltd.")
    hr_a, hr_b = make_hr(a, "hr-a"), make_hr(b, "hr-b")
    reg = make_hire(a, hr_a, 1, family=OTHER_NAME)
    mine = make_hire(b, hr_b, 2, family="Dupont")
    return {"a": a, "b": b, "hr_b": hr_b, "reg": reg, "mine": mine}


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _assert_neutral(text: str, a: Employer, reg: Registration) -> None:
    for word in (*LEAKS, a.name, a.uscc):
        assert word not in text, (word, text)
    assert f'"id": {reg.person_id}' not in text
    assert f"person {reg.person_id}" not in text


def _stranger(passport: str = "C01X00001") -> dict[str, Any]:
    return {
        "family_name": "Intruder",
        "given_names": "Eve",
        "sex": "female",
        "birth_date": "1991-01-01",
        "nationality": "DEU",
        "passport_number": passport,
    }


@pytest.mark.parametrize("path", ["/registrations/hire", "/employees"])
def test_api_hire_with_a_passport_on_file_elsewhere_names_nothing(world, path) -> None:
    body = hire_payload(world["b"].pk, person=_stranger())
    before = Registration.objects.count()
    r = _client(world["hr_b"]).post(f"{API}{path}", body, content_type="application/json")
    assert r.status_code == 409, r.content
    data = r.json()
    assert data["code"] == "passport_unavailable"
    assert data["field"] == "passport_number"
    assert "agency" in data["message"]
    _assert_neutral(r.content.decode(), world["a"], world["reg"])
    assert Registration.objects.count() == before


def test_api_hire_with_a_document_number_on_file_elsewhere_names_nothing(world) -> None:
    permit = world["reg"].permit.number
    body = hire_payload(world["b"].pk, permit_number=permit)
    r = _client(world["hr_b"]).post(
        f"{API}/registrations/hire", body, content_type="application/json"
    )
    # One card number (issue #10): the hire names a card, and another person's card is refused
    # on the number given, saying nothing of whose it is.
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "card_of_another_person"
    assert r.json()["field"] == "permit_number"
    _assert_neutral(r.content.decode(), world["a"], world["reg"])


def test_api_passport_replace_with_a_passport_on_file_elsewhere_names_nothing(world) -> None:
    person = world["mine"].person
    r = _client(world["hr_b"]).post(
        f"{API}/employees/{person.pk}/passports",
        {"country": "DEU", "number": "C01X00001"},
        content_type="application/json",
    )
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "passport_unavailable"
    _assert_neutral(r.content.decode(), world["a"], world["reg"])
    assert Passport.objects.get(person=person, is_current=True).number == "C01X00002"


@pytest.mark.parametrize("language", ["", "/zh-hans"])
def test_portal_hire_form_says_the_same_neutral_thing(world, language) -> None:
    c = Client()
    assert c.login(username="hr-b", password=PASSWORD)
    body = hire_payload(world["b"].pk)
    form = {
        "employer": world["b"].pk,
        **_stranger(),
        "passport_country": "",
        "chinese_name": "",
        "email": "",
        "permit_kind": "integrated_card",
        "permit_number": body["permit_number"],
        "permit_issued_on": body["permit_issued_on"],
        "permit_valid_to": body["permit_valid_to"],
        "start_date": body["start_date"],
        "position": "Engineer",
        "monthly_wage": "25000.00",
    }
    r = c.post(f"{language}/hires/new/", form)
    assert r.status_code == 400
    text = r.content.decode()
    expected = "请联系社会保险经办机构" if language else "contact the social insurance agency"
    assert expected in text
    _assert_neutral(text, world["a"], world["reg"])
    assert not Person.objects.filter(family_name="Intruder").exists()


def test_bulk_import_says_the_same_neutral_thing(world) -> None:
    row = {
        "family_name": "Intruder",
        "given_names": "Eve",
        "sex": "female",
        "birth_date": "1991-01-01",
        "nationality": "DEU",
        "passport_number": "C01X00001",
        "permit_kind": "integrated_card",
        "permit_number": "IC99999999",
        "permit_issued_on": world["mine"].permit_issued_on.isoformat(),
        "start_date": world["mine"].permit_issued_on.isoformat(),
        "position": "Engineer",
        "monthly_wage": "25000",
    }
    report = hires_import(
        actor=actor_for_user(world["hr_b"]), employer=world["b"], rows=[row], dry_run=True
    )
    assert [(e.column, e.code) for e in report.errors] == [
        ("passport_number", "passport_unavailable")
    ]
    _assert_neutral(" ".join(e.message for e in report.errors), world["a"], world["reg"])
