"""Every endpoint × every role: allowed, or 401/403/404 — never another tenant's data.

One row per endpoint; the columns follow ``ROLES``:
agency (all regions), agency_sh (Shanghai only), hr_a, hr_b, token_a (API token of A),
self (pa, employed by A), other (pb, employed by B), anon. Employer A is in Beijing, B in Shanghai.
To add an endpoint, add a row.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from expatsi.access.actors import SYSTEM, Actor
from expatsi.cases import complaints, disputes, services
from expatsi.cases.models import Scan
from tests.api.conftest import API, ROLES, USCC_NEW_BJ, USCC_NEW_SH, World, hire_payload, today
from tests.cases.conftest import bill as finding_bill
from tests.cases.conftest import finding


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[World], str]
    body: Callable[[World], Any] | None
    expect: dict[str, int]


def row(*codes: int) -> dict[str, int]:
    return dict(zip(ROLES, codes, strict=True))


def _crossing_csv(w: World) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = f"passport_country,passport_number,date,direction,port\nJPN,TK1234567,{today().isoformat()},entry,Pudong\n"
    return {
        "__multipart__": True,
        "file": SimpleUploadedFile("crossings.csv", text.encode(), "text/csv"),
    }


def _later(days: int) -> str:
    return (today() + timedelta(days=days)).isoformat()


@dataclass
class CasesWorld:
    finding: Any  # in the ordered case
    spare: Any  # a second finding of A, in no case
    ordered: Any  # an enforcement case of A whose order to rectify is issued
    opened: Any  # a case of A still without an order (HR do not see it yet)


def _cases(w: World) -> CasesWorld:
    """Findings and cases of employer A (Beijing), made once per test on first use."""
    made = getattr(w, "_cases", None)
    if made is None:
        f1, f2, f3 = (finding("unpaid_past_due", w.a, amount=10_000) for _ in range(3))
        ordered = services.case_open(actor=SYSTEM, finding_ids=[f1.pk])
        services.order_issue(actor=SYSTEM, case_id=ordered.pk, deadline=today() + timedelta(days=9))
        opened = services.case_open(actor=SYSTEM, finding_ids=[f3.pk])
        made = CasesWorld(f1, f2, ordered, opened)
        w._cases = made  # type: ignore[attr-defined]
    return made


def _beijing_scan() -> Any:
    """A scan of Beijing, queued by the system (staff of other regions do not see it)."""
    return Scan.objects.create(as_of=today(), region_code="110000", started_by="system")


@dataclass
class DisputesWorld:
    dispute: Any  # employer A and its employee pa, at mediation
    decided: Any  # another, decided for the employee, about pa's bill line
    line: Any  # that bill line
    document: Any  # a document of ``dispute``
    intervention: Any  # pa ("self") asked the agency to intervene with A
    report: Any  # HR of B reported A


def _disputes(w: World) -> DisputesWorld:
    """Disputes and complaints about employer A (Beijing), made once per test on first use."""
    made = getattr(w, "_disputes", None)
    if made is None:
        b = finding_bill(
            w.a,
            "2025-09",
            today() - timedelta(days=60),
            lines=[{"person": w.pa, "employer_amount": 480_000, "employee_amount": 240_000}],
        )
        line = b.lines.get()
        opened = disputes.dispute_open(
            actor=SYSTEM,
            employer_id=w.a.pk,
            person_id=w.pa.pk,
            subject_kind="other",
            claim="Unpaid months",
        )
        decided = disputes.dispute_open(
            actor=SYSTEM,
            employer_id=w.a.pk,
            person_id=w.pa.pk,
            subject_kind="bill_line",
            subject_id=line.pk,
            claim="Base too high",
        )
        disputes.dispute_decide(
            actor=SYSTEM, dispute_id=decided.pk, outcome="for_employee", text="Award"
        )
        document = disputes.document_add(
            actor=SYSTEM, dispute_id=opened.pk, title="Contract", data=b"%PDF-1.4 x"
        )
        me = Actor("employee", w.users["self"].pk, "self", person_id=w.pa.pk)
        intervention = complaints.complaint_file(
            actor=me, kind="intervention", employer_id=w.a.pk, subject="Unpaid", details="x"
        )
        hr_b = Actor("hr", w.users["hr_b"].pk, "hr_b", employer_ids=frozenset({w.b.pk}))
        report = complaints.complaint_file(
            actor=hr_b, kind="report", uscc=w.a.uscc, subject="Illegal work", details="x"
        )
        made = DisputesWorld(opened, decided, line, document, intervention, report)
        w._disputes = made  # type: ignore[attr-defined]
    return made


PDF_BASE64 = base64.b64encode(b"%PDF-1.4 x").decode()


#                                                          agency sh  hr_a hr_b tok  self other anon
CASES = [
    Case(
        "employer list",
        "GET",
        lambda w: "/employers",
        None,
        row(200, 200, 200, 200, 200, 200, 200, 401),
    ),
    Case(
        "employer get",
        "GET",
        lambda w: f"/employers/{w.a.pk}",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "employer create (Shanghai)",
        "POST",
        lambda w: "/employers",
        lambda w: {"name": "Acme Shanghai Ltd.", "uscc": USCC_NEW_SH, "region_code": "310000"},
        row(201, 201, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "employer create (Beijing)",
        "POST",
        lambda w: "/employers",
        lambda w: {"name": "Acme Beijing Ltd.", "uscc": USCC_NEW_BJ, "region_code": "110000"},
        row(201, 403, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "HR user add",
        "POST",
        lambda w: f"/employers/{w.a.pk}/hr-users",
        lambda w: {"email": "new-hr@example.org", "first_name": "New", "last_name": "HR"},
        row(201, 404, 201, 404, 403, 403, 404, 401),
    ),
    Case(
        "work-injury ratings list",
        "GET",
        lambda w: f"/employers/{w.a.pk}/work-injury-ratings",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "work-injury rating set",
        "POST",
        lambda w: f"/employers/{w.a.pk}/work-injury-ratings",
        lambda w: {"industry_class": "II", "grade": "120%", "effective_from": "2026-01-01"},
        row(201, 404, 403, 404, 403, 403, 404, 401),
    ),
    Case(
        "API tokens list",
        "GET",
        lambda w: f"/employers/{w.a.pk}/api-tokens",
        None,
        row(200, 404, 200, 404, 200, 403, 404, 401),
    ),
    Case(
        "API token create",
        "POST",
        lambda w: f"/employers/{w.a.pk}/api-tokens",
        lambda w: {"name": "payroll"},
        row(201, 404, 201, 404, 403, 403, 404, 401),
    ),
    Case(
        "API token revoke",
        "POST",
        lambda w: f"/employers/{w.a.pk}/api-tokens/{w.spare_token_a.pk}/revoke",
        None,
        row(200, 404, 200, 404, 200, 403, 404, 401),
    ),
    Case(
        "employee list",
        "GET",
        lambda w: "/employees",
        None,
        row(200, 200, 200, 200, 200, 200, 200, 401),
    ),
    Case(
        "employee get",
        "GET",
        lambda w: f"/employees/{w.pa.pk}",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "employee me",
        "GET",
        lambda w: "/employees/me",
        None,
        row(404, 404, 404, 404, 404, 200, 200, 401),
    ),
    Case(
        "employee create (hire)",
        "POST",
        lambda w: "/employees",
        lambda w: hire_payload(w.a.pk),
        row(201, 404, 201, 404, 201, 404, 404, 401),
    ),
    Case(
        "document add",
        "POST",
        lambda w: f"/employees/{w.pa.pk}/documents",
        lambda w: {
            "kind": "residence_permit",
            "number": "RP998877",
            "issued_on": today().isoformat(),
            "valid_to": _later(365),
        },
        row(201, 404, 201, 404, 201, 403, 404, 401),
    ),
    Case(
        "passport replace",
        "POST",
        lambda w: f"/employees/{w.pa.pk}/passports",
        lambda w: {"country": "DEU", "number": "C4J8LM2N1", "issued_on": today().isoformat()},
        row(201, 404, 201, 404, 201, 403, 404, 401),
    ),
    Case(
        "certificates list",
        "GET",
        lambda w: f"/employees/{w.pa.pk}/certificates",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "certificate add",
        "POST",
        lambda w: f"/employees/{w.pa.pk}/certificates",
        lambda w: {
            "number": "DE-2026-000123",
            "country": "DEU",
            "valid_from": today().isoformat(),
            "valid_to": _later(700),
        },
        row(201, 404, 201, 404, 201, 403, 404, 401),
    ),
    Case(
        "employment list",
        "GET",
        lambda w: "/employments",
        None,
        row(200, 200, 200, 200, 200, 200, 200, 401),
    ),
    Case(
        "employment get",
        "GET",
        lambda w: f"/employments/{w.ea.pk}",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "employment start",
        "POST",
        lambda w: "/employments",
        lambda w: {
            "person_id": w.pa.pk,
            "employer_id": w.a.pk,
            "start_date": _later(3 * 365 + 1),
            "position": "Senior engineer",
            "contract_wage": "40000",
        },
        row(201, 404, 201, 404, 201, 404, 404, 401),
    ),
    Case(
        "employment change",
        "POST",
        lambda w: f"/employments/{w.ea.pk}/change",
        lambda w: {"on": _later(30), "contract_wage": "35000.00"},
        row(201, 404, 201, 404, 201, 404, 404, 401),
    ),
    Case(
        "employment end",
        "POST",
        lambda w: f"/employments/{w.ea.pk}/end",
        lambda w: {"end_date": _later(60)},
        row(200, 404, 200, 404, 200, 404, 404, 401),
    ),
    Case(
        "registration list",
        "GET",
        lambda w: "/registrations",
        None,
        row(200, 200, 200, 200, 200, 200, 200, 401),
    ),
    Case(
        "registration get",
        "GET",
        lambda w: f"/registrations/{w.ra.pk}",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "registration submit",
        "POST",
        lambda w: "/registrations",
        lambda w: {"employment_id": w.ea2.pk},
        row(201, 404, 201, 404, 201, 404, 404, 401),
    ),
    Case(
        "registration hire",
        "POST",
        lambda w: "/registrations/hire",
        lambda w: hire_payload(w.a.pk),
        row(201, 404, 201, 404, 201, 404, 404, 401),
    ),
    Case(
        "registration accept",
        "POST",
        lambda w: f"/registrations/{w.ra.pk}/accept",
        lambda w: {},
        row(200, 404, 403, 404, 403, 404, 404, 401),
    ),
    Case(
        "registration reject",
        "POST",
        lambda w: f"/registrations/{w.ra.pk}/reject",
        lambda w: {"reason": "the work permit number does not match the permit authority's record"},
        row(200, 404, 403, 404, 403, 404, 404, 401),
    ),
    Case(
        "entry/exit import",
        "POST",
        lambda w: "/entry-exit/imports",
        _crossing_csv,
        row(200, 200, 403, 403, 403, 403, 403, 401),
    ),
    # --- compliance and enforcement (/cases): employer A is in Beijing ---------------------------
    Case(
        "compliance rules",
        "GET",
        lambda w: "/cases/rules",
        None,
        row(200, 200, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "compliance scan (Beijing)",
        "POST",
        lambda w: "/cases/scans",
        lambda w: {"region_code": "110000"},
        row(200, 403, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "compliance scan get (Beijing)",
        "GET",
        lambda w: f"/cases/scans/{_beijing_scan().pk}",
        None,
        row(200, 404, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "compliance scan resume (Beijing; not interrupted)",
        "POST",
        lambda w: f"/cases/scans/{_beijing_scan().pk}/resume",
        None,
        row(409, 404, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "finding list",
        "GET",
        lambda w: "/cases/findings",
        None,
        row(200, 200, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "finding get",
        "GET",
        lambda w: f"/cases/findings/{_cases(w).finding.pk}",
        None,
        row(200, 404, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "finding confirm",
        "POST",
        lambda w: f"/cases/findings/{_cases(w).spare.pk}/confirm",
        lambda w: {},
        row(200, 404, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "finding dismiss",
        "POST",
        lambda w: f"/cases/findings/{_cases(w).spare.pk}/dismiss",
        lambda w: {"reason": "paid at the counter"},
        row(200, 404, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "opt-out record (Shanghai)",
        "POST",
        lambda w: "/cases/opt-outs",
        lambda w: {
            "legacy": "shanghai_notice_38_2009",
            "person_id": w.pb.pk,
            "employer_id": w.b.pk,
            "signed_on": "2019-01-01",
        },
        row(201, 201, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "case list",
        "GET",
        lambda w: "/cases",
        None,
        row(200, 200, 200, 200, 200, 403, 403, 401),
    ),
    Case(
        "case open",
        "POST",
        lambda w: "/cases",
        lambda w: {"finding_ids": [_cases(w).spare.pk]},
        row(201, 404, 403, 403, 403, 403, 403, 401),
    ),
    Case(
        "case get",
        "GET",
        lambda w: f"/cases/{_cases(w).ordered.pk}",
        None,
        row(200, 404, 200, 404, 200, 404, 404, 401),
    ),
    Case(
        "case order PDF",
        "GET",
        lambda w: f"/cases/{_cases(w).ordered.pk}/order.pdf",
        None,
        row(200, 404, 200, 404, 200, 404, 404, 401),
    ),
    Case(
        "case order issue",
        "POST",
        lambda w: f"/cases/{_cases(w).opened.pk}/order",
        lambda w: {"deadline": _later(30)},
        row(200, 404, 404, 404, 404, 404, 404, 401),
    ),
    Case(
        "case fine proposal (deadline not passed)",
        "POST",
        lambda w: f"/cases/{_cases(w).ordered.pk}/fine-proposals",
        lambda w: {"kind": "arrears_not_paid", "amount": "100.00", "reason": "unpaid"},
        row(409, 404, 403, 404, 403, 404, 404, 401),
    ),
    Case(
        "case decision (deadline not passed)",
        "POST",
        lambda w: f"/cases/{_cases(w).ordered.pk}/decision",
        lambda w: {"outcome": "no_fine", "reason": "first offence"},
        row(409, 404, 403, 404, 403, 404, 404, 401),
    ),
    Case(
        "case close (not rectified)",
        "POST",
        lambda w: f"/cases/{_cases(w).ordered.pk}/close",
        lambda w: {"reason": "settled"},
        row(409, 404, 403, 404, 403, 404, 404, 401),
    ),
    Case(
        "case fine withdrawal (no such proposal)",
        "POST",
        lambda w: f"/cases/{_cases(w).ordered.pk}/fine-proposals/withdraw",
        lambda w: {"proposal_id": 999_999, "reason": "made twice"},
        row(404, 404, 403, 404, 403, 404, 404, 401),
    ),
    # --- disputes, complaints and reports (/cases/disputes, /cases/complaints) ---------------
    Case(
        "dispute list",
        "GET",
        lambda w: "/cases/disputes",
        None,
        row(200, 200, 200, 200, 200, 200, 200, 401),
    ),
    Case(
        "dispute open (A and its employee)",
        "POST",
        lambda w: "/cases/disputes",
        lambda w: {
            "employer_id": w.a.pk,
            "person_id": w.pa.pk,
            "subject_kind": "other",
            "claim": "Unpaid months",
        },
        row(201, 404, 201, 404, 201, 201, 404, 401),
    ),
    Case(
        "dispute get",
        "GET",
        lambda w: f"/cases/disputes/{_disputes(w).dispute.pk}",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "dispute next stage",
        "POST",
        lambda w: f"/cases/disputes/{_disputes(w).dispute.pk}/stage",
        lambda w: {"stage": "arbitration"},
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "dispute decision",
        "POST",
        lambda w: f"/cases/disputes/{_disputes(w).dispute.pk}/decision",
        lambda w: {"outcome": "settled", "text": "Agreed"},
        row(200, 404, 403, 404, 403, 403, 404, 401),
    ),
    Case(
        "dispute close",
        "POST",
        lambda w: f"/cases/disputes/{_disputes(w).decided.pk}/close",
        lambda w: {"reason": "Award carried out"},
        row(200, 404, 403, 404, 403, 403, 404, 401),
    ),
    Case(
        "dispute document add",
        "POST",
        lambda w: f"/cases/disputes/{_disputes(w).dispute.pk}/documents",
        lambda w: {"title": "Payslip", "content_base64": PDF_BASE64},
        row(201, 404, 201, 404, 201, 201, 404, 401),
    ),
    Case(
        "dispute document get",
        "GET",
        lambda w: f"/cases/disputes/{_disputes(w).dispute.pk}/documents/{_disputes(w).document.pk}",
        None,
        row(200, 404, 200, 404, 200, 200, 404, 401),
    ),
    Case(
        "dispute correction",
        "POST",
        lambda w: f"/cases/disputes/{_disputes(w).decided.pk}/corrections",
        lambda w: {
            "lines": [
                {
                    "line_id": _disputes(w).line.pk,
                    "employer_amount": "4000.00",
                    "employee_amount": "2000.00",
                }
            ],
            "reason": "Award",
        },
        row(201, 404, 403, 404, 403, 403, 404, 401),
    ),
    Case(
        "complaint list",
        "GET",
        lambda w: "/cases/complaints",
        None,
        row(200, 200, 200, 200, 403, 200, 200, 401),
    ),
    Case(
        "complaint file (report about A)",
        "POST",
        lambda w: "/cases/complaints",
        lambda w: {"kind": "report", "uscc": w.a.uscc, "subject": "Illegal work", "details": "x"},
        row(201, 201, 201, 201, 403, 201, 201, 401),
    ),
    Case(
        "complaint get (pa's request to intervene)",
        "GET",
        lambda w: f"/cases/complaints/{_disputes(w).intervention.pk}",
        None,
        row(200, 404, 404, 404, 404, 200, 404, 401),
    ),
    Case(
        "complaint reply",
        "POST",
        lambda w: f"/cases/complaints/{_disputes(w).intervention.pk}/reply",
        lambda w: {"reply": "Accepted"},
        row(200, 404, 404, 404, 404, 403, 404, 401),
    ),
    Case(
        "complaint close (not answered)",
        "POST",
        lambda w: f"/cases/complaints/{_disputes(w).intervention.pk}/close",
        lambda w: {"reason": "done"},
        row(409, 404, 404, 404, 404, 403, 404, 401),
    ),
    Case(
        "complaint to finding (B's HR reported A)",
        "POST",
        lambda w: f"/cases/complaints/{_disputes(w).report.pk}/finding",
        lambda w: {},
        row(201, 404, 404, 403, 404, 404, 404, 401),
    ),
    # --- reports from anyone, without an account (/reports): public, every role files one ----
    Case(
        "public report (about A)",
        "POST",
        lambda w: "/reports",
        lambda w: {
            "uscc": w.a.uscc,
            "category": "no_insurance",
            "description": "Foreign staff here have no social insurance at all.",
        },
        row(201, 201, 201, 201, 201, 201, 201, 201),
    ),
    Case(
        "public report (a code with a wrong check character)",
        "POST",
        lambda w: "/reports",
        lambda w: {
            "uscc": w.a.uscc[:-1] + ("A" if w.a.uscc[-1] != "A" else "B"),
            "category": "no_insurance",
            "description": "Foreign staff here have no social insurance at all.",
        },
        row(400, 400, 400, 400, 400, 400, 400, 400),
    ),
    # The application form's person picker as data (cards/picker.py): HR and agency only; another
    # tenant's employer is not found (what each sees: tests/cards/test_picker.py).
    Case(
        "card application candidates",
        "GET",
        lambda w: "/cards/applications/candidates?q=smi",
        None,
        row(200, 200, 200, 200, 200, 403, 403, 401),
    ),
    Case(
        "card application candidates of employer A",
        "GET",
        lambda w: f"/cards/applications/candidates?q=smi&employer_id={w.a.pk}",
        None,
        row(200, 404, 200, 404, 200, 403, 403, 401),
    ),
]


def call(client: Any, method: str, path: str, body: Any) -> Any:
    url = API + path
    if method == "GET":
        return client.get(url)
    if isinstance(body, dict) and body.pop("__multipart__", False):
        return client.post(url, body)
    return client.post(
        url, json.dumps(body if body is not None else {}), content_type="application/json"
    )


@pytest.mark.parametrize(
    ("case", "role"),
    [pytest.param(c, r, id=f"{c.name}-{r}") for c in CASES for r in ROLES],
)
def test_role_matrix(world: World, case: Case, role: str) -> None:
    body = case.body(world) if case.body else None
    response = call(world.client(role), case.method, case.path(world), body)
    expected = case.expect[role]
    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()
        assert set(error) >= {"code", "message", "field"}
        assert error["code"] and error["message"]


# The routers of the platform core this matrix answers for (other routers keep their own matrix).
MATRIX_PREFIXES = ("/employers", "/employees", "/employments", "/registrations", "/entry-exit")


def test_matrix_covers_every_operation_of_its_routers(world: World) -> None:
    """A new endpoint under these prefixes must get a row here."""
    from expatsi.api import api

    paths = api.get_openapi_schema()["paths"]
    operations = {
        (method.upper(), path.removeprefix(API))
        for path, methods in paths.items()
        for method in methods
        if path.removeprefix(API).startswith(MATRIX_PREFIXES)
    }
    assert len(operations) >= 25
    covered = {(c.method, c.path(world)) for c in CASES}
    templated = {
        (
            m,
            p.replace("{employer_id}", str(world.a.pk))
            .replace("{person_id}", str(world.pa.pk))
            .replace("{employment_id}", str(world.ea.pk))
            .replace("{registration_id}", str(world.ra.pk))
            .replace("{token_id}", str(world.spare_token_a.pk)),
        )
        for m, p in operations
    }
    assert templated <= covered, sorted(templated - covered)


def test_matrix_covers_every_operation_of_the_cases_router(world: World) -> None:
    """A new endpoint under /cases (or the public /reports) must get a row here too."""
    from expatsi.api import api

    paths = api.get_openapi_schema()["paths"]
    operations = {
        (method.upper(), re.sub(r"\{[a-z_]+\}", "{id}", path.removeprefix(API)))
        for path, methods in paths.items()
        for method in methods
        if path.removeprefix(API).startswith(("/cases", "/reports"))
    }
    assert len(operations) >= 15
    covered = {(c.method, re.sub(r"/\d+", "/{id}", c.path(world))) for c in CASES}
    assert operations <= covered, sorted(operations - covered)
