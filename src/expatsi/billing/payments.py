"""Where bills and employers stand (paid, outstanding, late fees, credit), bank statements checked
row by row, and the individual pension account: what is read and computed. The writes (payments,
bank imports, crediting, the year-end) are in :mod:`expatsi.billing.services`.

Late fees (SIL Art. 86) accrue on each unpaid fen from the day after the due date until the day it
is paid.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from operator import itemgetter

from django.db.models import BigIntegerField, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.billing import permissions
from expatsi.billing.models import (
    AccountClosing,
    AccountCredit,
    AccountYear,
    Allocation,
    Bill,
    BillLine,
    Payment,
)
from expatsi.employers.models import Employer
from expatsi.rules.accounts import statement
from expatsi.rules.dates import Month, parse_date
from expatsi.rules.errors import RowError, RuleError
from expatsi.rules.money import parse_yuan
from expatsi.rules.penalties import late_fee

PENSION = 0


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


# --- bank statements ----------------------------------------------------------------------------


@dataclass
class BankImport:
    rows: int = 0
    recorded: int = 0
    already_recorded: int = 0
    errors: list[RowError] = field(default_factory=list)


BANK_COLUMNS = ("transaction_id", "date", "amount", "payer_uscc", "reference")


@dataclass(frozen=True)
class BankRow:
    """One checked row of a bank statement: a payment to record."""

    transaction_id: str
    received_on: date
    amount: int
    employer: Employer
    reference: str


def bank_statement_check(*, actor: Actor, text: str) -> tuple[BankImport, list[BankRow]]:
    """Check every row of a bank statement (CSV with columns transaction_id,date,amount,payer_uscc,
    reference) for ``actor``: the report with every row's errors, and the rows to record when
    there are none. Nothing is written (see :func:`expatsi.billing.services.bank_statement_import`)."""
    report = BankImport()
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in BANK_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RuleError(
            "missing_columns",
            f"the file needs the columns {', '.join(BANK_COLUMNS)}; missing: {', '.join(missing)}",
            "file",
        )
    parsed: list[BankRow] = []
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
            if not permissions.may_record_payment(actor, employer):
                raise RuleError("forbidden", "this employer is outside your regions", "payer_uscc")
            parsed.append(BankRow(tx, day, amount, employer, row.get("reference") or ""))
        except RuleError as exc:
            report.errors.append(RowError(n, exc.field, exc.message, exc.code, exc.params))
    return report, parsed


# --- the individual pension account --------------------------------------------------------------


def pension_credits_due(employer_ids: list[int] | None = None) -> tuple[list[AccountCredit], int]:
    """The employee pension contributions of fully paid bills not yet credited to individual
    accounts (unsaved), and how many bills they come from; of ``employer_ids`` only, if given.

    Set-based: one query, whatever the number of bills and people. A bill is fully paid when the
    principal allocated to it covers its total (a credit note, with a negative total, at once);
    each person's amount is the sum of their pension lines on the bill, and nothing is credited
    for a sum of zero."""
    uncredited = Bill.objects.filter(~Exists(AccountCredit.objects.filter(bill_id=OuterRef("pk"))))
    if employer_ids is not None:
        uncredited = uncredited.filter(employer_id__in=employer_ids)
    allocated = (
        Allocation.objects.filter(bill_id=OuterRef("pk"))
        .values("bill_id")
        .annotate(principal=Sum("principal"))
        .values("principal")
    )
    paid = uncredited.alias(
        principal=Coalesce(Subquery(allocated), Value(0), output_field=BigIntegerField())
    ).filter(principal__gte=F("employer_total") + F("employee_total"))
    sums = (
        BillLine.objects.filter(bill_id__in=paid.values("pk"), insurance=PENSION)
        .values("bill_id", "bill__month", "person_id")
        .annotate(amount=Sum("employee_amount"))
        .order_by("bill_id", "person_id")
    )
    credits = [
        AccountCredit(
            person_id=row["person_id"],
            month=row["bill__month"],
            amount=row["amount"],
            bill_id=row["bill_id"],
        )
        for row in sums
        if row["amount"]
    ]
    return credits, len({c.bill_id for c in credits})


def last_closing(person_id: int) -> AccountClosing | None:
    """The latest closing entry of the person's individual account (a lump sum paid), if any."""
    return (
        AccountClosing.objects.filter(person_id=person_id).order_by("-closed_month", "-pk").first()
    )


def _open_account_credits(person_id: int) -> QuerySet[AccountCredit]:
    """The credits of the account open now: after the last closed month, if the account was ever
    closed by a lump sum (Order No. 16 Art. 5: the periods of a terminated relationship do not add
    up any more; a return to work in China starts a new account under the same number)."""
    qs = AccountCredit.objects.filter(person_id=person_id)
    closing = last_closing(person_id)
    return qs if closing is None else qs.filter(month__gt=closing.closed_month)


def account_credits(person_id: int) -> list[tuple[Month, int]]:
    """The credits of the account open now (see :func:`_open_account_credits`)."""
    return [
        (Month.parse(m), a)
        for m, a in _open_account_credits(person_id).values_list("month", "amount")
    ]


def contribution_months(person_id: int) -> int:
    """Months with a net positive pension contribution, across every employer and every stay of
    the account open now (months of an account paid out as a lump sum no longer count)."""
    per_month: dict[str, int] = defaultdict(int)
    for m, a in _open_account_credits(person_id).values_list("month", "amount"):
        per_month[m] += a
    return sum(1 for v in per_month.values() if v > 0)


def year_end_accounts(year: int) -> Iterator[AccountYear]:
    """The year-end records (unsaved) of every account with credits up to ``year`` whose year is
    not closed yet, computed as :func:`expatsi.rules.accounts.statement` does for one person.

    Set-based: one query streams every credit concerned, ordered by person; each person's year is
    computed from their rows in memory. (Credits of later months do not change the year's figures,
    so they are not read.)"""
    closed = AccountYear.objects.filter(year=year, person_id=OuterRef("person_id"))
    paid_out = AccountClosing.objects.filter(
        person_id=OuterRef("person_id"), closed_month__gte=OuterRef("month")
    )
    rows = (
        AccountCredit.objects.filter(month__lte=f"{year}-12")
        .filter(~Exists(closed))
        .filter(~Exists(paid_out))  # months of an account paid out as a lump sum
        .order_by("person_id", "month", "id")
        .values_list("person_id", "month", "amount")
    )
    on = date(year, 12, 31)
    for person_id, items in groupby(rows.iterator(chunk_size=10_000), key=itemgetter(0)):
        st = statement([(Month.parse(m), a) for _, m, a in items], on)
        record = next((y for y in st.years if y.year == year), None)
        if record is None:
            continue
        yield AccountYear(
            person_id=person_id,
            year=year,
            opening=record.opening,
            credits=record.credits,
            interest=record.interest,
            closing=record.closing,
            rate_ppm=record.rate_ppm,
            provisional=record.provisional,
        )
