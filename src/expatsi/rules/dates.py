"""Calendar helpers the rules share: contribution months and date parsing with clear errors."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from expatsi.rules.errors import RuleError

# ASCII digits only: ``\d`` would also match full-width ``２０２５`` and Python's int() reads it.
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)

# The dates the platform handles. Anything outside is a typing slip or a probe: the policy tables
# and contribution months end in 2200, and the deadline arithmetic must stay far from year 9999.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, the unit in which contributions are owed."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise RuleError("invalid_month", f"month {self.month} must be 1–12", "month")
        if not 1900 <= self.year <= 2200:
            raise RuleError("invalid_month", f"year {self.year} is out of range 1900–2200", "month")

    @classmethod
    def parse(cls, text: str, *, field: str = "month") -> Month:
        """Parse ``YYYY-MM``."""
        m = _MONTH_RE.match(str(text).strip())
        if not m:
            raise RuleError(
                "invalid_month", f"{text!r} is not a month; use YYYY-MM, e.g. 2025-08", field
            )
        try:
            return cls(int(m[1]), int(m[2]))
        except RuleError as exc:
            raise RuleError(exc.code, f"{text!r}: {exc.message}", field) from None

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0: makes month arithmetic plain integer arithmetic."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        return cls(index // 12, index % 12 + 1)

    def plus(self, months: int) -> Month:
        return Month.from_index(self.index + months)

    def minus(self, other: Month) -> int:
        """Whole months from ``other`` to ``self``."""
        return self.index - other.index

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse ``YYYY-MM-DD`` (from 1900 to 2199) with an error that says which field and what format."""
    try:
        day = date.fromisoformat(str(text).strip())
    except ValueError:
        missing = no_such_day(str(text), field=field)
        if missing is not None:
            raise missing from None
        raise RuleError(
            "invalid_date", f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2025-03-01", field
        ) from None
    return check_date_range(day, field=field)


_ISO_DAY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def no_such_day(text: str, *, field: str = "date") -> RuleError | None:
    """For ``1992-02-30``: the error that names the day that does not exist ("there is no 30
    February 1992") rather than asking for a format the text already has; None for other text."""
    found = _ISO_DAY_RE.match(text.strip())
    if found is None:
        return None
    year, month, day = (int(g) for g in found.groups())
    if not (1 <= month <= 12 and year >= 1) or day <= calendar.monthrange(year, month)[1]:
        return None
    name = _MONTH_NAMES[month - 1]
    return RuleError(
        "no_such_day",
        f"there is no {day} {name} {year}: check the day and the month",
        field,
        {"day": day, "month": month, "month_name": name, "year": year},
    )


def check_date_range(day: date, *, field: str = "date") -> date:
    """``day`` itself if it lies in DATE_MIN…DATE_MAX; a RuleError naming ``field`` otherwise."""
    if not DATE_MIN <= day <= DATE_MAX:
        raise RuleError(
            "date_out_of_range",
            f"{day.isoformat()} is outside {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}",
            field,
        )
    return day


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    target = Month.of(day).plus(months)
    last = calendar.monthrange(target.year, target.month)[1]
    return date(target.year, target.month, min(day.day, last))
