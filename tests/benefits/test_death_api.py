"""/api/v1/benefits/deaths: a death reported, a claim with two heirs decided and paid through the
API, and every death operation × role (agency of the region, agency of another region, HR and
its API token, the person, another person, anonymous)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.benefits import death as deaths
from expatsi.benefits.models import ClaimStatus, InheritanceClaim, Payout
from expatsi.employers.services import api_token_create
from expatsi.people.models import Person
from expatsi.web.uploads import Upload
from tests.benefits.conftest import Departed
from tests.benefits.test_death import DIED, PDF, WIFE
from tests.billing.conftest import make_person
from tests.portal.factories import make_agency, make_hr, make_user
from tests.twofactor import verified_login

API = "/api/v1/benefits/deaths"
FRENCH = {
    "holder": "Marie Lefebvre",
    "country": "FRA",
    "iban": "FR1420041010050500013M02606",
    "bic": "PSSTFRPPPAR",
    "currency": "EUR",
}
CHINESE = {
    "holder": "Li Wei",
    "country": "CHN",
    "account_number": "6222021234567890123",
    "bic": "ICBKCNBJ",
    "currency": "CNY",
}


def post(c: Client, path: str, body: Any = None) -> Any:
    if isinstance(body, dict) and body.get("__multipart__"):
        data = {k: v for k, v in body.items() if k != "__multipart__"}
        return c.post(API + path, data)
    return c.post(API + path, json.dumps(body or {}), content_type="application/json")


def pdf(name: str = "certificate.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF.data, "application/pdf")


def test_a_claim_with_two_heirs_through_the_api(departed: Departed, settings) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 100_000_000
    staff = verified_login(Client(), departed.officer)
    made = staff.post(
        API,
        {
            "person_id": departed.person.pk,
            "died_on": DIED.isoformat(),
            "reporter": "family",
            "reporter_name": "Marie Lefebvre",
            "relationship": "spouse",
            "evidence": pdf(),
        },
    )
    assert made.status_code == 201, made.content
    death_id = made.json()["id"]
    assert made.json()["reporter"] == "family"
    again = staff.post(
        API, {"person_id": departed.person.pk, "died_on": DIED.isoformat(), "evidence": pdf()}
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_reported")
    text = staff.post(
        API,
        {
            "person_id": departed.person.pk,
            "died_on": DIED.isoformat(),
            "evidence": SimpleUploadedFile("x.txt", b"hello", "text/plain"),
        },
    )
    assert (text.status_code, text.json()["field"]) == (400, "evidence")
    balance = staff.get(f"{API}/{death_id}/balance").json()
    assert balance["amount"] == "7227.00" and balance["unbilled"] == balance["unpaid"] == []
    doc_id = balance["documents"][0]["id"]
    got = staff.get(f"{API}/{death_id}/documents/{doc_id}")
    assert got.status_code == 200 and got.content == PDF.data
    bad = post(
        staff,
        f"/{death_id}/claims",
        {"heirs": [{"name": "X", "relationship": "son", "bank": {**CHINESE, "bic": "PSSTFRPP"}}]},
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "heirs.0.bic")
    claim = post(
        staff,
        f"/{death_id}/claims",
        {
            "heirs": [
                {"name": "Marie Lefebvre", "relationship": "spouse", "bank": FRENCH},
                {"name": "Li Wei", "relationship": "son", "bank": CHINESE},
            ]
        },
    )
    assert claim.status_code == 201, claim.content
    body = claim.json()
    claim_id = body["id"]
    wife, son = (h["id"] for h in body["heirs"])
    assert [h["account"] for h in body["heirs"]] == ["****2606", "****0123"]
    doc = staff.post(f"{API}/claims/{claim_id}/documents", {"file": pdf("inheritance.pdf")})
    assert doc.status_code == 201, doc.content
    short = post(
        staff,
        f"/claims/{claim_id}/decision",
        {
            "decision": "approve",
            "shares": [{"heir_id": wife, "share": "1/2"}, {"heir_id": son, "share": "1/3"}],
        },
    )
    assert short.status_code == 400
    assert (short.json()["code"], short.json()["field"]) == ("shares_not_whole", "shares")
    done = post(
        staff,
        f"/claims/{claim_id}/decision",
        {
            "decision": "approve",
            "shares": [{"heir_id": wife, "share": "1/2"}, {"heir_id": son, "share": "1/2"}],
        },
    )
    assert done.status_code == 200, done.content
    out = done.json()
    assert (out["status"], out["balance"]) == ("approved", "7227.00")
    assert [(h["share"], h["amount"]) for h in out["heirs"]] == [
        ("1/2", "3613.50"),
        ("1/2", "3613.50"),
    ]
    payouts = staff.get("/api/v1/benefits/payouts").json()
    assert sorted((p["kind"], p["amount"], p["termination_id"]) for p in payouts) == [
        ("inherit", "3613.50", None),
        ("inherit", "3613.50", None),
    ]
    run = staff.post(
        "/api/v1/benefits/payment-runs",
        json.dumps({"region_code": "110000"}),
        content_type="application/json",
    )
    assert run.status_code == 201 and run.json()["count"] == 2
    assert staff.get(f"{API}/claims").json() == []  # decided: no longer in the queue


# --- every operation × role -----------------------------------------------------------------------

ROLES = ("agency", "agency_sh", "hr", "token", "self", "other", "anon")  # as in test_api.py


@pytest.fixture
def clients(departed: Departed) -> dict[str, Client]:
    hr_user = make_hr(departed.employer, "hr-death-api")
    _token, secret = api_token_create(
        actor=actor_for_user(hr_user), employer_id=departed.employer.pk, name="payroll"
    )
    other = make_user("other-death")
    stranger = make_person("Stranger", "JPN")
    Person.objects.filter(pk=stranger.pk).update(user=other)
    out = {
        "agency": verified_login(Client(), departed.officer),
        "agency_sh": verified_login(Client(), make_agency("officer-sh-d", regions="310000")),
        "hr": Client(),
        "token": Client(headers={"Authorization": f"Bearer {secret}"}),
        "self": Client(),
        "other": Client(),
        "anon": Client(),
    }
    out["hr"].force_login(hr_user)
    out["self"].force_login(departed.user)
    out["other"].force_login(other)
    return out


def _objects(d: Departed) -> dict[str, int]:
    death = deaths.death_report(
        actor=d.agency(1), person_id=d.person.pk, died_on=DIED, evidence=PDF
    )
    claim = deaths.inheritance_claim_file(
        actor=d.agency(1), death_id=death.pk, heirs=[WIFE], documents=[Upload("a.pdf", PDF.data)]
    )
    return {"death": death.pk, "claim": claim.pk, "doc": death.documents.order_by("pk")[0].pk}


def _report_body(d: Departed) -> dict[str, Any]:
    return {
        "__multipart__": True,
        "person_id": d.person.pk,
        "died_on": date(2025, 9, 20).isoformat(),  # employed then: HR may report it
        "evidence": pdf(),
    }


def _document_body(_d: Departed) -> dict[str, Any]:
    return {"__multipart__": True, "file": pdf()}


#        agency agency_sh hr token self other anon
DEATH_CASES = [
    ("GET", "", None, (200, 200, 200, 200, 403, 403, 401)),
    ("POST", "", _report_body, (409, 404, 409, 409, 403, 403, 401)),
    ("GET", "/{death}", None, (200, 404, 200, 200, 403, 403, 401)),
    ("GET", "/{death}/balance", None, (200, 404, 403, 403, 403, 403, 401)),
    ("GET", "/{death}/documents/{doc}", None, (200, 404, 403, 403, 403, 403, 401)),
    (
        "POST",
        "/{death}/claims",
        {"heirs": [{"name": "Li Wei", "relationship": "son", "bank": CHINESE}]},
        (409, 404, 403, 403, 403, 403, 401),
    ),
    ("GET", "/claims", None, (200, 200, 403, 403, 403, 403, 401)),
    ("GET", "/claims/{claim}", None, (200, 404, 403, 403, 403, 403, 401)),
    ("POST", "/claims/{claim}/documents", _document_body, (201, 404, 403, 403, 403, 403, 401)),
    (
        "POST",
        "/claims/{claim}/decision",
        {"decision": "reject", "reason": "a later will was found"},
        (200, 404, 403, 403, 403, 403, 401),
    ),
    ("POST", "/claims/{claim}/reissue", {}, (409, 404, 403, 403, 403, 403, 401)),
]
# the operations as the OpenAPI document names them (for test_api's coverage check)
DEATH_OPS = {
    (
        m,
        "/deaths"
        + p.replace("{death}", "{death_id}")
        .replace("{claim}", "{claim_id}")
        .replace("{doc}", "{death_document_id}"),
    )
    for m, p, _b, _e in DEATH_CASES
}


@pytest.mark.parametrize(
    ("method", "path", "body", "expect"),
    DEATH_CASES,
    ids=[f"{m} /deaths{p}" for m, p, _b, _e in DEATH_CASES],
)
def test_death_role_matrix(
    departed: Departed,
    clients: dict[str, Client],
    method: str,
    path: str,
    body: Any,
    expect: tuple[int, ...],
) -> None:
    ids = _objects(departed)
    url = path.format(**ids)
    for role, status in zip(ROLES, expect, strict=True):
        c = clients[role]
        sent = body(departed) if callable(body) else body
        response = c.get(API + url) if method == "GET" else post(c, url, sent)
        assert response.status_code == status, (role, response.content)
        if status >= 400:
            assert {"code", "message", "field"} <= set(response.json())


def test_only_the_rejected_claim_changed(departed: Departed) -> None:
    ids = _objects(departed)
    staff = verified_login(Client(), departed.officer)
    post(staff, f"/claims/{ids['claim']}/decision", {"decision": "reject", "reason": "no will"})
    assert InheritanceClaim.objects.get().status == ClaimStatus.REJECTED
    assert not Payout.objects.exists()
