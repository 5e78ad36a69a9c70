"""Reads of bills, lines, payments, arrears and contributions, always within the actor's scope.

HR sees its own employers' bills; agency staff the bills of its regions; an employee sees no bill
(a bill is the employer's), only their own contribution lines, months counted and account. A bill
outside the actor's scope is not found, whatever the reason.

Reads of personal data are audited as card and person reads are: a bill with its lines
(``bill.read``), a person's contributions (``contributions.read``) and account statement
(``account.read``). Lists of bills (employers' totals, no person) are not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import overload

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.services import audit_record
from expatsi.billing import permissions, provenance
from expatsi.billing.models import (
    INSURANCE_CODES,
    AccountClosing,
    Allocation,
    Bill,
    BillingJob,
    BillingRun,
    BillLine,
    Payment,
)
from expatsi.billing.payments import (
    BillState,
    EmployerBalance,
    account_credits,
    bill_state,
    contribution_months,
    employer_balance,
    last_closing,
)
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employer_get, employers_visible
from expatsi.insurance.selectors import person_get
from expatsi.people.models import Person
from expatsi.rules.accounts import Statement, statement
from expatsi.rules.dates import Month
from expatsi.rules.errors import NotFound, RuleError


def bills_visible(actor: Actor) -> QuerySet[Bill]:
    qs = Bill.objects.select_related("employer")
    scope = permissions.bills_scope(actor)
    return qs if scope is None else qs.filter(scope)


def bills_filtered(
    actor: Actor,
    *,
    employer_id: int | None = None,
    region_code: str = "",
    month: str = "",
    kind: str = "",
) -> QuerySet[Bill]:
    qs = bills_visible(actor)
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    if region_code:
        qs = qs.filter(region_code=region_code)
    if month:
        qs = qs.filter(month=str(Month.parse(month)))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-month", "employer__name", "kind", "id")


def bill_get(*, actor: Actor, bill_id: int, audit: bool = True) -> Bill:
    """One bill the actor may see; the read is audited (its lines name people and their wages)."""
    bill = bills_visible(actor).prefetch_related("allocations").filter(pk=bill_id).first()
    if bill is None:
        raise NotFound("not_found", f"no bill {bill_id} that you may see", "bill_id")
    if audit:
        audit_record(
            actor=actor,
            action="bill.read",
            object_type="bill",
            object_id=bill.pk,
            detail={"number": bill.number, "employer": bill.employer_id},
        )
    return bill


def bill_row(*, actor: Actor, bill_id: int, on: date | None = None) -> BillRow:
    """One bill the actor may see with where it stands on ``on`` (default today)."""
    on = on or timezone.localdate()
    bill = bill_get(actor=actor, bill_id=bill_id)
    return BillRow(bill, bill_state(bill, on), on)


def bill_number_visible(actor: Actor, number: str) -> bool:
    """Whether a bill of this number exists among those the actor may see."""
    return bills_visible(actor).filter(number=number.strip()).exists()


def bill_allocations(bill: Bill) -> QuerySet[Allocation]:
    """The payments set against a bill already checked with :func:`bill_get`, in payment order."""
    return bill.allocations.select_related("payment").order_by("paid_on", "id")


def bill_lines(bill: Bill) -> QuerySet[BillLine]:
    """The lines of a bill already checked with :func:`bill_get`, person by person."""
    return (
        BillLine.objects.filter(bill=bill)
        .select_related("person")
        .order_by("person__family_name", "person__given_names", "person_id", "insurance", "id")
    )


@dataclass(frozen=True)
class BillRow:
    bill: Bill
    state: BillState
    on: date | None = None  # the day ``state`` is reckoned to

    @property
    def status(self) -> str:
        """paid | overpaid | partly_paid | overdue | open"""
        s = self.state
        if s.outstanding <= 0:
            return "paid" if s.outstanding == 0 else "overpaid"
        if s.days_overdue > 0:
            return "overdue"
        return "partly_paid" if s.principal_paid else "open"


def bill_rows(bills: QuerySet[Bill] | list[Bill], on: date | None = None) -> list[BillRow]:
    on = on or timezone.localdate()
    items = (
        list(bills.prefetch_related("allocations")) if isinstance(bills, QuerySet) else list(bills)
    )
    return [BillRow(b, bill_state(b, on), on) for b in items]


def payments_visible(actor: Actor, *, employer_id: int | None = None) -> QuerySet[Payment]:
    """Payments with their employer and allocations (and each allocation's bill) fetched with the
    page: a list of them asks three questions however long it is."""
    allocations = Allocation.objects.select_related("bill").order_by("id")
    qs = Payment.objects.select_related("employer").prefetch_related(
        Prefetch("allocations", queryset=allocations)
    )
    scope = permissions.bills_scope(actor)
    qs = qs if scope is None else qs.filter(scope)
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    return qs.order_by("-received_on", "-id")


def payment_allocations(payment: Payment) -> QuerySet[Allocation]:
    """The payment's allocations, oldest first: those fetched with :func:`payments_visible` when
    the payment came from there, else one query."""
    if "allocations" in getattr(payment, "_prefetched_objects_cache", {}):
        return payment.allocations.all()
    return payment.allocations.select_related("bill").order_by("id")


@dataclass(frozen=True)
class Balance:
    employer: Employer
    on: date
    amounts: EmployerBalance


def balance_get(*, actor: Actor, employer_id: int, on: date | None = None) -> Balance:
    """What an employer whose bills the actor may see owes on ``on`` (default today)."""
    employer = employer_get(actor=actor, employer_id=employer_id)
    if not permissions.may_see_bills(actor, employer):
        raise NotFound("not_found", f"no balance of employer {employer_id} that you may see", "")
    on = on or timezone.localdate()
    return Balance(employer, on, employer_balance(employer, on))


def arrears_bills(
    actor: Actor, on: date | None = None, *, employer_id: int | None = None
) -> QuerySet[Bill]:
    """Bills with principal outstanding after their due date, oldest first — chosen in the
    database (total less the principal allocated to them, as :func:`bill_state` reckons it), so a
    region's thousands of past bills are not each read to find the few unpaid."""
    on = on or timezone.localdate()
    qs = bills_visible(actor).filter(due_date__lt=on)
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    paid = Coalesce(Sum("allocations__principal"), Value(0))
    return (
        qs.annotate(principal_paid=paid)
        .filter(principal_paid__lt=F("employer_total") + F("employee_total"))
        .order_by("due_date", "id")
    )


class ArrearsRows(Sequence[BillRow]):
    """The arrears as rows, worked out only for the slice that is shown (a page of the API, the
    first rows of the payments page); its length is one COUNT."""

    def __init__(self, bills: QuerySet[Bill], on: date) -> None:
        self.bills, self.on = bills, on

    def __len__(self) -> int:
        return self.bills.count()

    @overload
    def __getitem__(self, index: int) -> BillRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[BillRow]: ...
    def __getitem__(self, index: int | slice) -> BillRow | list[BillRow]:
        if isinstance(index, slice):
            return bill_rows(self.bills.select_related("employer")[index], self.on)
        return bill_rows(self.bills.select_related("employer")[index : index + 1], self.on)[0]


def arrears(actor: Actor, on: date | None = None, *, employer_id: int | None = None) -> ArrearsRows:
    """Bills with principal outstanding after their due date, oldest first."""
    on = on or timezone.localdate()
    return ArrearsRows(arrears_bills(actor, on, employer_id=employer_id), on)


# --- collection (agency) --------------------------------------------------------------------------


@dataclass
class Collection:
    region_code: str
    month: str
    bills: int = 0
    billed: int = 0
    paid: int = 0
    outstanding: int = 0
    late_fees: int = 0  # accrued, unpaid
    late_fees_paid: int = 0


def collection(
    actor: Actor, *, region_code: str = "", month: str = "", on: date | None = None
) -> list[Collection]:
    """Billed, paid, outstanding and late fees per region and month (agency staff)."""
    if not permissions.may_see_collection(actor):
        return []
    on = on or timezone.localdate()
    qs = bills_visible(actor)
    if region_code:
        qs = qs.filter(region_code=region_code)
    if month:
        qs = qs.filter(month=str(Month.parse(month)))
    groups: dict[tuple[str, str], Collection] = {}
    for bill in qs.prefetch_related("allocations").order_by("-month", "region_code", "id"):
        key = (bill.region_code, bill.month)
        row = groups.setdefault(key, Collection(*key))
        state = bill_state(bill, on)
        row.bills += 1
        row.billed += bill.total
        row.paid += state.principal_paid
        row.outstanding += max(state.outstanding, 0)
        row.late_fees += state.fee_outstanding
        row.late_fees_paid += state.fee_paid
    return sorted(groups.values(), key=lambda c: (c.month, c.region_code), reverse=True)


def runs_visible(actor: Actor) -> QuerySet[BillingRun]:
    qs = BillingRun.objects.select_related("job")
    scope = permissions.runs_scope(actor)
    return (qs if scope is None else qs.filter(scope)).order_by("-started_at", "-id")


def jobs_visible(actor: Actor) -> QuerySet[BillingJob]:
    """Jobs of the regions the actor covers (agency staff); nobody else sees any."""
    qs = BillingJob.objects.all()
    scope = permissions.runs_scope(actor)
    return qs if scope is None else qs.filter(scope)


def job_get(*, actor: Actor, key: str) -> BillingJob:
    job = jobs_visible(actor).filter(key=key).first()
    if job is None:
        raise NotFound("not_found", "no billing job with this key that you may see", "key")
    return job


def run_get(*, actor: Actor, run_id: int) -> BillingRun:
    run = runs_visible(actor).filter(pk=run_id).first()
    if run is None:
        raise NotFound("not_found", f"no billing run {run_id} that you may see", "run_id")
    return run


# --- the employee's own contributions ---------------------------------------------------------


@dataclass
class ContributionMonth:
    month: str
    employer_id: int
    employer_name: str
    pension_base: int = 0
    pension_employer: int = 0
    pension_employee: int = 0
    employer_total: int = 0
    employee_total: int = 0
    adjusted: bool = False
    exempt: list[str] = field(default_factory=list)
    line_statuses: list[str] = field(default_factory=list)
    sources: list[provenance.Figure] = field(default_factory=list)
    # The month's bill from this employer, the subject of a dispute about the month ("Dispute
    # this" on My contributions): the regular bill, or the first adjustment bill if there is none.
    bill_id: int = 0

    @property
    def status(self) -> str:
        """The weakest status behind this month's amounts ("" if a bill predates statuses)."""
        return provenance.weakest(self.line_statuses)

    @property
    def status_label(self) -> str:
        return provenance.status_label(self.status)

    @property
    def url(self) -> str:
        """The source of the weakest figure behind the month, when it has a web address."""
        status = self.status
        return next((f.url for f in self.sources if f.status == status and f.url), "")


def _person_for(actor: Actor, person_id: int | None, *, audit: bool = True) -> int:
    if permissions.has_own_record(actor):
        if person_id is not None and person_id != actor.person_id:
            raise NotFound("not_found", f"no person {person_id} that you may see", "person_id")
        return actor.person_id or 0
    if person_id is not None and permissions.may_see_others_records(actor):
        return person_get(actor=actor, person_id=person_id, audit=audit).pk
    raise NotFound("not_found", "no contribution record that you may see", "person_id")


def person_for(actor: Actor, person_id: int | None = None) -> int:
    """The person whose contributions the actor may read: themself (employee), or a person in
    an agency actor's scope; anything else is not found."""
    return _person_for(actor, person_id)


def record_person(actor: Actor, person_id: int | None = None) -> Person:
    """The person whose record (contributions, account, pension) the actor reads, as
    :func:`person_for` decides; not audited again (the record's own read is)."""
    return Person.objects.get(pk=_person_for(actor, person_id, audit=False))


def _audit_read(actor: Actor, action: str, person_id: int, **detail: object) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="person",
        object_id=person_id,
        person_id=person_id,
        detail=detail or None,
    )


def my_contributions(
    actor: Actor, person_id: int | None = None, *, audit: bool = True
) -> list[ContributionMonth]:
    """Per month and employer: the pension base and contributions, and each side's total; net of
    adjustment bills. Newest first. The read is audited."""
    pid = _person_for(actor, person_id)
    if audit:
        _audit_read(actor, "contributions.read", pid)
    nationality = Person.objects.filter(pk=pid).values_list("nationality", flat=True).first() or ""
    rows: dict[tuple[str, int], ContributionMonth] = {}
    regular: set[tuple[str, int]] = set()  # months whose regular (not adjustment) bill was seen
    lines = (
        BillLine.objects.filter(person_id=pid)
        .select_related("bill__employer")
        .order_by("bill__month", "bill_id", "insurance", "id")
    )
    for line in lines:
        bill = line.bill
        key = (bill.month, bill.employer_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ContributionMonth(bill.month, bill.employer_id, bill.employer.name)
        if bill.kind == "adjustment":
            row.adjusted = True
            row.bill_id = row.bill_id or bill.pk
        elif key not in regular:
            regular.add(key)
            row.bill_id = bill.pk
        if line.insurance == 0:
            row.pension_employer += line.employer_amount
            row.pension_employee += line.employee_amount
            if line.base:
                row.pension_base = line.base
        row.employer_total += line.employer_amount
        row.employee_total += line.employee_amount
        name = INSURANCE_CODES[line.insurance]
        if line.flags & BillLine.FLAG_EXEMPT and name not in row.exempt:
            row.exempt.append(name)
        found = provenance.line_figures(bill, name, line.flags, nationality)
        row.line_statuses.append(provenance.weakest(f.status for f in found))
        row.sources += [f for f in found if f not in row.sources]
    return sorted(rows.values(), key=lambda r: (r.month, r.employer_name), reverse=True)


def my_months_counted(actor: Actor, person_id: int | None = None) -> int:
    return contribution_months(_person_for(actor, person_id))


def my_statement(
    actor: Actor, on: date | None = None, person_id: int | None = None, *, audit: bool = True
) -> Statement:
    """The individual account on ``on`` (default today), year by year, from credited
    contributions. The read is audited."""
    pid = _person_for(actor, person_id)
    day = on or timezone.localdate()
    result = statement(account_credits(pid), day)
    if audit:
        _audit_read(actor, "account.read", pid, on=day.isoformat())
    return result


@dataclass(frozen=True)
class Account:
    """The individual account of the person the actor may read, on a day."""

    person_id: int
    on: date
    months_counted: int
    statement: Statement


def my_account(actor: Actor, on: date | None = None) -> Account:
    on = on or timezone.localdate()
    st = my_statement(actor, on)
    return Account(actor.person_id or 0, on, my_months_counted(actor), st)


def credits_by_year(actor: Actor, person_id: int | None = None) -> dict[int, int]:
    pid = _person_for(actor, person_id)
    out: dict[int, int] = defaultdict(int)
    for m, amount in account_credits(pid):
        out[m.year] += amount
    return dict(out)


def employers_for(actor: Actor) -> list[Employer]:
    """The employers the actor may pick on the billing pages, by name."""
    return list(employers_visible(actor).order_by("name", "pk"))


PICKABLE = 200  # employers a drop-down offers; past that, the reader searches


def employers_pickable(actor: Actor) -> tuple[list[Employer], bool]:
    """The actor's employers by name, at most :data:`PICKABLE`, and whether there are more (an
    agency's region has tens of thousands: no page lists them all)."""
    found = list(employers_visible(actor).order_by("name", "pk")[: PICKABLE + 1])
    return found[:PICKABLE], len(found) > PICKABLE


def employer_visible(actor: Actor, raw: str) -> Employer | None:
    """The employer ``raw`` (an id from a link) names, if the actor may see it."""
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return employers_visible(actor).filter(pk=pk).first()


def bill_search(qs: QuerySet[Bill], query: str) -> QuerySet[Bill]:
    """Bills whose number starts with ``query``, or whose employer's name holds it or whose
    unified social credit code starts with it."""
    text = query.strip()
    return qs.filter(
        Q(number__istartswith=text)
        | Q(employer__name__icontains=text)
        | Q(employer__name_zh__icontains=text)
        | Q(employer__uscc__istartswith=text.upper())
    )


def employee_of(employer: Employer, person_id: int) -> Person:
    """A person employed (now or once) by ``employer``: whose base its HR may declare."""
    person = Person.objects.filter(pk=person_id, employments__employer=employer).first()
    if person is None:
        raise RuleError("unknown_person", "no such employee of this employer", "person_id")
    return person


def paid_total(employer_ids: list[int]) -> int:
    return int(
        Payment.objects.filter(employer_id__in=employer_ids).aggregate(s=Sum("amount"))["s"] or 0
    )


def my_account_closing(actor: Actor, person_id: int | None = None) -> AccountClosing | None:
    """The last closing of the account the actor reads (a lump sum paid out): the statement and
    the months counted begin after it."""
    return last_closing(_person_for(actor, person_id, audit=False))


def bill_line_counts(bill: Bill) -> tuple[int, int]:
    """(lines, people) of a bill already checked with :func:`bill_get`: one aggregate query on the
    bill's lines (the bill endpoint says how many there are to page through)."""
    counts = BillLine.objects.filter(bill=bill).aggregate(
        lines=Count("id"), people=Count("person_id", distinct=True)
    )
    return int(counts["lines"] or 0), int(counts["people"] or 0)
