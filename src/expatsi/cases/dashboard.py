"""The figures of the agency dashboard, read within the actor's scope and aggregated in SQL.

Each function runs one query (two for arrears) whatever the number of people, bills or cards:
the database counts and sums, Python only puts the few rows it gets back (one per month, rule ×
region × status, or day) in order. Every query starts from the owning app's own selector
(``registrations_visible``, ``bills_visible``, ``cards_visible``, ``findings_visible``), so staff
of some regions count only what they may see, and the region filter narrows that further (a
region they do not cover gives nothing, never someone else's figures).

What each figure means:

- **Registrations on time or late**, by the month of registration: a registration accepted with
  a registration day on or before its deadline (30 days after the work permit, Order No. 16 Art.
  4) is on time, after it late — the rule the registrations pages apply
  (``insurance.selectors.registration_deadline_status``). Filings not yet accepted, or rejected,
  are not registrations yet.
- **Findings** first found in the period, by rule, region and status.
- **Arrears** on a day: the principal of bills due before that day and not paid by it (the
  ledger's "outstanding after the due date"); for each month, on its last day (today for the
  month under way). Credit notes (bills of zero or less) owe nothing and are left out.
- **Cards expiring** from today to the 89th day after it (90 days), active cards only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import BigIntegerField, Count, F, Q, Sum
from django.db.models.functions import TruncMonth

from expatsi.access.actors import Actor
from expatsi.billing.models import Allocation
from expatsi.billing.selectors import bills_visible
from expatsi.cards.models import CardStatus
from expatsi.cards.selectors import cards_visible
from expatsi.cases import permissions
from expatsi.cases.selectors import findings_visible
from expatsi.insurance.models import RegistrationStatus
from expatsi.insurance.selectors import registrations_visible
from expatsi.rules.dates import Month
from expatsi.rules.errors import Forbidden, RuleError

MAX_MONTHS = 36
EXPIRY_DAYS = 90
WEEK = 7


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: one region ("" for every region the actor covers) over a run
    of whole months, as of ``today``."""

    region_code: str
    first: Month
    last: Month
    today: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise RuleError("period_reversed", "the last month is before the first", "end")
        if self.last.minus(self.first) >= MAX_MONTHS:
            raise RuleError("period_too_long", f"at most {MAX_MONTHS} months", "start")
        if self.first > Month.of(self.today):
            raise RuleError("period_in_future", "the period starts after this month", "start")

    @property
    def months(self) -> list[Month]:
        return [self.first.plus(i) for i in range(self.last.minus(self.first) + 1)]

    @classmethod
    def default(cls, today: date, region_code: str = "") -> Filters:
        """The twelve months up to and including this one."""
        this = Month.of(today)
        return cls(region_code, this.plus(-11), this, today)


def require_staff(actor: Actor) -> None:
    if not permissions.is_staff(actor):
        raise Forbidden("forbidden", "only agency staff see the compliance dashboard", "")


@dataclass(frozen=True)
class OnTime:
    on_time: int = 0
    late: int = 0


def registrations_by_month(actor: Actor, f: Filters) -> dict[Month, OnTime]:
    """Registrations per month of registration, on time or late (one query)."""
    require_staff(actor)
    qs = registrations_visible(actor).filter(
        status=RegistrationStatus.ACCEPTED,
        registered_on__gte=f.first.first_day(),
        registered_on__lte=f.last.last_day(),
    )
    if f.region_code:
        qs = qs.filter(employer__region_code=f.region_code)
    rows = (
        qs.annotate(month=TruncMonth("registered_on"))
        .values("month")
        .annotate(
            on_time=Count("pk", filter=Q(registered_on__lte=F("deadline"))),
            late=Count("pk", filter=Q(registered_on__gt=F("deadline"))),
        )
        .order_by("month")
    )
    out = {m: OnTime() for m in f.months}
    for row in rows:
        month = Month(row["month"].year, row["month"].month)
        out[month] = OnTime(row["on_time"], row["late"])
    return out


@dataclass(frozen=True)
class FindingCount:
    rule: str
    region_code: str
    status: str
    count: int


def findings_counts(actor: Actor, f: Filters) -> list[FindingCount]:
    """Findings first found in the period, per rule × region × status (one query)."""
    require_staff(actor)
    qs = findings_visible(actor).filter(
        found_on__gte=f.first.first_day(), found_on__lte=f.last.last_day()
    )
    if f.region_code:
        qs = qs.filter(region_code=f.region_code)
    rows = (
        qs.values("rule", "region_code", "status")
        .annotate(n=Count("pk"))
        .order_by("rule", "region_code", "status")
    )
    return [FindingCount(r["rule"], r["region_code"], r["status"], r["n"]) for r in rows]


def arrears_day(month: Month, today: date) -> date:
    """The day a month's arrears are taken on: its last day, or today for the month under way."""
    return min(month.last_day(), today)


def arrears_by_month(actor: Actor, f: Filters) -> dict[Month, int]:
    """Principal unpaid after the due date, in fen, on each month's day (two queries: what was
    due, what was paid, each summed once per month by a filtered aggregate)."""
    require_staff(actor)
    bills = bills_visible(actor)
    if f.region_code:
        bills = bills.filter(region_code=f.region_code)
    bills = bills.alias(owed=F("employer_total") + F("employee_total")).filter(owed__gt=0)
    months = [m for m in f.months if m.first_day() <= f.today]
    if not months:
        return dict.fromkeys(f.months, 0)
    days = {m: arrears_day(m, f.today) for m in months}
    due = bills.aggregate(
        **{
            f"m{m.index}": Sum(
                F("employer_total") + F("employee_total"),
                filter=Q(due_date__lt=d),
                output_field=BigIntegerField(),
            )
            for m, d in days.items()
        }
    )
    paid = Allocation.objects.filter(bill__in=bills.values("pk")).aggregate(
        **{
            f"m{m.index}": Sum("principal", filter=Q(bill__due_date__lt=d, paid_on__lte=d))
            for m, d in days.items()
        }
    )
    out = dict.fromkeys(f.months, 0)
    for m in months:
        key = f"m{m.index}"
        out[m] = max((due[key] or 0) - (paid[key] or 0), 0)
    return out


def cards_expiring(actor: Actor, f: Filters) -> dict[date, int]:
    """Active cards by the day their validity ends, from today to the 89th day after (one
    query); the region filter applies, the period does not."""
    require_staff(actor)
    qs = cards_visible(actor).filter(
        status=CardStatus.ACTIVE,
        valid_to__gte=f.today,
        valid_to__lt=f.today + timedelta(days=EXPIRY_DAYS),
    )
    if f.region_code:
        qs = qs.filter(employer__region_code=f.region_code)
    rows = qs.values("valid_to").annotate(n=Count("pk")).order_by("valid_to")
    return {r["valid_to"]: r["n"] for r in rows if r["valid_to"] is not None}


def expiry_weeks(today: date) -> list[tuple[date, date]]:
    """The 90 days from today as weeks (first and last day); the last one is shorter."""
    end = today + timedelta(days=EXPIRY_DAYS - 1)
    out = []
    start = today
    while start <= end:
        out.append((start, min(start + timedelta(days=WEEK - 1), end)))
        start += timedelta(days=WEEK)
    return out


def by_week(counts: dict[date, int], today: date) -> list[tuple[date, date, int]]:
    return [
        (a, b, sum(n for d, n in counts.items() if a <= d <= b)) for a, b in expiry_weeks(today)
    ]
