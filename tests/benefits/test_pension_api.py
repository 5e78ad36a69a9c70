"""/api/v1/benefits pensions and proofs of life: every operation × role (agency of the region,
agency of another region, HR and its API token, the pensioner, another person, anonymous), the
application refused short of the minimum, a certificate upload, and the monthly run twice."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.benefits import proof_of_life
from expatsi.benefits.models import Payout, Pension
from expatsi.employers.services import api_token_create
from expatsi.people.models import Person
from tests.benefits.pension_world import pensioner, retiree
from tests.billing.conftest import make_person
from tests.portal.factories import PASSWORD, make_agency, make_hr, make_user
from tests.twofactor import verified_login

API = "/api/v1/benefits"
BANK = {
    "holder": "Jean Dupont",
    "country": "FRA",
    "iban": "FR1420041010050500013M02606",
    "bic": "PSSTFRPPPAR",
    "currency": "EUR",
}
ROLES = ("agency", "agency_sh", "hr", "token", "self", "other", "anon")


def post(c: Client, path: str, body: Any = None) -> Any:
    return c.post(API + path, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def world(beijing) -> dict[str, Any]:
    person, user, pension = pensioner(beijing)
    officer = make_agency("officer-one", regions="110000")
    proof = proof_of_life.proof_upload(
        actor=actor_for_user(user),
        pension_id=pension.pk,
        route="embassy",
        document=b"%PDF-1.4 certificate",
        verified_on=date(2026, 7, 1),
        today=date(2026, 7, 20),
    )
    hr_user = make_hr(beijing, "hr-api")
    _token, secret = api_token_create(
        actor=actor_for_user(hr_user), employer_id=beijing.pk, name="payroll"
    )
    stranger = make_person("Stranger", "JPN")
    other = make_user("other-person")
    Person.objects.filter(pk=stranger.pk).update(user=other)
    clients = {
        "agency": verified_login(Client(), officer),
        "agency_sh": verified_login(Client(), make_agency("officer-sh", regions="310000")),
        "hr": Client(),
        "token": Client(headers={"Authorization": f"Bearer {secret}"}),
        "self": Client(),
        "other": Client(),
        "anon": Client(),
    }
    clients["hr"].force_login(hr_user)
    clients["self"].force_login(user)
    clients["other"].force_login(other)
    return {
        "clients": clients,
        "ids": {"pension": pension.pk, "proof": proof.pk, "person": person.pk},
    }


#        agency agency_sh hr token self other anon
CASES = [
    ("GET", "/pensions", None, (200, 200, 403, 403, 200, 200, 401)),
    ("GET", "/pensions/eligibility?person_id={person}", None, (200, 404, 403, 403, 200, 200, 401)),
    (
        "POST",
        "/pensions",
        {"bank": BANK, "password": PASSWORD},
        (400, 400, 403, 403, 409, 400, 401),
    ),
    ("GET", "/pensions/{pension}", None, (200, 404, 403, 403, 200, 404, 401)),
    (
        "POST",
        "/pensions/{pension}/decision",
        {"decision": "reject", "reason": "no"},
        (409, 404, 403, 403, 403, 404, 401),
    ),
    ("GET", "/pensions/{pension}/proofs-of-life", None, (200, 404, 403, 403, 200, 404, 401)),
    (
        "POST",
        "/pensions/{pension}/proofs-of-life/online",
        {"password": PASSWORD},
        (403, 404, 403, 403, 201, 404, 401),
    ),
    (
        "POST",
        "/pensions/{pension}/proofs-of-life/in-person",
        {"note": "passport seen"},
        (201, 404, 403, 403, 403, 404, 401),
    ),
    ("GET", "/proofs-of-life", None, (200, 200, 403, 403, 200, 200, 401)),
    (
        "POST",
        "/proofs-of-life/{proof}/decision",
        {"decision": "reject", "reason": "unreadable"},
        (200, 404, 403, 403, 403, 404, 401),
    ),
    (
        "POST",
        "/pension-runs",
        {"region_code": "110000", "month": "2026-03"},
        (201, 403, 403, 403, 403, 403, 401),
    ),
]
# Multipart: tested below with every role.
MULTIPART = {("POST", "/pensions/{pension_id}/proofs-of-life/certificate")}


def covered() -> set[tuple[str, str]]:
    """The operations this file tests, as the OpenAPI schema names them."""
    return {
        (
            m,
            p.split("?")[0].replace("{pension}", "{pension_id}").replace("{proof}", "{proof_id}"),
        )
        for m, p, _b, _e in CASES
    } | MULTIPART


@pytest.mark.parametrize(
    ("method", "path", "body", "expect"), CASES, ids=[f"{m} {p}" for m, p, _b, _e in CASES]
)
def test_role_matrix(
    world: dict[str, Any], method: str, path: str, body: Any, expect: tuple[int, ...]
) -> None:
    url = path.format(**world["ids"])
    for role, status in zip(ROLES, expect, strict=True):
        c = world["clients"][role]
        response = c.get(API + url) if method == "GET" else post(c, url, body)
        assert response.status_code == status, (role, response.content)
        if status >= 400:
            assert {"code", "message", "field"} <= set(response.json())
        if status == 200 and "IBAN" not in path:
            assert "FR1420041010050500013M02606" not in response.content.decode()


def test_certificate_upload_by_role(world: dict[str, Any]) -> None:
    url = f"{API}/pensions/{world['ids']['pension']}/proofs-of-life/certificate"
    expect = dict(zip(ROLES, (201, 404, 403, 403, 201, 404, 401), strict=True))
    for role, status in expect.items():
        pdf = SimpleUploadedFile("c.pdf", b"%PDF-1.4 certificate", "application/pdf")
        data = {"route": "notarised", "verified_on": "2026-07-02", "file": pdf}
        response = world["clients"][role].post(url, data)
        assert response.status_code == status, (role, response.content)
    bad = world["clients"]["self"].post(
        url,
        {
            "route": "notarised",
            "verified_on": "2026-07-02",
            "file": SimpleUploadedFile("c.gif", b"GIF89a", "image/gif"),
        },
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "document")


def test_the_monthly_run_twice_through_the_api(world: dict[str, Any]) -> None:
    c = world["clients"]["agency"]
    first = post(c, "/pension-runs", {"region_code": "110000", "month": "2026-02"})
    assert first.status_code == 201, first.content
    assert (first.json()["created"], first.json()["amount"]) == (2, "2000.00")
    again = post(c, "/pension-runs", {"region_code": "110000", "month": "2026-02"})
    assert (again.json()["created"], again.json()["payment_run_id"]) == (0, None)
    assert Payout.objects.count() == 2
    bad = post(c, "/pension-runs", {"region_code": "110000", "month": "Feb"})
    assert (bad.status_code, bad.json()["field"]) == (400, "month")


def test_an_application_short_of_the_minimum_is_refused_with_the_months_missing(beijing) -> None:
    person, user = retiree(beijing, months=170, username="short", born=date(1960, 1, 1))
    c = Client()
    c.force_login(user)
    seen = c.get(f"{API}/pensions/eligibility").json()
    assert (seen["months"], seen["minimum"], seen["missing"]) == (170, 180, 10)
    assert seen["refusal_code"] == "below_minimum_contribution"
    made = post(c, "/pensions", {"bank": BANK, "password": PASSWORD})
    assert made.status_code == 400
    body = made.json()
    assert (body["code"], body["field"]) == ("below_minimum_contribution", "months")
    assert "10 months are missing" in body["message"]
    assert Pension.objects.filter(person=person).count() == 0


def test_the_matrix_covers_every_pension_operation() -> None:
    from expatsi.api import api

    paths = api.get_openapi_schema()["paths"]
    pension_paths = ("/pensions", "/proofs-of-life", "/pension-runs")
    ops = {
        (m.upper(), p.removeprefix(API))
        for p, methods in paths.items()
        if p.startswith(API) and p.removeprefix(API).startswith(pension_paths)
        for m in methods
    }
    assert ops == covered(), sorted(ops ^ covered())
