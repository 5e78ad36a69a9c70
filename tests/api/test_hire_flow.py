"""The one-flow hire, the agency's decision, the full record, and a social security number for life."""

from __future__ import annotations

from datetime import timedelta

from expatsi.access.crypto import search_hashes
from expatsi.insurance.models import Registration
from expatsi.people.models import Person
from expatsi.rules.identifiers import check_id
from tests.api.conftest import API, World, hire_payload, today


def post(client, path: str, body: dict) -> object:
    return client.post(API + path, body, content_type="application/json")


def test_hire_then_accept_gives_a_valid_ssn_kept_when_rehired_elsewhere(world: World) -> None:
    person = {
        "family_name": "Martin",
        "given_names": "Lucas",
        "sex": "male",
        "birth_date": "1991-09-05",
        "nationality": "CAN",
        "passport_number": "AB123456",
    }
    first = hire_payload(world.a.pk, person=person)
    r = post(world.client("hr_a"), "/registrations/hire", first)
    assert r.status_code == 201, r.content
    reg = r.json()
    assert reg["status"] == "submitted"
    issued = today() - timedelta(days=10)
    assert (
        reg["deadline"] >= (issued + timedelta(days=30)).isoformat()
    )  # 30 days, later if a holiday ends it
    assert reg["deadline_status"]["status"] in ("on_time", "due_soon")

    accepted = post(world.client("agency"), f"/registrations/{reg['id']}/accept", {})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    ssn = Person.objects.get(pk=reg["person_id"]).ssn
    assert ssn is not None
    assert check_id(ssn, "foreigner_ssn").valid

    record = world.client("hr_a").get(f"{API}/employees/{reg['person_id']}").json()
    assert record["ssn"] == ssn
    assert record["registrations"][0]["deadline_status"]["status"] == "registered_on_time"

    # Leaves A, later joins B in Shanghai: the same person, the same number.
    end = post(
        world.client("hr_a"),
        f"/employments/{reg['employment_id']}/end",
        {"end_date": (today() - timedelta(days=1)).isoformat()},
    )
    assert end.status_code == 200, end.content
    # One card number: the hire at B names the card the person holds.
    again = hire_payload(world.b.pk, person=person, permit_number=first["permit_number"])
    r2 = post(world.client("hr_b"), "/registrations/hire", again)
    assert r2.status_code == 201, r2.content
    assert r2.json()["person_id"] == reg["person_id"]
    assert (
        post(world.client("agency_sh"), f"/registrations/{r2.json()['id']}/accept", {}).status_code
        == 200
    )
    assert Person.objects.get(pk=reg["person_id"]).ssn == ssn
    assert Person.objects.filter(passports__number_hash__in=search_hashes("AB123456")).count() == 1


def test_full_record_has_documents_eligibility_and_deadline_status(world: World) -> None:
    r = world.client("self").get(f"{API}/employees/me")
    assert r.status_code == 200
    record = r.json()
    assert record["id"] == world.pa.pk
    assert record["passports"][0] == {
        **record["passports"][0],
        "country": "DEU",
        "number": "C01X00T47",
        "is_current": True,
    }
    assert {d["kind"] for d in record["documents"]} == {"integrated_card", "residence_permit"}
    assert record["eligibility"]["eligible"] is True
    assert record["eligibility"]["basis"] == "employment_and_residence"
    assert record["employments"][0]["contract_wage"] == "30000.00"
    assert record["registrations"][0]["deadline_status"]["status"] in ("on_time", "due_soon")
    assert record["ssn"] is None


def test_eligibility_names_the_failing_condition(world: World) -> None:
    record = world.client("agency").get(f"{API}/employees/{world.pa2.pk}").json()
    assert record["eligibility"]["eligible"] is False
    assert record["eligibility"]["failing"] == ["no_valid_residence_permit"]


def test_employment_change_opens_a_new_version_and_keeps_the_old(world: World) -> None:
    on = today() + timedelta(days=30)
    r = post(
        world.client("hr_a"),
        f"/employments/{world.ea.pk}/change",
        {"on": on.isoformat(), "contract_wage": "35000.50", "position": "Lead engineer"},
    )
    assert r.status_code == 201, r.content
    new = r.json()
    assert new["id"] != world.ea.pk
    assert new["contract_wage"] == "35000.50"
    assert new["start_date"] == on.isoformat()
    assert new["engagement_id"] == world.ea.pk
    old = world.client("hr_a").get(f"{API}/employments/{world.ea.pk}").json()
    assert old["end_date"] == (on - timedelta(days=1)).isoformat()
    assert old["end_reason"] == "changed"
    assert old["contract_wage"] == "30000.00"


def test_submit_then_reject_with_reason(world: World) -> None:
    r = post(world.client("token_a"), "/registrations", {"employment_id": world.ea2.pk})
    assert r.status_code == 201, r.content
    rejected = post(
        world.client("agency"),
        f"/registrations/{r.json()['id']}/reject",
        {"reason": "permit expired"},
    )
    assert rejected.status_code == 200
    assert rejected.json()["rejection_reason"] == "permit expired"
    assert rejected.json()["deadline_status"]["status"] == "rejected"
    again = post(world.client("agency"), f"/registrations/{r.json()['id']}/accept", {})
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_state"


def test_accepting_twice_is_a_conflict(world: World) -> None:
    agency = world.client("agency")
    assert post(agency, f"/registrations/{world.ra.pk}/accept", {}).status_code == 200
    second = post(agency, f"/registrations/{world.ra.pk}/accept", {})
    assert second.status_code == 409
    assert second.json()["field"] == "status"
    assert Registration.objects.get(pk=world.ra.pk).status == "accepted"


def test_certificate_of_coverage_add_and_list(world: World) -> None:
    body = {
        "number": "DE-2026-000123",
        "country": "DEU",
        "valid_from": today().isoformat(),
        "valid_to": (today() + timedelta(days=700)).isoformat(),
    }
    assert (
        post(world.client("hr_a"), f"/employees/{world.pa.pk}/certificates", body).status_code
        == 201
    )
    listed = world.client("self").get(f"{API}/employees/{world.pa.pk}/certificates").json()
    assert listed["count"] == 1
    assert listed["items"][0]["number"] == "DE-2026-000123"
    usa = post(
        world.client("hr_a"),
        f"/employees/{world.pa.pk}/certificates",
        {**body, "country": "USA", "number": "X1"},
    )
    assert usa.status_code == 400
    assert usa.json() == {**usa.json(), "code": "no_agreement", "field": "country"}
