"""Billing's writes of money and state (billing/services.py): each takes an actor, refuses one who
may not, and leaves an audit event naming who did what; crediting and the year-end are set-based
(their number of queries does not grow with the number of bills or people)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from expatsi.access.actors import SYSTEM, Actor
from expatsi.audit.models import AuditEvent
from expatsi.audit.services import audit_record, audit_verify
from expatsi.billing import services
from expatsi.billing.models import (
    AccountCredit,
    AccountYear,
    Allocation,
    Bill,
    BillingRun,
    BillLine,
    Payment,
)
from expatsi.billing.payments import PENSION, account_credits
from expatsi.employers.models import Employer
from expatsi.rules import regions as regions_module
from expatsi.rules.accounts import statement
from expatsi.rules.dates import Month
from expatsi.rules.errors import Forbidden

from .conftest import employ, make_person

pytestmark = pytest.mark.django_db

AUG = Month(2025, 8)
OFFICER = Actor("agency", 7, "officer", regions=None)
BEIJING_STAFF = Actor("agency", 8, "beijing officer", regions=frozenset({"110000"}))
SHANGHAI_STAFF = Actor("agency", 9, "shanghai officer", regions=frozenset({"310000"}))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def who(event: AuditEvent) -> tuple[str, int | None, str]:
    return (event.actor_kind, event.actor_user_id, event.actor_label)


# --- billing runs -------------------------------------------------------------------------------


def test_a_run_is_audited_with_its_actor_and_refused_to_another_region(beijing, beijing_staff):
    with pytest.raises(Forbidden):
        services.billing_run(actor=SHANGHAI_STAFF, region_code="110000", month=AUG)
    assert not BillingRun.objects.exists() and not Bill.objects.exists()
    assert events("billing.run") == []

    result = services.billing_run(actor=BEIJING_STAFF, region_code="110000", month=AUG)
    [event] = events("billing.run")
    assert who(event) == ("agency", 8, "beijing officer")
    assert (event.object_type, event.object_id) == ("billing_run", str(result.run.pk))
    assert event.detail["region"] == "110000" and event.detail["month"] == "2025-08"
    assert event.detail["job"] is None and event.detail["employers"] == 1
    assert result.run.started_by == "beijing officer"
    assert audit_verify() == (True, None)


def test_a_recalculation_audits_one_run_per_month(beijing, beijing_staff):
    services.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    services.billing_run(actor=SYSTEM, region_code="110000", month=Month(2025, 9))
    with pytest.raises(Forbidden):
        services.billing_recalculate(
            actor=SHANGHAI_STAFF, region_code="110000", from_month=Month(2025, 7)
        )
    results = services.billing_recalculate(
        actor=OFFICER, region_code="110000", from_month=Month(2025, 7), to_month=Month(2025, 12)
    )
    recalculated = events("billing.recalculate")
    assert [e.detail["month"] for e in recalculated] == ["2025-08", "2025-09"]
    assert [e.object_id for e in recalculated] == [str(r.run.pk) for r in results]
    assert all(who(e) == ("agency", 7, "officer") for e in recalculated)
    assert all(e.detail["reason"].startswith("recalculated with policy") for e in recalculated)


# --- payments -----------------------------------------------------------------------------------


@pytest.fixture
def aug_bill(beijing, beijing_staff) -> Bill:
    services.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    return Bill.objects.get(month="2025-08")


def test_a_payment_is_audited_with_what_it_credited(beijing, beijing_staff, aug_bill):
    _, bravo = beijing_staff
    part = services.payment_record(
        actor=OFFICER, employer=beijing, amount=300000, received_on=date(2025, 9, 10)
    )
    rest = services.payment_for_bill(
        actor=OFFICER,
        bill_number=aug_bill.number,
        amount=aug_bill.total - 300000,
        received_on=date(2025, 9, 12),
    )
    first, second = events("payment.record")
    assert [e.object_id for e in (first, second)] == [str(part.pk), str(rest.pk)]
    assert all(who(e) == ("agency", 7, "officer") for e in (first, second))
    assert first.detail["account_credits"] == 0  # the bill is not paid in full yet
    # Paid in full: Bravo's 572.96 employee pension reaches the account, with the payment.
    assert (second.detail["account_credits"], second.detail["account_credit_amount"]) == (
        1,
        57296,
    )
    assert AccountCredit.objects.get(person=bravo).amount == 57296
    assert Payment.objects.get(pk=rest.pk).recorded_by == "officer"


def test_hr_cannot_record_a_payment(beijing, aug_bill):
    hr = Actor("hr", 11, "hr", employer_ids=frozenset({beijing.pk}))
    with pytest.raises(Forbidden):
        services.payment_record(actor=hr, employer=beijing, amount=100, received_on=AUG.last_day())
    assert not Payment.objects.exists() and events("payment.record") == []


def test_a_bank_statement_is_audited_as_a_whole_and_per_payment(beijing, aug_bill):
    text = (
        "transaction_id,date,amount,payer_uscc,reference\n"
        "T1,2025-09-10,3000.00,91110000600037341L,\n"
        "T2,2025-09-12,3330.27,91110000600037341L,\n"
    )
    services.bank_statement_import(actor=OFFICER, text=text, dry_run=True)
    assert not AuditEvent.objects.filter(
        action__in=["bank_statement.import", "payment.record"]
    ).exists()

    services.bank_statement_import(actor=OFFICER, text=text)
    again = services.bank_statement_import(actor=OFFICER, text=text)
    assert again.already_recorded == 2
    assert len(events("payment.record")) == 2  # the second import recorded no payment
    first, second = events("bank_statement.import")
    assert who(first) == ("agency", 7, "officer")
    assert first.object_type == "bank_statement" and first.object_id == second.object_id
    assert len(first.detail["sha256"]) == 64
    assert (first.detail["rows"], first.detail["recorded"], first.detail["already_recorded"]) == (
        2,
        2,
        0,
    )
    assert (second.detail["recorded"], second.detail["already_recorded"]) == (0, 2)


# --- crediting and the year-end -----------------------------------------------------------------


def _bill(employer: Employer, month: str, people: list[Any], amount: int = 10_000) -> Bill:
    """A bill of ``amount`` employee pension per person, paid in full."""
    bill = Bill.objects.create(
        employer=employer,
        region_code=employer.region_code,
        month=month,
        kind="regular",
        number=f"T-{employer.pk}-{month}",
        policy_version="test",
        employer_total=0,
        employee_total=amount * len(people),
        due_date=date(2025, 12, 15),
    )
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            person=p,
            insurance=PENSION,
            base=amount * 12,
            employer_rate=0,
            employee_rate=80_000,
            employer_amount=0,
            employee_amount=amount,
        )
        for p in people
    )
    payment = Payment.objects.create(
        employer=employer, amount=bill.total, received_on=date(2025, 12, 1)
    )
    Allocation.objects.create(
        payment=payment, bill=bill, principal=bill.total, paid_on=date(2025, 12, 1)
    )
    return bill


def _bare_bill(employer: Employer, month: str) -> Bill:
    """A bill to hang account credits on (one credit per person and bill)."""
    return Bill.objects.create(
        employer=employer,
        region_code=employer.region_code,
        month=month,
        kind="regular",
        number=f"B-{employer.pk}-{month}",
        policy_version="test",
        employer_total=0,
        employee_total=0,
        due_date=date(2026, 1, 15),
    )


def _queries(call: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return len(captured), result


@pytest.fixture
def chain_started() -> None:
    """The audit chain's head exists (its very first event creates it: extra queries once)."""
    audit_record(actor=SYSTEM, action="test.start", object_type="test", object_id=0)


def test_crediting_is_audited_and_refused_to_regional_staff(beijing, aug_bill):
    Allocation.objects.create(
        payment=Payment.objects.create(
            employer=beijing, amount=aug_bill.total, received_on=AUG.last_day()
        ),
        bill=aug_bill,
        principal=aug_bill.total,
        paid_on=AUG.last_day(),
    )  # paid outside payment_record: nothing credited yet
    for actor in (BEIJING_STAFF, Actor("hr", 11, "hr", employer_ids=frozenset({beijing.pk}))):
        with pytest.raises(Forbidden):
            services.credit_paid_bills(actor=actor)
    with pytest.raises(Forbidden):
        services.credit_paid_bills(actor=SHANGHAI_STAFF, employer_ids=[beijing.pk])
    assert not AccountCredit.objects.exists()

    assert services.credit_paid_bills(actor=BEIJING_STAFF, employer_ids=[beijing.pk]) == 1
    [event] = events("account.credit")
    assert who(event) == ("agency", 8, "beijing officer")
    assert event.detail == {"credits": 1, "bills": 1, "amount": 57296, "employers": [beijing.pk]}
    assert services.credit_paid_bills(actor=SYSTEM) == 0  # credited once
    assert len(events("account.credit")) == 1  # and nothing written, nothing audited


def test_crediting_makes_the_same_number_of_queries_for_more_bills_and_people(
    beijing, chain_started
):
    few = [make_person(f"F{i}") for i in range(2)]
    _bill(beijing, "2025-01", few)
    small, credited = _queries(lambda: services.credit_paid_bills(actor=SYSTEM))
    assert credited == 2
    many = [make_person(f"M{i}") for i in range(15)]
    for month in range(2, 8):
        _bill(beijing, f"2025-{month:02d}", many)
    large, credited = _queries(lambda: services.credit_paid_bills(actor=SYSTEM))
    assert credited == 6 * 15
    assert large == small
    assert AccountCredit.objects.filter(person=many[0]).count() == 6


def test_year_end_makes_the_same_number_of_queries_for_more_people(beijing, chain_started):
    people = [make_person(f"Y{i}") for i in range(2)]
    _bill(beijing, "2024-03", people)
    services.credit_paid_bills(actor=SYSTEM)
    small, closed = _queries(lambda: services.accounts_year_end(actor=SYSTEM, year=2024))
    assert closed == 2

    AccountYear.objects.all().delete()
    more = [make_person(f"Z{i}") for i in range(20)]
    bills = {m: _bare_bill(beijing, m) for m in ("2024-02", "2024-07")}
    AccountCredit.objects.bulk_create(
        AccountCredit(person=p, month=m, amount=5_000, bill=b)
        for p in more
        for m, b in bills.items()
    )
    large, closed = _queries(lambda: services.accounts_year_end(actor=SYSTEM, year=2024))
    assert closed == 22
    assert large == small  # one read, one insert, one audit event: not one query per person


def test_year_end_figures_are_those_of_each_persons_statement(beijing, chain_started):
    alpha, bravo, charlie = (make_person(n) for n in ("Alpha", "Bravo", "Charlie"))
    credits = {
        alpha: [("2024-05", 10_000), ("2025-02", 12_000), ("2025-09", 12_000), ("2026-01", 9)],
        bravo: [("2024-05", 10_000), ("2025-11", -3_000)],
        charlie: [("2025-12", 40_000)],
    }
    months = {m for rows in credits.values() for m, _ in rows}
    bills = {m: _bare_bill(beijing, m) for m in months}
    AccountCredit.objects.bulk_create(
        AccountCredit(person=p, month=m, amount=a, bill=bills[m])
        for p, rows in credits.items()
        for m, a in rows
    )
    AccountYear.objects.create(
        person=charlie,
        year=2025,
        opening=1,
        credits=1,
        interest=1,
        closing=3,
        rate_ppm=1,
    )  # already closed: stays as it is
    with pytest.raises(Forbidden):
        services.accounts_year_end(actor=BEIJING_STAFF, year=2025)
    assert services.accounts_year_end(actor=OFFICER, year=2025) == 2
    for person in (alpha, bravo):
        expected = next(
            y
            for y in statement(account_credits(person.pk), date(2025, 12, 31)).years
            if y.year == 2025
        )
        got = AccountYear.objects.get(person=person, year=2025)
        assert (got.opening, got.credits, got.interest, got.closing, got.rate_ppm) == (
            expected.opening,
            expected.credits,
            expected.interest,
            expected.closing,
            expected.rate_ppm,
        )
    assert AccountYear.objects.get(person=charlie, year=2025).closing == 3
    [event] = events("account.year_end")
    assert who(event) == ("agency", 7, "officer")
    assert (event.object_type, event.object_id) == ("account_year", "2025")
    assert event.detail["accounts"] == 2
    assert event.detail["interest"] == sum(
        y.interest for y in AccountYear.objects.filter(person__in=[alpha, bravo], year=2025)
    )
    assert services.accounts_year_end(actor=OFFICER, year=2025) == 0
    assert len(events("account.year_end")) == 1


def test_a_run_looks_the_region_policy_up_once_whatever_the_batches(
    beijing, beijing_staff, monkeypatch, settings
):
    """The policy is resolved by the service and passed down: not again per batch (compute, the
    batch writer and the contributions batch each looked it up before)."""
    second = Employer.objects.create(
        name="Second Beijing Co.", uscc="91110000600037342J", region_code="110000"
    )
    employ(make_person("Delta", "FRA"), second, 12000)
    settings.EXPATSI_BILLING_BATCH = 1
    real = regions_module.regions
    calls = []

    def counted() -> Any:
        calls.append(1)
        return real()

    monkeypatch.setattr(regions_module, "regions", counted)
    result = services.billing_run(actor=SYSTEM, region_code="110000", month=AUG)
    assert result.regular_bills == 2  # two batches
    assert len(calls) == 1
