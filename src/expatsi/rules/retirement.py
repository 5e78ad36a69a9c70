"""Statutory pension age under the gradual delay in force from 1 January 2025, and the minimum
contribution period a monthly pension needs.

Why a month, not a date: the reform moves retirement in whole months (policy-facts.md 5.1), so the
answer is a calendar month and an age in years and months. The stepping rule and the caps live in
``policies/national/retirement.toml``; the minimum contribution months per year in
``policies/national/min_contribution.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from expatsi.rules.dates import Month
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.policy import Provenance, Status, Table, read_table

Sex = Literal["male", "female"]

RETIREMENT_FILE = "national/retirement.toml"
MIN_CONTRIBUTION_FILE = "national/min_contribution.toml"


@dataclass(frozen=True, slots=True)
class Category:
    """One (sex, original age) group with its own pace and cap."""

    sex: Sex
    original_age: int
    step_months: int
    cap_months: int
    label: str


@dataclass(frozen=True, slots=True)
class RetirementRules:
    """The loaded, validated retirement-age policy."""

    reform_start: Month
    categories: tuple[Category, ...]
    early_max_months: int
    late_max_months: int
    early_notice_months: int
    late_notice_months: int
    provenance: Provenance
    flexible_provenance: Provenance
    notice_provenance: Provenance


@dataclass(frozen=True, slots=True)
class MinimumRow:
    first_year: int | None
    last_year: int | None
    months: int


@dataclass(frozen=True, slots=True)
class MinimumRules:
    rows: tuple[MinimumRow, ...]
    provenance: Provenance


def _parse_sex(value: str, field: str) -> Sex:
    text = str(value).strip().lower()
    if text == "male":
        return "male"
    if text == "female":
        return "female"
    raise RuleError("invalid_sex", f"{value!r} is not a sex; use 'male' or 'female'", field)


@cache
def retirement_rules() -> RetirementRules:
    """Load and validate ``retirement.toml`` once."""
    return parse_retirement_rules(read_table(RETIREMENT_FILE))


def parse_retirement_rules(t: Table) -> RetirementRules:
    """Validate a loaded table; errors name the file and the field."""
    meta = t.table("meta").provenance()
    reform = t.table("reform")
    # The header summarises the file (its weakest figure); the age rule has its own status.
    provenance = reform.provenance(meta)
    reform_start = reform.month("start")
    categories: list[Category] = []
    seen: set[tuple[str, int]] = set()
    for row in t.tables("category"):
        try:
            sex = _parse_sex(row.str("sex"), "sex")
        except RuleError as exc:
            raise row.error("sex", exc.message) from None
        original = row.int("original_age", lo=40, hi=70)
        step = row.int("step_months", lo=1, hi=24)
        cap = row.int("cap_months", lo=0, hi=120)
        target = row.int("target_age", lo=40, hi=80)
        if cap % 12 or original + cap // 12 != target:
            raise row.error(
                "target_age", f"{target} ≠ original_age {original} + cap_months {cap} / 12"
            )
        if (sex, original) in seen:
            raise row.error("original_age", f"{sex} {original} appears twice")
        seen.add((sex, original))
        categories.append(Category(sex, original, step, cap, row.str("label")))
    if not categories:
        raise t.error("category", "at least one category is required")
    flex = t.table("flexible")
    flexible_provenance = flex.provenance(provenance)
    notice = flex.table("notice")
    return RetirementRules(
        reform_start=reform_start,
        categories=tuple(categories),
        early_max_months=flex.int("early_max_months", lo=0, hi=120),
        late_max_months=flex.int("late_max_months", lo=0, hi=120),
        early_notice_months=notice.int("early_notice_months", lo=0, hi=24),
        late_notice_months=notice.int("late_notice_months", lo=0, hi=24),
        provenance=provenance,
        flexible_provenance=flexible_provenance,
        notice_provenance=notice.provenance(flexible_provenance),
    )


@cache
def minimum_rules() -> MinimumRules:
    """Load ``min_contribution.toml`` once; rows must cover all years, months never decrease."""
    return parse_minimum_rules(read_table(MIN_CONTRIBUTION_FILE))


def parse_minimum_rules(t: Table) -> MinimumRules:
    """Validate a loaded table; errors name the file and the field."""
    provenance = t.table("meta").provenance()
    rows = t.tables("minimum")
    if not rows:
        raise t.error("minimum", "at least one row is required")
    parsed: list[MinimumRow] = []
    for i, row in enumerate(rows):
        first = row.int("first_year", lo=1900, hi=2200) if "first_year" in row else None
        last = row.int("last_year", lo=1900, hi=2200) if "last_year" in row else None
        months = row.int("months", lo=12, hi=600)
        if first is None and i != 0:
            raise row.error("first_year", "only the first row may omit first_year")
        if last is None and i != len(rows) - 1:
            raise row.error("last_year", "only the last row may omit last_year")
        if first is not None and last is not None and last < first:
            raise row.error("last_year", f"{last} is before first_year {first}")
        if parsed:
            prev = parsed[-1]
            if prev.last_year is None or first is None or first != prev.last_year + 1:
                raise row.error(
                    "first_year",
                    f"{first} must follow the previous row's last_year {prev.last_year}",
                )
            if months < prev.months:
                raise row.error("months", f"{months} is below the previous row's {prev.months}")
        parsed.append(MinimumRow(first, last, months))
    return MinimumRules(tuple(parsed), provenance)


def min_contribution_months(year: int) -> int:
    """Minimum contribution months for someone reaching statutory age in calendar ``year``."""
    for row in minimum_rules().rows:
        if (row.first_year is None or row.first_year <= year) and (
            row.last_year is None or year <= row.last_year
        ):
            return row.months
    raise PolicyDataError(MIN_CONTRIBUTION_FILE, "minimum", f"no row covers {year}")


def _category(sex: Sex, original_age: int | None) -> Category:
    rules = retirement_rules()
    options = sorted(c.original_age for c in rules.categories if c.sex == sex)
    if original_age is None:
        if len(options) == 1:
            original_age = options[0]
        else:
            raise RuleError(
                "original_age_required",
                f"give the original retirement age for {sex}: "
                f"one of {', '.join(map(str, options))}",
                "original_age",
            )
    for c in rules.categories:
        if c.sex == sex and c.original_age == original_age:
            return c
    raise RuleError(
        "invalid_original_age",
        f"{original_age} is not an original retirement age for {sex}; "
        f"accepted: {', '.join(map(str, options))}",
        "original_age",
    )


def _age_text(months: int) -> str:
    years, rest = divmod(months, 12)
    return f"{years}y{rest}m" if rest else f"{years}y"


def _years_text(months: int) -> str:
    years, rest = divmod(months, 12)
    return f"{years} years {rest} months" if rest else f"{years} years"


@dataclass(frozen=True, slots=True)
class RetirementAge:
    """Statutory retirement under the 2025 reform for one person.

    ``retirement_month`` is the month in which the person reaches statutory age.
    ``min_contribution_months`` is the minimum for the year of that month.
    """

    birth: Month
    sex: Sex
    original_age: int
    original_retirement_month: Month
    delay_months: int
    age_years: int
    age_months: int
    retirement_month: Month
    min_contribution_months: int
    provenance: tuple[Provenance, ...]
    explanation: tuple[str, ...]

    @property
    def status(self) -> Status:
        return Status.weakest([p.status for p in self.provenance])

    @property
    def age_in_months(self) -> int:
        return self.age_years * 12 + self.age_months

    @property
    def age_text(self) -> str:
        """``60y3m`` (or ``63y``): the form pension.py accepts as an age."""
        return _age_text(self.age_in_months)


def statutory_retirement(birth: Month, sex: str, original_age: int | None = None) -> RetirementAge:
    """Statutory retirement month and age (policy-facts.md 5.1 mapping formula).

    ``original_age``: 60 for men (the default); 50 or 55 for women (required).
    """
    s = _parse_sex(sex, "sex")
    if not isinstance(birth, Month):
        raise RuleError("invalid_month", "birth must be a month (YYYY-MM)", "birth")
    cat = _category(s, original_age)
    rules = retirement_rules()
    original = birth.plus(cat.original_age * 12)
    m = original.minus(rules.reform_start)
    steps = [
        f"Original retirement month O = birth {birth} + {cat.original_age} years = {original} "
        f"({cat.label}).",
    ]
    if m < 0:
        delay = 0
        steps.append(f"O is before {rules.reform_start}, when the gradual delay began: no delay.")
    else:
        raw = m // cat.step_months + 1
        delay = min(raw, cat.cap_months)
        capped = f", capped at {cat.cap_months}" if raw > cat.cap_months else ""
        steps.append(
            f"m = months from {rules.reform_start} to O = {m}; delay = min(floor({m}/"
            f"{cat.step_months}) + 1, {cat.cap_months}) = {delay} months{capped}."
        )
    retirement = original.plus(delay)
    age = cat.original_age * 12 + delay
    minimum = min_contribution_months(retirement.year)
    steps.append(
        f"Statutory age {_age_text(age)}; retirement month {original} + {delay} months = "
        f"{retirement}."
    )
    steps.append(
        f"Minimum contribution for reaching statutory age in {retirement.year}: {minimum} months "
        f"({_years_text(minimum)})."
    )
    return RetirementAge(
        birth=birth,
        sex=s,
        original_age=cat.original_age,
        original_retirement_month=original,
        delay_months=delay,
        age_years=age // 12,
        age_months=age % 12,
        retirement_month=retirement,
        min_contribution_months=minimum,
        provenance=(rules.provenance, minimum_rules().provenance),
        explanation=tuple(steps),
    )


@dataclass(frozen=True, slots=True)
class FlexibleWindow:
    """Earliest and latest months a person may choose instead of the statutory month.

    Early retirement also needs the minimum contribution period met by then
    (``earliest_min_contribution_months``, for the year of the earliest month).
    """

    statutory: RetirementAge
    earliest: Month
    earliest_age_years: int
    earliest_age_months: int
    earliest_min_contribution_months: int
    latest: Month
    latest_age_years: int
    latest_age_months: int
    early_notice_months: int
    late_notice_months: int
    notice_provenance: Provenance
    provenance: tuple[Provenance, ...]
    explanation: tuple[str, ...]

    @property
    def status(self) -> Status:
        return Status.weakest([p.status for p in self.provenance])


def flexible_window(birth: Month, sex: str, original_age: int | None = None) -> FlexibleWindow:
    """Flexible retirement: up to 3 years early (never below the original age), up to 3 late."""
    stat = statutory_retirement(birth, sex, original_age)
    rules = retirement_rules()
    early = min(stat.delay_months, rules.early_max_months)
    earliest = stat.retirement_month.plus(-early)
    latest = stat.retirement_month.plus(rules.late_max_months)
    earliest_age = stat.age_in_months - early
    latest_age = stat.age_in_months + rules.late_max_months
    earliest_min = min_contribution_months(earliest.year)
    steps = [
        *stat.explanation,
        f"Earliest: statutory month minus min({rules.early_max_months} months, delay "
        f"{stat.delay_months}) = {earliest} at {_age_text(earliest_age)} (never below the "
        f"original age {stat.original_age}); only once {earliest_min} contribution months are "
        f"met, with {rules.early_notice_months} months' written notice to the employer.",
        f"Latest: statutory month plus {rules.late_max_months} months = {latest} at "
        f"{_age_text(latest_age)}, by written agreement with the employer "
        f"{rules.late_notice_months} month(s) ahead.",
        f"Notice periods {rules.notice_provenance.status.value}: {rules.notice_provenance.source}.",
    ]
    return FlexibleWindow(
        statutory=stat,
        earliest=earliest,
        earliest_age_years=earliest_age // 12,
        earliest_age_months=earliest_age % 12,
        earliest_min_contribution_months=earliest_min,
        latest=latest,
        latest_age_years=latest_age // 12,
        latest_age_months=latest_age % 12,
        early_notice_months=rules.early_notice_months,
        late_notice_months=rules.late_notice_months,
        notice_provenance=rules.notice_provenance,
        provenance=(*stat.provenance, rules.flexible_provenance, rules.notice_provenance),
        explanation=tuple(steps),
    )
