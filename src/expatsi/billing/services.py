"""Billing's writes of money and state: billing runs and recalculations, payments and bank
statements, crediting paid contributions to individual accounts, and the year-end.

Each takes the ``actor`` it acts for, checks that the actor may, and leaves an audit event in the
same transaction as what it writes. Pages, the API, the background job and the CLI all come here;
the run's set-based engine is :mod:`expatsi.billing.run`, and what is only read or computed
(bill states, balances, checking a bank statement, the year's interest) is in
:mod:`expatsi.billing.payments`.

Matching order for a payment (CONVENTION): the bill its reference names, then an open bill whose
outstanding amount equals the payment, then the oldest open bills; what is left pays accrued late
fees, oldest first; anything beyond stays as the employer's credit.
"""

from __future__ import annotations

import hashlib
from datetime import date
from itertools import batched

from django.db import IntegrityError, transaction
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.billing import permissions
from expatsi.billing import run as engine
from expatsi.billing.models import (
    AccountClosing,
    AccountCredit,
    AccountYear,
    Allocation,
    Bill,
    BillingJob,
    BillingPartition,
    BillingRun,
    Payment,
    RunStatus,
)
from expatsi.billing.payments import (
    BankImport,
    bank_statement_check,
    bill_state,
    pension_credits_due,
    year_end_accounts,
)
from expatsi.billing.run import Progress, RunResult
from expatsi.employers.models import Employer
from expatsi.rules.dates import Month
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RuleError
from expatsi.rules.regions import region

YEAR_END_BATCH = 2000  # account years inserted per statement: memory stays flat for any number

# --- billing runs ---------------------------------------------------------------------------------


def _may_bill(actor: Actor, region_code: str) -> None:
    if not permissions.may_run_billing(actor, region_code):
        raise Forbidden("forbidden", "billing runs are started by the agency of the region", "")


def billing_run(
    *,
    actor: Actor,
    region_code: str,
    month: Month,
    progress: Progress | None = None,
    job: BillingJob | None = None,
    issued_on: date | None = None,
) -> RunResult:
    """Bill ``region_code`` for ``month`` as ``actor`` (the agency of the region, or the system);
    safe to run again at any time, and starting again after an interrupted run resumes it (see
    :func:`expatsi.billing.run.run_month`). The run's audit event names the actor."""
    _may_bill(actor, region_code)
    return engine.run_month(
        actor=actor,
        policy=region(region_code),
        month=month,
        progress=progress,
        job=job,
        issued_on=issued_on,
    )


def billing_run_partitioned(
    *, actor: Actor, region_code: str, month: Month, job: BillingJob | None = None
) -> BillingRun:
    """Record a run of ``region_code`` for ``month`` split into partitions, for the worker pool
    (:func:`billing_partition_work`); its audit event names the actor once."""
    _may_bill(actor, region_code)
    return engine.start_month(actor=actor, policy=region(region_code), month=month, job=job)


def billing_partition_work(
    *, actor: Actor, partition_id: int, issued_on: date | None = None
) -> RunResult:
    """Bill one partition of a run as ``actor`` (checked again: they may have lost the region
    since the run was queued); see :func:`expatsi.billing.run.work_partition`."""
    part = BillingPartition.objects.select_related("run").get(pk=partition_id)
    try:
        _may_bill(actor, part.run.region_code)
    except Forbidden as exc:
        BillingRun.objects.filter(pk=part.run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=exc.message[:2000], finished_at=timezone.now()
        )
        raise
    return engine.work_partition(
        policy=region(part.run.region_code), partition_id=partition_id, issued_on=issued_on
    )


def billing_recalculate(
    *,
    actor: Actor,
    region_code: str,
    from_month: Month,
    to_month: Month | None = None,
    progress: Progress | None = None,
    job: BillingJob | None = None,
    issued_on: date | None = None,
) -> list[RunResult]:
    """After limits or rates were added or corrected: re-run every billed month from ``from_month``
    to ``to_month`` (default this month); only differences are written, as adjustment bills that
    say old value, new value and why. One audited run per month."""
    _may_bill(actor, region_code)
    policy = region(region_code)
    last = to_month or Month.of(timezone.localdate())
    return [
        engine.run_month(
            actor=actor,
            policy=policy,
            month=m,
            progress=progress,
            reason=engine.recalculation_reason(policy, m),
            kind="recalculate",
            job=job,
            issued_on=issued_on,
        )
        for m in engine.billed_months(policy.code, from_month, last)
    ]


# --- payments -------------------------------------------------------------------------------------


def _open_bills(employer: Employer) -> list[Bill]:
    bills = Bill.objects.select_for_update().filter(employer=employer).order_by("due_date", "id")
    return [b for b in bills if bill_state(b).outstanding > 0]


def _allocate(payment: Payment, amount: int) -> int:
    """Allocate ``amount`` of ``payment``; returns what is left as credit."""
    left = amount
    open_bills = _open_bills(payment.employer)
    outstanding = {b.pk: bill_state(b, payment.received_on).outstanding for b in open_bills}
    ordered: list[Bill] = []
    by_ref = [b for b in open_bills if payment.reference and b.number == payment.reference.strip()]
    by_amount = [b for b in open_bills if outstanding[b.pk] == left and b not in by_ref]
    for b in by_ref + by_amount[:1] + open_bills:
        if b not in ordered:
            ordered.append(b)
    for b in ordered:
        if left <= 0:
            break
        take = min(left, outstanding[b.pk])
        if take > 0:
            Allocation.objects.create(
                payment=payment, bill=b, principal=take, paid_on=payment.received_on
            )
            left -= take
    if left > 0:  # then late fees, oldest first
        for b in Bill.objects.filter(employer=payment.employer).order_by("due_date", "id"):
            state = bill_state(b, payment.received_on)
            if state.outstanding <= 0 and state.fee_outstanding > 0:
                take = min(left, state.fee_outstanding)
                Allocation.objects.create(
                    payment=payment, bill=b, late_fee=take, paid_on=payment.received_on
                )
                left -= take
                if left <= 0:
                    break
    return left


def _recorded(external_id: str, employer: Employer, amount: int) -> Payment | None:
    """The payment already recorded for this bank transaction, if it is the same one."""
    existing = Payment.objects.filter(external_id=external_id).first()
    if existing is not None and (existing.employer_id != employer.pk or existing.amount != amount):
        raise Conflict(
            "duplicate_transaction",
            f"transaction {external_id} was recorded with other data",
            "external_id",
        )
    return existing


def _credit(employer_ids: list[int] | None) -> tuple[int, int, int]:
    """Credit what is due (see :func:`expatsi.billing.payments.pension_credits_due`); returns
    (credits, bills, amount). The caller audits: alone, or as part of the payment that paid."""
    credits, bills = pension_credits_due(employer_ids)
    AccountCredit.objects.bulk_create(credits, ignore_conflicts=True, batch_size=5000)
    return len(credits), bills, sum(c.amount for c in credits)


def payment_record(
    *,
    actor: Actor,
    employer: Employer,
    amount: int,
    received_on: date,
    reference: str = "",
    source: str = "entered",
    external_id: str | None = None,
) -> Payment:
    """Record a payment and match it to bills; idempotent on ``external_id`` (bank transaction id)."""
    payment, _ = _payment_record(
        actor=actor,
        employer=employer,
        amount=amount,
        received_on=received_on,
        reference=reference,
        source=source,
        external_id=external_id,
    )
    return payment


def _payment_record(
    *,
    actor: Actor,
    employer: Employer,
    amount: int,
    received_on: date,
    reference: str,
    source: str,
    external_id: str | None,
) -> tuple[Payment, bool]:
    """``payment_record``, also saying whether this call created the payment.

    One transaction: the payment, its allocations, the pension credits of the bills it paid in
    full, and one audit event saying all of it."""
    permissions.check_record_payment(actor, employer)
    if amount <= 0:
        raise RuleError("invalid_amount", "a payment must be more than 0", "amount")
    if received_on > timezone.localdate():
        raise RuleError("future_date", "a payment cannot be received in the future", "received_on")
    if external_id:
        existing = _recorded(external_id, employer, amount)
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                employer=employer,
                amount=amount,
                received_on=received_on,
                reference=reference.strip()[:100],
                source=source,
                external_id=external_id or None,
                recorded_by=actor.label[:200],
            )
            credit = _allocate(payment, amount)
            credits, _bills, credited = _credit([employer.pk])
            audit_record(
                actor=actor,
                action="payment.record",
                object_type="payment",
                object_id=payment.pk,
                detail={
                    "employer": employer.pk,
                    "amount": amount,
                    "credit": credit,
                    "account_credits": credits,
                    "account_credit_amount": credited,
                },
            )
    except IntegrityError:
        # Another process recorded the same transaction between the check above and this insert
        # (the unique index made this one wait for its commit): answer as a retry would.
        existing = _recorded(external_id, employer, amount) if external_id else None
        if existing is None:
            raise Conflict(
                "duplicate_transaction",
                f"transaction {external_id} is already recorded",
                "external_id",
            ) from None
        return existing, False
    return payment, True


def payment_for_bill(
    *,
    actor: Actor,
    bill_number: str,
    amount: int,
    received_on: date,
    external_id: str | None = None,
) -> Payment:
    bill = Bill.objects.select_related("employer").filter(number=bill_number).first()
    if bill is None:
        raise NotFound("unknown_bill", f"no bill numbered {bill_number!r}", "bill")
    return payment_record(
        actor=actor,
        employer=bill.employer,
        amount=amount,
        received_on=received_on,
        reference=bill_number,
        external_id=external_id,
    )


def bank_statement_import(*, actor: Actor, text: str, dry_run: bool = False) -> BankImport:
    """CSV with columns transaction_id,date,amount,payer_uscc,reference. Every row is checked first;
    one bad row and nothing is written. Re-importing the same file records nothing twice.

    One transaction: each payment with its own audit event, then one event for the statement
    (its digest and counts), so an import cut short leaves nothing behind."""
    if not permissions.may_import_bank_statement(actor):
        raise Forbidden("forbidden", "bank statements are imported by the agency", "")
    report, rows = bank_statement_check(actor=actor, text=text)
    if report.errors or dry_run:
        return report
    digest = hashlib.sha256(text.encode()).hexdigest()
    with transaction.atomic():
        for row in rows:
            _, created = _payment_record(
                actor=actor,
                employer=row.employer,
                amount=row.amount,
                received_on=row.received_on,
                reference=row.reference,
                source="bank",
                external_id=row.transaction_id,
            )
            if created:
                report.recorded += 1
            else:
                report.already_recorded += 1
        audit_record(
            actor=actor,
            action="bank_statement.import",
            object_type="bank_statement",
            object_id=digest[:32],
            detail={
                "sha256": digest,
                "rows": report.rows,
                "recorded": report.recorded,
                "already_recorded": report.already_recorded,
            },
        )
    return report


# --- the individual pension account ---------------------------------------------------------------


def credit_paid_bills(*, actor: Actor, employer_ids: list[int] | None = None) -> int:
    """Credit employee pension contributions of fully paid bills to individual accounts (once);
    returns the number of credits written. Every employer's bills (the daily job, the year-end),
    or ``employer_ids``' only; the actor must cover their regions. One audit event when anything
    was credited (a call that finds nothing due writes nothing)."""
    if employer_ids is None:
        if not permissions.may_credit_accounts(actor):
            raise Forbidden("forbidden", "accounts are credited by the agency of every region", "")
    elif not all(
        permissions.may_credit_accounts(actor, e)
        for e in Employer.objects.filter(pk__in=employer_ids)
    ):
        raise Forbidden("forbidden", "accounts are credited by the agency of the region", "")
    with transaction.atomic():
        credits, bills, amount = _credit(employer_ids)
        if credits:
            audit_record(
                actor=actor,
                action="account.credit",
                object_type="account_credit",
                object_id="all" if employer_ids is None else ",".join(map(str, employer_ids))[:60],
                detail={
                    "credits": credits,
                    "bills": bills,
                    "amount": amount,
                    "employers": employer_ids,
                },
            )
    return credits


def accounts_year_end(*, actor: Actor, year: int) -> int:
    """Credit the year's interest to every account with credits (idempotent: a closed year stays);
    returns the number of accounts closed. Set-based: a fixed number of queries for any number of
    accounts (one read, one insert per :data:`YEAR_END_BATCH` accounts, one audit event)."""
    if not permissions.may_close_account_year(actor):
        raise Forbidden("forbidden", "the year-end is run by the agency of every region", "")
    closed = interest = provisional = 0
    with transaction.atomic():
        for chunk in batched(year_end_accounts(year), YEAR_END_BATCH):
            AccountYear.objects.bulk_create(chunk, ignore_conflicts=True)
            closed += len(chunk)
            interest += sum(y.interest for y in chunk)
            provisional += sum(1 for y in chunk if y.provisional)
        if closed:
            audit_record(
                actor=actor,
                action="account.year_end",
                object_type="account_year",
                object_id=year,
                detail={"accounts": closed, "interest": interest, "provisional": provisional},
            )
    return closed


def account_close(
    *,
    actor: Actor,
    person_id: int,
    closed_on: date,
    amount: int,
    reference: str,
    region_code: str,
) -> AccountClosing:
    """Write the closing entry of the person's individual account: the balance up to
    ``closed_on`` was paid out (``amount`` fen) and the relationship terminated. From then on the
    statement, the months counted and the pension outlook read only later credits. Idempotent by
    ``reference`` (what closed it): a second call returns the entry already written.

    Called by the layer above (benefits) inside its own transaction when the bank confirms the
    lump sum: billing keeps the account, benefits decides when it closes."""
    if not permissions.may_close_account(actor, region_code):
        raise Forbidden("forbidden", "an account is closed by the agency that paid it out", "")
    with transaction.atomic():
        closing, created = AccountClosing.objects.get_or_create(
            reference=reference,
            defaults={
                "person_id": person_id,
                "closed_on": closed_on,
                "closed_month": str(Month.of(closed_on)),
                "amount": amount,
            },
        )
        if created:
            audit_record(
                actor=actor,
                action="account.close",
                object_type="account_closing",
                object_id=closing.pk,
                person_id=person_id,
                detail={"closed_on": closed_on, "amount": amount, "reference": reference},
            )
    return closing
