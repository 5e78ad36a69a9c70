"""/api/v1/benefits: the flow through the API, and every operation × role (agency of the region,
agency of another region, HR and its API token, the person, another person, anonymous)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from expatsi.access.actors import actor_for_user
from expatsi.benefits import services
from expatsi.benefits.models import PaymentRun, Payout, TerminationApplication
from expatsi.employers.services import api_token_create
from tests.benefits.conftest import LEFT_ON, Departed
from tests.benefits.test_death_api import DEATH_OPS
from tests.benefits.test_pension_api import covered as pension_operations
from tests.portal.factories import PASSWORD, make_agency, make_hr, make_user
from tests.twofactor import verified_login

API = "/api/v1/benefits"
BANK = {
    "holder": "Claire Lefebvre",
    "country": "FRA",
    "iban": "FR1420041010050500013M02606",
    "bic": "PSSTFRPPPAR",
    "currency": "EUR",
}


def post(c: Client, path: str, body: Any = None) -> Any:
    return c.post(API + path, json.dumps(body or {}), content_type="application/json")


def test_the_whole_flow_through_the_api(departed: Departed, settings) -> None:
    settings.EXPATSI_PAYOUT_SECOND_APPROVAL_ABOVE = 100_000_000
    me = Client()
    me.force_login(departed.user)
    case = post(me, "/departures", {"departure_date": LEFT_ON.isoformat()})
    assert case.status_code == 201, case.content
    departure_id = case.json()["id"]
    assert post(me, "/departures", {"departure_date": LEFT_ON.isoformat()}).status_code == 200
    preview = me.get(f"{API}/departures/{departure_id}/lump-sum?closing_date=2025-11-20").json()
    assert preview["amount"] == "7227.00"
    assert preview["years"][0]["interest"] == "27.00"
    assert preview["refusal"] is None and preview["unsettled"] == {"unbilled": [], "unpaid": []}
    wrong = post(
        me,
        f"/departures/{departure_id}/termination",
        {"bank": BANK, "declaration": True, "password": "x", "closing_date": "2025-11-20"},
    )
    assert wrong.status_code == 400
    assert (wrong.json()["code"], wrong.json()["field"]) == ("wrong_password", "password")
    bad = post(
        me,
        f"/departures/{departure_id}/termination",
        {
            "bank": {**BANK, "bic": "BNPAFRP"},
            "declaration": True,
            "password": PASSWORD,
            "closing_date": "2025-11-20",
        },
    )
    assert (bad.status_code, bad.json()["field"]) == (400, "bic")
    made = post(
        me,
        f"/departures/{departure_id}/termination",
        {"bank": BANK, "declaration": True, "password": PASSWORD, "closing_date": "2025-11-20"},
    )
    assert made.status_code == 201, made.content
    app = made.json()
    assert app["amount"] == "7227.00"
    assert app["bank_account"]["account"] == "****2606"
    assert "FR1420041010050500013M02606" not in made.content.decode()
    again = post(
        me,
        f"/departures/{departure_id}/termination",
        {"bank": BANK, "declaration": True, "password": PASSWORD, "closing_date": "2025-11-20"},
    )
    assert (again.status_code, again.json()["code"]) == (409, "termination_already_applied")
    staff = verified_login(Client(), departed.officer)
    queue = staff.get(f"{API}/terminations").json()
    assert [a["id"] for a in queue] == [app["id"]]
    decided = post(
        staff,
        f"/terminations/{app['id']}/decision",
        {"decision": "approve", "identity_checked": True},
    )
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    run = post(staff, "/payment-runs", {"region_code": "110000"})
    assert run.status_code == 201 and run.json()["total"] == "7227.00"
    twice = post(staff, "/payment-runs", {"region_code": "110000"})
    assert (twice.status_code, twice.json()["code"]) == (409, "nothing_to_pay_run")
    xml = staff.get(f"{API}/payment-runs/{run.json()['id']}/pain001")
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    e2e = Payout.objects.get().end_to_end_id
    upload = SimpleUploadedFile(
        "r.csv", f"end_to_end_id,status,date\n{e2e},ACSC,2025-12-03\n".encode()
    )
    done = staff.post(f"{API}/payment-returns", {"file": upload})
    assert done.status_code == 200 and done.json()["paid"] == 1
    assert me.get(f"{API}/terminations/{app['id']}").json()["status"] == "paid"


# --- every operation × role ---------------------------------------------------------------------

ROLES = ("agency", "agency_sh", "hr", "token", "self", "other", "anon")


@pytest.fixture
def clients(departed: Departed) -> dict[str, Client]:
    hr_user = make_hr(departed.employer, "hr-api")
    _token, secret = api_token_create(
        actor=actor_for_user(hr_user), employer_id=departed.employer.pk, name="payroll"
    )
    other = make_user("other-person")
    from expatsi.people.models import Person
    from tests.billing.conftest import make_person

    stranger = make_person("Stranger", "JPN")
    Person.objects.filter(pk=stranger.pk).update(user=other)
    out = {
        "agency": verified_login(Client(), departed.officer),
        "agency_sh": verified_login(Client(), make_agency("officer-sh", regions="310000")),
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
    case, _ = services.departure_open(actor=d.actor, person_id=d.person.pk, departure_date=LEFT_ON)
    app = services.termination_apply(
        actor=d.actor,
        case_id=case.pk,
        bank_details=services.BankDetails(**BANK),
        declaration=True,
        password=PASSWORD,
        closing_date=date(2025, 11, 20),
    )
    # a second person's application, approved and paid in a run, for the run routes
    return {"case": case.pk, "app": app.pk}


#        agency agency_sh hr token self other anon
CASES = [
    ("GET", "/departures", None, (200, 200, 403, 403, 200, 200, 401)),
    ("GET", "/departures/{case}", None, (200, 404, 403, 403, 200, 404, 401)),
    ("GET", "/departures/{case}/lump-sum", None, (200, 404, 403, 403, 200, 404, 401)),
    ("POST", "/departures/{case}/keep", {}, (403, 404, 403, 403, 409, 404, 401)),
    (
        "POST",
        "/departures/{case}/termination",
        {"bank": BANK, "declaration": True, "password": PASSWORD},
        (403, 404, 403, 403, 409, 404, 401),
    ),
    ("POST", "/departures", {"departure_date": "2025-09-30"}, (400, 400, 403, 403, 200, 400, 401)),
    ("GET", "/terminations", None, (200, 200, 403, 403, 200, 200, 401)),
    ("GET", "/terminations/{app}", None, (200, 404, 403, 403, 200, 404, 401)),
    (
        "POST",
        "/terminations/{app}/decision",
        {"decision": "reject", "reason": "signature differs"},
        (200, 404, 403, 403, 403, 404, 401),
    ),
    ("POST", "/terminations/{app}/reissue", {}, (409, 404, 403, 403, 403, 404, 401)),
    ("GET", "/payouts", None, (200, 200, 403, 403, 403, 403, 401)),
    ("GET", "/payment-runs", None, (200, 200, 403, 403, 403, 403, 401)),
    ("POST", "/payment-runs", {"region_code": "110000"}, (409, 403, 403, 403, 403, 403, 401)),
    ("GET", "/payment-runs/999999", None, (404, 404, 403, 403, 403, 403, 401)),
    ("GET", "/payment-runs/999999/pain001", None, (404, 404, 403, 403, 403, 403, 401)),
    # signed in the portal: no form to download (the download itself: test_signed_form.py)
    ("GET", "/terminations/{app}/signed-form", None, (404, 404, 403, 403, 404, 404, 401)),
    # not approved yet: nothing returned to correct (the flow: test_bank_correction.py)
    ("POST", "/terminations/{app}/bank", BANK, (409, 404, 403, 403, 409, 404, 401)),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expect"), CASES, ids=[f"{m} {p}" for m, p, _b, _e in CASES]
)
def test_role_matrix(
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
        response = c.get(API + url) if method == "GET" else post(c, url, body)
        assert response.status_code == status, (role, response.content)
        if status >= 400:
            assert {"code", "message", "field"} <= set(response.json())


def test_the_matrix_covers_every_benefits_operation(departed: Departed) -> None:
    from expatsi.api import api

    paths = api.get_openapi_schema()["paths"]
    ops = {
        (m.upper(), p.removeprefix("/api/v1/benefits"))
        for p, methods in paths.items()
        if p.startswith("/api/v1/benefits")
        for m in methods
    }
    covered = {
        (
            m,
            p.replace("{case}", "{departure_id}")
            .replace("{app}", "{termination_id}")
            .replace("999999", "{payment_run_id}"),
        )
        for m, p, _b, _e in CASES
    }
    covered.add(("POST", "/payment-returns"))  # multipart: tested in the flow above
    covered |= pension_operations()  # pensions and proofs of life: test_pension_api.py
    covered |= DEATH_OPS  # tests/benefits/test_death_api.py
    from tests.benefits.test_programmes import PROGRAMME_CASES  # their own matrix

    covered |= {(m, p) for m, p, _b, _e in PROGRAMME_CASES}
    assert ops <= covered, sorted(ops - covered)
    assert PaymentRun.objects.count() == 0 and TerminationApplication.objects.count() == 0
