"""Idempotency-Key replay and reuse; API tokens shown once, stored hashed, revocable; CSRF."""

from __future__ import annotations

import hashlib
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.access.models import IdempotencyRecord
from expatsi.employers.models import ApiToken, Employer
from expatsi.insurance.models import Registration
from expatsi.people.models import EntryExit, Person
from tests.api.conftest import API, USCC_NEW_SH, World, hire_payload, today

NEW_EMPLOYER = {"name": "Acme Shanghai Ltd.", "uscc": USCC_NEW_SH, "region_code": "310000"}


def post(client, path: str, body: dict, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        API + path, json.dumps(body), content_type="application/json", headers=headers
    )


def test_same_key_same_body_replays_without_creating_again(world: World) -> None:
    agency = world.client("agency")
    first = post(agency, "/employers", NEW_EMPLOYER, key="k-1")
    assert first.status_code == 201
    before = Employer.objects.count()
    second = post(agency, "/employers", NEW_EMPLOYER, key="k-1")
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Employer.objects.count() == before


def test_same_key_different_body_is_422(world: World) -> None:
    agency = world.client("agency")
    assert post(agency, "/employers", NEW_EMPLOYER, key="k-2").status_code == 201
    before = Employer.objects.count()
    other = post(agency, "/employers", {**NEW_EMPLOYER, "name": "Another name"}, key="k-2")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["field"] == "Idempotency-Key"
    assert Employer.objects.count() == before


def test_same_key_on_another_path_is_422(world: World) -> None:
    hr = world.client("hr_a")
    assert (
        post(hr, f"/employers/{world.a.pk}/api-tokens", {"name": "x"}, key="k-3").status_code == 201
    )
    r = post(hr, "/registrations", {"employment_id": world.ea2.pk}, key="k-3")
    assert r.status_code == 422


def test_keys_are_per_principal(world: World) -> None:
    body = hire_payload(world.a.pk)
    assert post(world.client("hr_a"), "/registrations/hire", body, key="shared").status_code == 201
    # The same key from the token is another principal: its own request, answered on its own.
    body2 = hire_payload(world.a.pk)
    r = post(world.client("token_a"), "/registrations/hire", body2, key="shared")
    assert r.status_code == 201
    assert "Idempotent-Replayed" not in r


def test_a_failed_request_does_not_burn_the_key(world: World) -> None:
    hr = world.client("hr_a")
    bad = hire_payload(world.a.pk, contract_wage="lots")
    assert post(hr, "/registrations/hire", bad, key="k-4").status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
    good = {**bad, "contract_wage": "30000"}
    # The person is on file with their card before the hire (hire_payload): one registration, no
    # second person.
    people, registrations = Person.objects.count(), Registration.objects.count()
    assert post(hr, "/registrations/hire", good, key="k-4").status_code == 201
    assert post(hr, "/registrations/hire", good, key="k-4").status_code == 201
    assert Person.objects.count() == people
    assert Registration.objects.count() == registrations + 1


def test_hire_replay_creates_one_person(world: World) -> None:
    body = hire_payload(world.a.pk)  # the person comes on file with their card, as in production
    people, registrations = Person.objects.count(), Registration.objects.count()
    first = post(world.client("token_a"), "/employees", body, key="hire-1")
    again = post(world.client("token_a"), "/employees", body, key="hire-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Person.objects.count() == people
    assert Registration.objects.count() == registrations + 1


def test_csv_import_replay_and_reimport_add_nothing(world: World) -> None:
    text = (
        "passport_country,passport_number,date,direction,port\n"
        f"JPN,TK1234567,{today().isoformat()},entry,Pudong\n"
        f"DEU,c01x00t47,{today().isoformat()},exit,Capital Airport\n"
        f"DEU,C01X00T47,{today().isoformat()},exit,Capital Airport\n"  # the same crossing twice in one file
    )
    agency = world.client("agency")

    def send(key: str | None = None):
        headers = {"Idempotency-Key": key} if key else {}
        upload = SimpleUploadedFile("crossings.csv", text.encode(), "text/csv")
        return agency.post(f"{API}/entry-exit/imports", {"file": upload}, headers=headers)

    first = send("import-1")
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 2
    assert EntryExit.objects.count() == 2
    replay = send("import-1")
    assert replay["Idempotent-Replayed"] == "true"
    again = send()  # no key: the rows themselves are idempotent
    assert again.status_code == 200
    assert again.json()["created"] == 0
    assert again.json()["skipped"] == 3
    assert EntryExit.objects.count() == 2


def test_token_secret_shown_once_and_stored_hashed(world: World) -> None:
    hr = world.client("hr_a")
    r = post(hr, f"/employers/{world.a.pk}/api-tokens", {"name": "payroll"}, key="tok-1")
    assert r.status_code == 201
    secret = r.json()["secret"]
    assert secret.startswith("exp_")
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.digest != secret
    assert secret not in json.dumps(list(ApiToken.objects.values()), default=str)
    listed = hr.get(f"{API}/employers/{world.a.pk}/api-tokens").json()["items"]
    assert all("secret" not in t for t in listed)
    assert r.json()["id"] in {t["id"] for t in listed}
    # A replay does not show the secret again, and the idempotency store never held it.
    replay = post(hr, f"/employers/{world.a.pk}/api-tokens", {"name": "payroll"}, key="tok-1")
    assert replay.status_code == 201
    assert replay.json()["secret"] is None
    assert replay.json()["id"] == token.pk
    assert secret not in IdempotencyRecord.objects.get(key="tok-1").response_body
    # The new secret works.
    assert (
        Client(headers={"Authorization": f"Bearer {secret}"}).get(f"{API}/employees").status_code
        == 200
    )


def test_revoked_token_is_401(world: World) -> None:
    token_client = world.client("token_a")
    assert token_client.get(f"{API}/employees").status_code == 200
    r = post(
        world.client("hr_a"), f"/employers/{world.a.pk}/api-tokens/{world.token_a.pk}/revoke", {}
    )
    assert r.status_code == 200
    assert r.json()["revoked_at"] is not None
    denied = token_client.get(f"{API}/employees")
    assert denied.status_code == 401
    assert denied.json()["code"] == "invalid_token"
    assert denied.json()["field"] == "Authorization"


def test_a_revoked_token_gets_no_replay(world: World) -> None:
    token_client = world.client("token_a")
    first = post(token_client, "/registrations", {"employment_id": world.ea2.pk}, key="r-1")
    assert first.status_code == 201
    world.token_a.revoked_at = world.token_a.created_at
    world.token_a.save()
    again = post(token_client, "/registrations", {"employment_id": world.ea2.pk}, key="r-1")
    assert again.status_code == 401
    assert "Idempotent-Replayed" not in again


def test_bad_or_foreign_authorization_is_401_even_with_a_session(world: World) -> None:
    hr = world.client("hr_a")  # signed in, but the header speaks for the request
    for value in ("Bearer exp_nope", "Bearer nope", "Basic abc", "Bearer"):
        r = hr.get(f"{API}/employees", headers={"Authorization": value})
        assert r.status_code == 401, value
        assert set(r.json()) >= {"code", "message", "field"}


def test_token_of_a_is_not_a_token_of_b(world: World) -> None:
    r = world.client("token_a").get(f"{API}/employers/{world.b.pk}/api-tokens")
    assert r.status_code == 404


def test_session_posts_need_csrf_but_token_posts_do_not(world: World) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["hr_a"])
    assert browser.get(f"{API}/employees").status_code == 200  # safe method: no CSRF needed
    refused = browser.post(
        f"{API}/employers/{world.a.pk}/api-tokens", {"name": "x"}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert not ApiToken.objects.filter(name="x").exists()
    csrf = "A" * 32
    browser.cookies["csrftoken"] = csrf
    ok = browser.post(
        f"{API}/employers/{world.a.pk}/api-tokens",
        {"name": "x"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert ok.status_code == 201, ok.content
    token = Client(
        enforce_csrf_checks=True, headers={"Authorization": f"Bearer {world.token_a_secret}"}
    )
    r = token.post(
        f"{API}/registrations", {"employment_id": world.ea2.pk}, content_type="application/json"
    )
    assert r.status_code == 201


def test_anonymous_is_401_in_the_error_shape(world: World) -> None:
    r = Client().get(f"{API}/employees")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"
