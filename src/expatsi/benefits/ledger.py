"""The account a departure closes: its credits, the lump sum on a closing date, the months still
to settle, and whether the person is still before the statutory pension age.

An account is keyed by person in billing (one row per credited month): after a lump sum is paid,
the months up to the closing month belong to the closed account (billing's ``AccountClosing``,
written with benefits' ``AccountClosure``), and credits
for later months — a return to work in China — make a new account under the same social security
number. Reads only; the services decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from expatsi.benefits.models import AccountClosure
from expatsi.billing.models import Bill, BillingRun, BillKind, BillLine
from expatsi.billing.payments import account_credits, bill_state, last_closing
from expatsi.billing.retirement import WOMAN_ORIGINAL_AGE
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from expatsi.rules.accounts import Credit, LumpSum, lump_sum
from expatsi.rules.dates import Month
from expatsi.rules.retirement import RetirementAge, statutory_retirement


def last_closure(person_id: int) -> AccountClosure | None:
    return AccountClosure.objects.filter(person_id=person_id).order_by("-closed_month").first()


def current_credits(person_id: int) -> list[Credit]:
    """Credits of the account now open: those after the last closed month, if any (billing's
    closing entry, written when a lump sum is paid, is what its statement reads too)."""
    return account_credits(person_id)


def lump_sum_on(person_id: int, closing_date: date) -> LumpSum:
    """The lump sum = the open account's balance on ``closing_date`` (rules/accounts.py)."""
    return lump_sum(current_credits(person_id), closing_date)


def retirement_of(person: Person) -> RetirementAge:
    """Statutory retirement as the pension outlook computes it (women: the 55 category)."""
    woman = person.sex == "female"
    return statutory_retirement(
        Month.of(person.birth_date), person.sex, WOMAN_ORIGINAL_AGE if woman else None
    )


def pension_age_reached(person: Person, closing_date: date) -> RetirementAge | None:
    """The retirement facts when ``closing_date`` falls in or after the retirement month."""
    ret = retirement_of(person)
    return ret if Month.of(closing_date) >= ret.retirement_month else None


@dataclass(frozen=True, slots=True)
class Unsettled:
    unbilled: tuple[str, ...]  # YYYY-MM
    unpaid: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.unbilled or self.unpaid)

    def text(self) -> str:
        parts = []
        if self.unbilled:
            parts.append("not yet billed: " + ", ".join(self.unbilled))
        if self.unpaid:
            parts.append("billed but not fully paid: " + ", ".join(self.unpaid))
        return "; ".join(parts)


def _billing_began(employer_id: int, region_code: str) -> Month | None:
    """The first month this system billed the employer (or, before its first bill, its region):
    months before it were never billed here and are not asked for."""
    first = (
        Bill.objects.filter(employer_id=employer_id, kind=BillKind.REGULAR)
        .order_by("month")
        .values_list("month", flat=True)
        .first()
    )
    if first is None:
        first = (
            BillingRun.objects.filter(region_code=region_code)
            .order_by("month")
            .values_list("month", flat=True)
            .first()
        )
    return Month.parse(first) if first else None


def unsettled_months(person_id: int, closing_date: date) -> Unsettled:
    """Months of employment up to the closing month (after the last closed account) that are not
    billed, or whose bill is not fully paid: their contributions are not yet in the account."""
    closing = last_closing(person_id)
    after = Month.parse(closing.closed_month) if closing else None
    last_month = Month.of(closing_date)
    expected: set[tuple[int, Month]] = set()
    for e in Employment.objects.filter(
        person_id=person_id, start_date__lte=closing_date
    ).select_related("employer"):
        began = _billing_began(e.employer_id, e.employer.region_code)
        end = min(e.end_date or closing_date, closing_date)
        m = Month.of(e.start_date)
        while m <= Month.of(end) and m <= last_month:
            if (after is None or m > after) and (began is None or m >= began):
                expected.add((e.employer_id, m))
            m = m.plus(1)
    lines = (
        BillLine.objects.filter(person_id=person_id)
        .values_list("bill_id", "bill__employer_id", "bill__month")
        .distinct()
    )
    billed: set[tuple[int, Month]] = set()
    bill_ids: dict[int, Month] = {}
    for bill_id, employer_id, month in lines:
        key = (employer_id, Month.parse(month))
        if key in expected:
            billed.add(key)
            bill_ids[bill_id] = key[1]
    unpaid: set[Month] = set()
    for bill in Bill.objects.filter(pk__in=bill_ids).prefetch_related("allocations"):
        if bill_state(bill).outstanding > 0:
            unpaid.add(bill_ids[bill.pk])
    return Unsettled(
        unbilled=tuple(sorted({str(m) for _e, m in expected - billed})),
        unpaid=tuple(sorted(str(m) for m in unpaid)),
    )
