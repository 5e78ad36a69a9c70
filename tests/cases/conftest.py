"""Builders for the compliance tests: rows written directly, so each fixture states exactly the
facts a rule looks at (a permit, a registration, a bill line, a border crossing …)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from expatsi.billing.models import Allocation, BaseDeclaration, Bill, BillLine, Payment
from expatsi.cards.models import Card
from expatsi.cases.models import Finding
from expatsi.cases.scan import evidence_hash
from expatsi.employers.models import Employer
from expatsi.insurance.models import CoverageCertificate, Employment, Registration
from expatsi.people.models import Document, EntryExit, Person

_serial = itertools.count(1)


def person(family: str = "Tester", nationality: str = "USA") -> Person:
    return Person.objects.create(
        family_name=family,
        given_names="T",
        sex="male",
        birth_date=date(1985, 1, 1),
        nationality=nationality,
    )


def employ(
    p: Person, employer: Employer, start: date, end: date | None = None, wage_yuan: int = 30000
) -> Employment:
    return Employment.objects.create(
        person=p,
        employer=employer,
        start_date=start,
        end_date=end,
        position="Engineer",
        contract_wage=wage_yuan * 100,
    )


def permit(
    p: Person,
    issued: date,
    valid_to: date | None,
    kind: str = "integrated_card",
    valid_from: date | None = None,
) -> Document:
    return Document.objects.create(
        person=p,
        kind=kind,
        number=f"DOC{next(_serial):06d}",
        issued_on=issued,
        valid_from=valid_from or issued,
        valid_to=valid_to,
    )


def register(
    e: Employment, status: str = "accepted", insured_from: date | None = None
) -> Registration:
    start = insured_from or e.start_date
    return Registration.objects.create(
        person=e.person,
        employer=e.employer,
        employment=e,
        permit_issued_on=start,
        deadline=start,
        insurance_start=start,
        status=status,
        registered_on=start if status == "accepted" else None,
    )


def card(
    p: Person,
    employer: Employer,
    status: str,
    valid_from: date,
    valid_to: date,
    deregistered_on: date | None = None,
) -> Card:
    n = next(_serial)
    return Card.objects.create(
        person=p,
        employer=employer,
        card_number=f"31250000{n:06d}",
        permit_number=f"3120250000{n:08d}",
        category="B",
        position="Engineer",
        valid_from=valid_from,
        valid_to=valid_to,
        status=status,
        deregistered_on=deregistered_on,
    )


def bill(
    employer: Employer,
    month: str,
    due: date,
    lines: list[dict[str, Any]] | None = None,
    total: int | None = None,
    kind: str = "regular",
) -> Bill:
    lines = lines or []
    er = sum(line.get("employer_amount", 0) for line in lines)
    ee = sum(line.get("employee_amount", 0) for line in lines)
    if total is not None:
        er, ee = total, 0
    b = Bill.objects.create(
        employer=employer,
        region_code=employer.region_code,
        month=month,
        kind=kind,
        number=f"{employer.region_code}-{month}-{employer.pk:08d}-{next(_serial)}",
        policy_version="test",
        employer_total=er,
        employee_total=ee,
        due_date=due,
    )
    for line in lines:
        BillLine.objects.create(
            bill=b,
            person=line["person"],
            insurance=line.get("insurance", 0),
            base=line.get("base", 3_000_000),
            employer_rate=line.get("employer_rate", 160_000),
            employee_rate=line.get("employee_rate", 80_000),
            employer_amount=line.get("employer_amount", 0),
            employee_amount=line.get("employee_amount", 0),
            flags=line.get("flags", 0),
        )
    return b


def pay(b: Bill, principal: int, on: date) -> Allocation:
    payment = Payment.objects.create(employer=b.employer, amount=principal, received_on=on)
    return Allocation.objects.create(payment=payment, bill=b, principal=principal, paid_on=on)


def crossing(p: Person, on: date, direction: str) -> EntryExit:
    return EntryExit.objects.create(person=p, date=on, direction=direction, port="Pudong")


def declare(p: Person, employer: Employer, period_start: str, wage: int) -> BaseDeclaration:
    return BaseDeclaration.objects.create(
        person=p, employer=employer, period_start=period_start, wage=wage
    )


def certificate(p: Person, valid_from: date, valid_to: date) -> CoverageCertificate:
    return CoverageCertificate.objects.create(
        person=p,
        number=f"CERT{next(_serial)}",
        country=p.nationality,
        valid_from=valid_from,
        valid_to=valid_to,
    )


@pytest.fixture
def sh(db: Any) -> Employer:
    return Employer.objects.create(
        name="Pujiang Precision (Shanghai) Co., Ltd.",
        uscc="91310000MA1FL8X3P0",
        region_code="310000",
    )


@pytest.fixture
def sh2(db: Any) -> Employer:
    return Employer.objects.create(
        name="Huangpu Trading Co., Ltd.", uscc="91310115MA1H7GQ2T0", region_code="310000"
    )


@pytest.fixture
def bj(db: Any) -> Employer:
    return Employer.objects.create(
        name="Chaoyang Systems (Beijing) Co., Ltd.", uscc="91110000600037341L", region_code="110000"
    )


def finding(
    rule: str,
    employer: Employer,
    p: Person | None = None,
    *,
    amount: int = 0,
    period: str = "",
    evidence: dict[str, Any] | None = None,
    severity: str = "high",
) -> Finding:
    """A finding as a scan would have stored it, with an amount chosen by the test."""
    period = period or f"P{next(_serial)}"
    evidence = evidence or {"fixture": period}
    return Finding.objects.create(
        rule=rule,
        key=f"{rule}|{employer.pk}|{p.pk if p else ''}|{period}",
        region_code=employer.region_code,
        employer=employer,
        person=p,
        period=period,
        severity=severity,
        amount_fen=amount,
        evidence=evidence,
        evidence_hash=evidence_hash(evidence),
        found_on=date(2025, 11, 20),
        seen_on=date(2025, 11, 20),
    )
