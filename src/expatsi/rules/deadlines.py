"""Statutory clocks: 30 days to register, 10 working days to cancel a permit, 12 months to verify…

Why data: each clock's length, unit, law and status live in ``national/deadlines.toml`` so an agency
can correct or add one without a code change; China's holidays and make-up working days (调休) live
in ``national/holidays.toml``, one State Council notice per year. Counting is the same for every
clock: the event's own day is not counted, day 1 is the next day, and the last day is on time.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Literal

from expatsi.rules.dates import DATE_MAX, DATE_MIN, add_months
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.policy import Provenance, Table, read_table

Unit = Literal["calendar_days", "working_days", "months"]
Direction = Literal["after", "before"]
DeadlineStatus = Literal["not_yet_open", "on_time", "due_soon", "overdue"]

UNITS: tuple[Unit, ...] = ("calendar_days", "working_days", "months")
DIRECTIONS: tuple[Direction, ...] = ("after", "before")
_DEADLINES_FILE = "national/deadlines.toml"
_HOLIDAYS_FILE = "national/holidays.toml"


# ---------------------------------------------------------------------------------------------
# Holiday calendar


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """Rest days that fall on weekdays, working days that fall on weekends, and the years known."""

    holidays: Mapping[date, str]
    workdays: frozenset[date]
    years: frozenset[int]
    provenance: Mapping[int, Provenance]

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def covers(self, year: int) -> bool:
        return year in self.years


def _parse_day(row: Table, key: str, value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise row.error(where, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _in_year(day: date, year: int) -> bool:
    """A notice for ``year`` may start the New Year break in the last days of the year before."""
    return day.year == year or (day.year == year - 1 and day.month == 12 and day.day >= 25)


@cache
def holiday_calendar() -> HolidayCalendar:
    """holidays.toml, loaded and validated once."""
    return parse_holiday_calendar(read_table(_HOLIDAYS_FILE))


def parse_holiday_calendar(t: Table) -> HolidayCalendar:
    """Validate a holiday table; every error names the file and the field."""
    meta_table = t.table("meta")
    meta = meta_table.provenance()
    holidays: dict[date, str] = {}
    workdays: set[date] = set()
    years: set[int] = set()
    prov: dict[int, Provenance] = {}
    for row in t.tables("year"):
        year = row.int("year", lo=1949, hi=2200)
        if year in years:
            raise row.error("year", f"{year} is listed twice")
        years.add(year)
        prov[year] = row.provenance(meta)
        raw_workdays = row.raw("workdays", [])
        if not isinstance(raw_workdays, list):
            raise row.error("workdays", "must be a list of dates")
        for i, value in enumerate(raw_workdays):
            day = _parse_day(row, "workdays", value, f"workdays[{i}]")
            if not _in_year(day, year):
                raise row.error(f"workdays[{i}]", f"{day} is not in {year}")
            if day.weekday() < 5:
                raise row.error(
                    f"workdays[{i}]",
                    f"{day} is a {calendar.day_name[day.weekday()]}; a make-up working day "
                    "falls on a Saturday or Sunday",
                )
            if day in workdays:
                raise row.error(f"workdays[{i}]", f"{day} is listed twice")
            workdays.add(day)
        for h in row.tables("holidays"):
            name = h.str("name")
            h.str("name_zh")
            first, last = h.date("from"), h.date("to")
            if last < first:
                raise h.error("to", f"{last} is before from = {first}")
            if not (_in_year(first, year) and _in_year(last, year)):
                raise h.error("from", f"{first}…{last} is not in {year}")
            day = first
            while day <= last:
                if day in holidays:
                    raise h.error("from", f"{day} is already a holiday ({holidays[day]})")
                holidays[day] = name
                day += timedelta(days=1)
    clash = sorted(workdays & holidays.keys())
    if clash:
        raise PolicyDataError(
            t.file, "year", f"{clash[0]} is both a holiday and a make-up working day"
        )
    if years:
        first_day, last_day = date(min(years), 1, 1), date(max(years), 12, 31)
        if meta_table.date("effective_from") != first_day:
            raise meta_table.error("effective_from", f"must be {first_day}, the first year listed")
        if meta_table.date("effective_to") != last_day:
            raise meta_table.error("effective_to", f"must be {last_day}, the last year listed")
        missing = sorted(set(range(min(years), max(years) + 1)) - years)
        if missing:
            raise PolicyDataError(t.file, "year", f"years {missing} are missing between the others")
    return HolidayCalendar(holidays, frozenset(workdays), frozenset(years), prov)


def is_working_day(day: date) -> bool:
    """Monday–Friday unless a public holiday, plus weekend make-up working days (调休)."""
    return holiday_calendar().is_working_day(day)


def calendar_complete(first: date, last: date) -> bool:
    """Whether holiday data exists for every year from ``first`` to ``last``."""
    lo, hi = min(first, last), max(first, last)
    return all(holiday_calendar().covers(y) for y in range(lo.year, hi.year + 1))


def working_days_after(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself never counts); n ≥ 1.

    Years without holiday data count Monday to Friday: check :func:`calendar_complete`.
    """
    return _step_working_days(start, n, 1)


def working_days_before(end: date, n: int) -> date:
    """The ``n``-th working day before ``end`` (``end`` itself never counts); n ≥ 1."""
    return _step_working_days(end, n, -1)


def _step_working_days(origin: date, n: int, step: int) -> date:
    if n < 1:
        raise RuleError("invalid_days", f"number of working days {n} must be at least 1", "days")
    cal = holiday_calendar()
    day, counted = origin, 0
    while counted < n:
        day += timedelta(days=step)
        if cal.is_working_day(day):
            counted += 1
    return day


# ---------------------------------------------------------------------------------------------
# Clocks


@dataclass(frozen=True, slots=True)
class Clock:
    """One statutory clock as written in deadlines.toml."""

    kind: str
    title: str
    title_zh: str
    start_label: str
    amount: int
    unit: Unit
    direction: Direction
    rule: str
    law: str
    provenance: Provenance
    reminders_days_before: tuple[int, ...] = ()
    day_of_month: int | None = None
    opens_days_before: int | None = None
    due_soon_days: int = 7
    roll_forward: bool = False


@cache
def clocks() -> Mapping[str, Clock]:
    """Every clock by kind, loaded and validated once."""
    return parse_clocks(read_table(_DEADLINES_FILE))


def parse_clocks(t: Table) -> dict[str, Clock]:
    """Validate a clocks table; every error names the file and the field."""
    meta = t.table("meta")
    meta_prov = meta.provenance()
    meta.str("title")
    meta.str("title_zh")
    defaults = t.table("defaults")
    default_soon = defaults.int("due_soon_days", lo=0, hi=366)
    default_roll = defaults.bool("roll_forward")
    table = t.table("clocks")
    found: dict[str, Clock] = {}
    for kind in list(table.data):
        row = table.table(kind)
        unit = row.str("unit")
        if unit not in UNITS:
            raise row.error("unit", f"{unit!r} is not one of {', '.join(UNITS)}")
        direction = row.str("direction")
        if direction not in DIRECTIONS:
            raise row.error("direction", f"{direction!r} is not one of {', '.join(DIRECTIONS)}")
        reminders_raw = row.raw("reminders_days_before", [])
        if not isinstance(reminders_raw, list) or not all(
            isinstance(r, int) and not isinstance(r, bool) and r > 0 for r in reminders_raw
        ):
            raise row.error("reminders_days_before", "must be a list of positive whole days")
        day_of_month = row.int("day_of_month", lo=1, hi=31) if "day_of_month" in row else None
        if day_of_month is not None and unit != "months":
            raise row.error("day_of_month", "only applies to a clock in months")
        opens = row.int("opens_days_before", lo=1, hi=3660) if "opens_days_before" in row else None
        if opens is not None and direction != "before":
            raise row.error("opens_days_before", "only applies to a clock counted before an event")
        found[kind] = Clock(
            kind=kind,
            title=row.str("title"),
            title_zh=row.str("title_zh"),
            start_label=row.str("start"),
            amount=row.int("amount", lo=1, hi=3660),
            unit=unit,  # narrowed by the UNITS check above
            direction=direction,  # narrowed by the DIRECTIONS check above
            rule=row.str("rule"),
            law=row.str("law"),
            provenance=row.provenance(),
            reminders_days_before=tuple(sorted(reminders_raw, reverse=True)),
            day_of_month=day_of_month,
            opens_days_before=opens,
            due_soon_days=row.int("due_soon_days", default_soon, lo=0, hi=366),
            roll_forward=row.bool("roll_forward", default_roll),
        )
        if found[kind].provenance.status.weakness > meta_prov.status.weakness:
            raise row.error(
                "status", f"is weaker than the file's [meta] status {meta_prov.status.value}"
            )
    if not found:
        raise PolicyDataError(t.file, "clocks", "is empty")
    return found


def clock(kind: str) -> Clock:
    """The clock named ``kind``; RuleError listing the accepted kinds otherwise."""
    found = clocks().get(str(kind).strip())
    if found is None:
        raise RuleError(
            "unknown_deadline_kind",
            f"{kind!r} is not a deadline kind; accepted: {', '.join(clocks())}",
            "kind",
        )
    return found


@dataclass(frozen=True, slots=True)
class Deadline:
    """A computed due date with the rule and law behind it.

    ``due`` is the last day on time. ``opens`` is set for windows that cannot be used earlier.
    ``calendar_complete`` is False when a working-day count crossed a year without holiday data
    (counted Monday to Friday instead).
    """

    kind: str
    start: date
    due: date
    rule: str
    law: str
    provenance: Provenance
    reminders: tuple[date, ...] = ()
    opens: date | None = None
    calendar_complete: bool = True
    due_soon_days: int = 7
    title: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class DeadlineState:
    """Where ``today`` stands against a deadline; ``days_left`` is negative once overdue."""

    status: DeadlineStatus
    days_left: int

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def _shift_days(day: date, n: int, direction: Direction) -> date:
    return day + timedelta(days=n if direction == "after" else -n)


def deadline(kind: str, start: date) -> Deadline:
    """Apply clock ``kind`` to the event on ``start`` (for "before" clocks: the expiry date).

    ``start`` must lie in 1900…2199 (rules.dates.DATE_MIN…DATE_MAX): a date near the ends of
    Python's calendar (``9999-12-31``) would overflow the arithmetic, and is a typing slip anyway.
    """
    c = clock(kind)
    if not DATE_MIN <= start <= DATE_MAX:
        raise RuleError(
            "date_out_of_range",
            f"{start.isoformat()} is outside {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}",
            "start",
        )
    try:
        return _deadline(c, start)
    except OverflowError:  # pragma: no cover - the window above keeps every clock in range
        raise RuleError(
            "date_out_of_range", f"{start.isoformat()} is too far from today to count from", "start"
        ) from None


def _deadline(c: Clock, start: date) -> Deadline:
    notes: list[str] = []
    needs_calendar = c.unit == "working_days" or c.roll_forward
    if c.unit == "calendar_days":
        due = _shift_days(start, c.amount, c.direction)
    elif c.unit == "working_days":
        step = working_days_after if c.direction == "after" else working_days_before
        due = step(start, c.amount)
    else:
        months = c.amount if c.direction == "after" else -c.amount
        due = add_months(start, months)
        if c.day_of_month is not None:
            last = calendar.monthrange(due.year, due.month)[1]
            due = due.replace(day=min(c.day_of_month, last))
    if c.roll_forward and not is_working_day(due):
        rolled = due
        while not is_working_day(rolled):
            rolled += timedelta(days=1 if c.direction == "after" else -1)
        notes.append(f"{due} is a rest day; moved to the working day {rolled}")
        due = rolled
    complete = calendar_complete(start, due) if needs_calendar else True
    if not complete:
        notes.append(
            "no holiday data for some year between the start and the due date: working days "
            "there were counted Monday to Friday"
        )
    # A reminder before the event itself (a short clock) would remind of nothing yet.
    candidates = (due - timedelta(days=d) for d in c.reminders_days_before)
    reminders = tuple(r for r in candidates if c.direction == "before" or r > start)
    opens = start - timedelta(days=c.opens_days_before) if c.opens_days_before else None
    if c.provenance.note:
        notes.insert(0, c.provenance.note)
    return Deadline(
        kind=c.kind,
        start=start,
        due=due,
        rule=c.rule,
        law=c.law,
        provenance=c.provenance,
        reminders=reminders,
        opens=opens,
        calendar_complete=complete,
        due_soon_days=c.due_soon_days,
        title=c.title,
        note="; ".join(notes),
    )


def deadline_status(deadline: Deadline, today: date) -> DeadlineState:
    """``not_yet_open`` (windows only), ``on_time``, ``due_soon`` (due within the clock's
    ``due_soon_days``, due day included) or ``overdue`` (after the due day)."""
    days_left = (deadline.due - today).days
    if deadline.opens is not None and today < deadline.opens:
        return DeadlineState("not_yet_open", days_left)
    if days_left < 0:
        return DeadlineState("overdue", days_left)
    if days_left <= deadline.due_soon_days:
        return DeadlineState("due_soon", days_left)
    return DeadlineState("on_time", days_left)


# ---------------------------------------------------------------------------------------------
# Reminder plans: when the daily job reminds of a clock


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """When to remind of one clock, as written in ``[reminders.<name>]`` of deadlines.toml.

    ``days_before_due`` counts back from the clock's due date (the last day on time), never from
    the event: a reminder "30 days before" an extension that must be filed 30 days before expiry
    arrives 60 days before expiry, while there is still time to act.
    """

    name: str
    clock: Clock
    days_before_due: tuple[int, ...]
    overdue_every_days: int | None
    rule: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class ReminderStage:
    """The reminder due on a day: ``tag`` names it for deduplication (``d30``, ``late-w2``…)."""

    tag: str
    due: date
    days_left: int
    overdue: bool


@cache
def reminder_plans() -> Mapping[str, ReminderPlan]:
    """Every reminder plan by name, loaded and validated once."""
    return parse_reminder_plans(read_table(_DEADLINES_FILE), clocks())


def reminder_plan(name: str) -> ReminderPlan:
    found = reminder_plans().get(name)
    if found is None:  # a code/data mismatch, not user input
        raise PolicyDataError(_DEADLINES_FILE, f"reminders.{name}", "is required")
    return found


def parse_reminder_plans(t: Table, known: Mapping[str, Clock]) -> dict[str, ReminderPlan]:
    """Validate ``[reminders]``; every error names the file and the field."""
    meta_prov = t.table("meta").provenance()
    table = t.table("reminders")
    found: dict[str, ReminderPlan] = {}
    for name in list(table.data):
        row = table.table(name)
        kind = row.str("clock")
        if kind not in known:
            raise row.error("clock", f"{kind!r} is not a clock in [clocks]")
        days = row.raw("days_before_due")
        if (
            not isinstance(days, list)
            or not days
            or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 366 for d in days
            )
            or len(set(days)) != len(days)
        ):
            raise row.error("days_before_due", "must be a non-empty list of distinct days 0…366")
        every = row.int("overdue_every_days", lo=1, hi=366) if "overdue_every_days" in row else None
        prov = row.provenance()
        if prov.status.weakness > meta_prov.status.weakness:
            raise row.error(
                "status", f"is weaker than the file's [meta] status {meta_prov.status.value}"
            )
        found[name] = ReminderPlan(
            name=name,
            clock=known[kind],
            days_before_due=tuple(sorted(days, reverse=True)),
            overdue_every_days=every,
            rule=row.str("rule"),
            provenance=prov,
        )
    return found


def reminder_stage(
    plan: ReminderPlan, due: date, today: date, *, until: date | None = None
) -> ReminderStage | None:
    """The reminder to send on ``today`` for a matter due on ``due``, or None.

    The latest reminder day not after ``today`` is the one sent (a day the job missed is caught
    up, but never twice); after the due day, one reminder every ``overdue_every_days`` if the plan
    has them (otherwise the last reminder, if it was missed). ``until`` (e.g. the permit's expiry) ends all reminders after that day.
    """
    if until is not None and today > until:
        return None
    left = (due - today).days
    if left < 0:
        if plan.overdue_every_days is None:  # no "late" reminders: the last one, if missed
            return ReminderStage(f"d{min(plan.days_before_due)}", due, left, True)
        weeks = -left // plan.overdue_every_days
        return ReminderStage(f"late-w{weeks}", due, left, True)
    for days in sorted(plan.days_before_due):  # nearest reminder first
        if left <= days:
            return ReminderStage(f"d{days}", due, left, False)
    return None


def earliest_reminder_day(plan: ReminderPlan) -> int:
    """How many days before the due date the first reminder of ``plan`` comes."""
    return max(plan.days_before_due)
