"""What each role sees in the lists: its own tenant's rows and nothing of another's."""

from __future__ import annotations

import pytest

from expatsi.audit.models import AuditEvent
from tests.api.conftest import API, World


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("agency", {"pa", "pa2", "pb"}),
        ("agency_sh", {"pb"}),
        ("hr_a", {"pa", "pa2"}),
        ("hr_b", {"pb"}),
        ("token_a", {"pa", "pa2"}),
        ("self", {"pa"}),
        ("other", {"pb"}),
    ],
)
def test_employee_list_shows_only_the_callers_people(
    world: World, role: str, expected: set[str]
) -> None:
    seen = ids(world.client(role).get(f"{API}/employees"))
    assert seen == {getattr(world, name).pk for name in expected}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("agency", {"a", "b"}),
        ("agency_sh", {"b"}),
        ("hr_a", {"a"}),
        ("hr_b", {"b"}),
        ("token_a", {"a"}),
        ("self", {"a"}),
        ("other", {"b"}),
    ],
)
def test_employer_list_shows_only_the_callers_employers(
    world: World, role: str, expected: set[str]
) -> None:
    seen = ids(world.client(role).get(f"{API}/employers"))
    assert seen == {getattr(world, name).pk for name in expected}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("agency", {"ra", "rb"}),
        ("agency_sh", {"rb"}),
        ("hr_a", {"ra"}),
        ("hr_b", {"rb"}),
        ("token_a", {"ra"}),
        ("self", {"ra"}),
        ("other", {"rb"}),
    ],
)
def test_registration_list_shows_only_the_callers_registrations(
    world: World, role: str, expected: set[str]
) -> None:
    seen = ids(world.client(role).get(f"{API}/registrations"))
    assert seen == {getattr(world, name).pk for name in expected}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("agency", {"ea", "ea2", "eb"}),
        ("agency_sh", {"eb"}),
        ("hr_a", {"ea", "ea2"}),
        ("hr_b", {"eb"}),
        ("token_a", {"ea", "ea2"}),
        ("self", {"ea"}),
        ("other", {"eb"}),
    ],
)
def test_employment_list_shows_only_the_callers_employments(
    world: World, role: str, expected: set[str]
) -> None:
    seen = ids(world.client(role).get(f"{API}/employments"))
    assert seen == {getattr(world, name).pk for name in expected}


@pytest.mark.parametrize("q", ["C01X00T47", "Schmidt", "schm"])
def test_search_does_not_reach_into_another_tenant(world: World, q: str) -> None:
    assert ids(world.client("hr_b").get(f"{API}/employees", {"q": q})) == set()
    assert ids(world.client("hr_a").get(f"{API}/employees", {"q": q})) == {world.pa.pk}


def test_search_by_ssn_and_by_an_earlier_passport(world: World) -> None:
    agency = world.client("agency")
    assert (
        agency.post(
            f"{API}/registrations/{world.ra.pk}/accept", {}, content_type="application/json"
        ).status_code
        == 200
    )
    world.pa.refresh_from_db()
    assert ids(agency.get(f"{API}/employees", {"q": world.pa.ssn})) == {world.pa.pk}
    r = agency.post(
        f"{API}/employees/{world.pa.pk}/passports",
        {"country": "DEU", "number": "C4J8LM2N1"},
        content_type="application/json",
    )
    assert r.status_code == 201
    assert ids(agency.get(f"{API}/employees", {"q": "C01X00T47"})) == {
        world.pa.pk
    }  # the old one still finds her
    listed = agency.get(f"{API}/employees", {"q": "C4J8LM2N1"}).json()["items"][0]
    assert listed["passport_number"] == "C4J8LM2N1"


def test_hr_of_b_never_sees_a_person_of_a_even_by_id(world: World) -> None:
    r = world.client("hr_b").get(f"{API}/employees/{world.pa.pk}")
    assert r.status_code == 404
    assert "Schmidt" not in r.content.decode()
    assert r.json()["code"] == "not_found"


def test_a_person_employed_by_both_shows_each_hr_only_its_own_employment(world: World) -> None:
    from tests.api.conftest import hire_payload

    rehire = hire_payload(
        world.b.pk,
        person={
            "family_name": "Schmidt",
            "given_names": "Anna",
            "sex": "female",
            "birth_date": "1985-03-14",
            "nationality": "DEU",
            "passport_number": "C01X00T47",
        },
        permit_number="IC110001",  # the card she holds (one card number)
    )
    r = world.client("hr_b").post(f"{API}/employees", rehire, content_type="application/json")
    assert r.status_code == 201, r.content
    record = r.json()
    assert record["id"] == world.pa.pk  # the same person, found by passport
    assert {e["employer_id"] for e in record["employments"]} == {world.b.pk}
    assert {g["employer_id"] for g in record["registrations"]} == {world.b.pk}
    a_view = world.client("hr_a").get(f"{API}/employees/{world.pa.pk}").json()
    assert {e["employer_id"] for e in a_view["employments"]} == {world.a.pk}
    agency_view = world.client("agency").get(f"{API}/employees/{world.pa.pk}").json()
    assert {e["employer_id"] for e in agency_view["employments"]} == {world.a.pk, world.b.pk}


def test_reading_a_record_is_audited_and_a_refused_read_is_not(world: World) -> None:
    before = AuditEvent.objects.filter(action="person.read", person_id=world.pa.pk).count()
    assert world.client("hr_a").get(f"{API}/employees/{world.pa.pk}").status_code == 200
    event = AuditEvent.objects.filter(action="person.read", person_id=world.pa.pk).last()
    assert event is not None
    assert event.actor_user_id == world.users["hr_a"].pk
    assert event.actor_kind == "hr"
    assert event.ip == "127.0.0.1"
    assert world.client("hr_b").get(f"{API}/employees/{world.pa.pk}").status_code == 404
    assert (
        AuditEvent.objects.filter(action="person.read", person_id=world.pa.pk).count() == before + 1
    )


def test_token_reads_are_audited_as_the_token(world: World) -> None:
    assert world.client("token_a").get(f"{API}/employees/{world.pa.pk}").status_code == 200
    event = AuditEvent.objects.filter(action="person.read").last()
    assert event is not None
    assert event.actor_label.startswith(f"token {world.token_a.prefix}")
