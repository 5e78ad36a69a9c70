"""Payments, matching, arrears, late fees and the individual pension account.

Matching order for a payment (CONVENTION): the bill its reference names, then an open bill whose
outstanding amount equals the payment, then the oldest open bills; what is left pays accrued late
fees, oldest first; anything beyond stays as the employer's credit. Late fees (SIL Art. 86) accrue
on each unpaid fen from the day after the due date until the day it is paid.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.billing.models import AccountCredit, AccountYear, Allocation, Bill, BillLine, Payment
from expatsi.employers.models import Employer
from expatsi.rules.accounts import statement
from expatsi.rules.dates import Month, parse_date
from expatsi.rules.errors import Conflict, Forbidden, NotFound, RowError, RuleError
from expatsi.rules.money import parse_yuan
from expatsi.rules.penalties import late_fee

PENSION = 0


def _may_record(actor: Actor, employer: Employer) -> None:
    if actor.covers_region(employer.region_code):
        return
    if actor.kind == "hr" and employer.pk in actor.employer_ids:
        raise Forbidden(
            "forbidden", "payments are recorded by the agency or arrive from the bank", ""
        )
    raise NotFound("not_found", f"no employer {employer.pk} that you may see", "employer_id")


@dataclass(frozen=True)
class BillState:
    bill: Bill
    principal_paid: int
    fee_paid: int
    outstanding: int
    late_fee: int  # accrued to the date asked, paid portions included
    fee_outstanding: int
    days_overdue: int


def bill_state(bill: Bill, on: date | None = None) -> BillState:
    """Where a bill stands on ``on``: principal paid, outstanding, late fee accrued and unpaid."""
    on = on or timezone.localdate()
    allocations = list(bill.allocations.all()) if bill.pk else []
    paid = sum(a.principal for a in allocations)
    fee_paid = sum(a.late_fee for a in allocations)
    total = bill.total
    fee = 0
    for a in allocations:
        if a.principal > 0 and a.paid_on > bill.due_date:
            fee += late_fee(a.principal, bill.due_date, a.paid_on).fee_fen
    outstanding = total - paid
    if outstanding > 0 and on > bill.due_date:
        fee += late_fee(outstanding, bill.due_date, on).fee_fen
    days = max(0, (on - bill.due_date).days) if outstanding > 0 else 0
    return BillState(bill, paid, fee_paid, outstanding, fee, max(fee - fee_paid, 0), days)


@dataclass
class EmployerBalance:
    billed: int = 0
    paid: int = 0
    principal_outstanding: int = 0
    late_fees_outstanding: int = 0
    credit: int = 0
    bills: list[BillState] = field(default_factory=list)

    @property
    def total_due(self) -> int:
        return max(self.principal_outstanding + self.late_fees_outstanding - self.credit, 0)


def employer_balance(employer: Employer, on: date | None = None) -> EmployerBalance:
    on = on or timezone.localdate()
    result = EmployerBalance()
    for bill in (
        Bill.objects.filter(employer=employer)
        .prefetch_related("allocations")
        .order_by("due_date", "id")
    ):
        state = bill_state(bill, on)
        result.bills.append(state)
        result.billed += bill.total
        if state.outstanding > 0:
            result.principal_outstanding += state.outstanding
            result.late_fees_outstanding += state.fee_outstanding
        elif state.outstanding < 0:
            result.credit += -state.outstanding  # a credit note not yet used
        else:
            result.late_fees_outstanding += state.fee_outstanding
    payments = Payment.objects.filter(employer=employer).aggregate(s=Sum("amount"))["s"] or 0
    allocated = Allocation.objects.filter(payment__employer=employer).aggregate(
        p=Sum("principal"), f=Sum("late_fee")
    )
    result.paid = payments
    result.credit += payments - (allocated["p"] or 0) - (allocated["f"] or 0)
    return result


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
    """``payment_record``, also saying whether this call created the payment."""
    _may_record(actor, employer)
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
            audit_record(
                actor=actor,
                action="payment.record",
                object_type="payment",
                object_id=payment.pk,
                detail={"employer": employer.pk, "amount": amount, "credit": credit},
            )
            credit_paid_bills(employer_ids=[employer.pk])
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


# --- bank statements ----------------------------------------------------------------------------


@dataclass
class BankImport:
    rows: int = 0
    recorded: int = 0
    already_recorded: int = 0
    errors: list[RowError] = field(default_factory=list)


BANK_COLUMNS = ("transaction_id", "date", "amount", "payer_uscc", "reference")


def bank_statement_import(*, actor: Actor, text: str, dry_run: bool = False) -> BankImport:
    """CSV with columns transaction_id,date,amount,payer_uscc,reference. Every row is checked first;
    one bad row and nothing is written. Re-importing the same file records nothing twice."""
    report = BankImport()
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in BANK_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RuleError(
            "missing_columns",
            f"the file needs the columns {', '.join(BANK_COLUMNS)}; missing: {', '.join(missing)}",
            "file",
        )
    parsed: list[tuple[str, date, int, Employer, str]] = []
    employers = {e.uscc: e for e in Employer.objects.all()}
    seen: set[str] = set()
    for n, row in enumerate(reader, start=2):
        report.rows += 1
        try:
            tx = (row["transaction_id"] or "").strip()
            if not tx:
                raise RuleError("required", "a transaction id is required", "transaction_id")
            if tx in seen:
                raise RuleError(
                    "duplicate", f"transaction {tx} appears twice in the file", "transaction_id"
                )
            seen.add(tx)
            day = parse_date(row["date"], field="date")
            amount = parse_yuan(row["amount"], field="amount")
            if amount <= 0:
                raise RuleError("invalid_amount", "the amount must be more than 0", "amount")
            employer = employers.get((row["payer_uscc"] or "").strip().upper())
            if employer is None:
                raise RuleError(
                    "unknown_employer", f"no employer with USCC {row['payer_uscc']!r}", "payer_uscc"
                )
            if not actor.covers_region(employer.region_code):
                raise RuleError("forbidden", "this employer is outside your regions", "payer_uscc")
            parsed.append((tx, day, amount, employer, row.get("reference") or ""))
        except RuleError as exc:
            report.errors.append(RowError(n, exc.field, exc.message, exc.code, exc.params))
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        for tx, day, amount, employer, reference in parsed:
            _, created = _payment_record(
                actor=actor,
                employer=employer,
                amount=amount,
                received_on=day,
                reference=reference,
                source="bank",
                external_id=tx,
            )
            if created:
                report.recorded += 1
            else:
                report.already_recorded += 1
    return report


# --- the individual pension account --------------------------------------------------------------


def credit_paid_bills(*, employer_ids: list[int] | None = None) -> int:
    """Credit employee pension contributions of fully paid bills to individual accounts (once)."""
    bills = Bill.objects.filter(~Q(pk__in=AccountCredit.objects.values("bill_id")))
    if employer_ids is not None:
        bills = bills.filter(employer_id__in=employer_ids)
    created = 0
    for bill in bills.prefetch_related("allocations"):
        if bill_state(bill).outstanding > 0:
            continue
        sums: dict[int, int] = defaultdict(int)
        for person_id, amount in BillLine.objects.filter(bill=bill, insurance=PENSION).values_list(
            "person_id", "employee_amount"
        ):
            sums[person_id] += amount
        AccountCredit.objects.bulk_create(
            [
                AccountCredit(person_id=p, month=bill.month, amount=a, bill=bill)
                for p, a in sums.items()
                if a
            ],
            ignore_conflicts=True,
        )
        created += len(sums)
    return created


def account_credits(person_id: int) -> list[tuple[Month, int]]:
    return [
        (Month.parse(m), a)
        for m, a in AccountCredit.objects.filter(person_id=person_id).values_list("month", "amount")
    ]


def contribution_months(person_id: int) -> int:
    """Months with a net positive pension contribution, across every employer and every stay."""
    per_month: dict[str, int] = defaultdict(int)
    for m, a in AccountCredit.objects.filter(person_id=person_id).values_list("month", "amount"):
        per_month[m] += a
    return sum(1 for v in per_month.values() if v > 0)


def accounts_year_end(*, year: int) -> int:
    """Credit the year's interest to every account with credits (idempotent: a closed year stays)."""
    done = set(AccountYear.objects.filter(year=year).values_list("person_id", flat=True))
    people = set(
        AccountCredit.objects.filter(month__lte=f"{year}-12").values_list("person_id", flat=True)
    )
    rows = []
    for person_id in sorted(people - done):
        st = statement(account_credits(person_id), date(year, 12, 31))
        record = next((y for y in st.years if y.year == year), None)
        if record is None:
            continue
        rows.append(
            AccountYear(
                person_id=person_id,
                year=year,
                opening=record.opening,
                credits=record.credits,
                interest=record.interest,
                closing=record.closing,
                rate_ppm=record.rate_ppm,
                provisional=record.provisional,
            )
        )
    AccountYear.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
