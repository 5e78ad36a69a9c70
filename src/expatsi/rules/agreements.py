"""Bilateral social security agreements and the national work-injury rate structure.

An agreement exempts a national who holds a certificate of coverage from exactly the insurances it
lists, and only for months on or after its in-force date; every other insurance stays due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from expatsi.rules.dates import Month, add_months
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.money import PPM, format_rate, parse_rate
from expatsi.rules.policy import Provenance, read_table
from expatsi.rules.regions import INSURANCES, Insurance

NEVER_EXEMPT: frozenset[str] = frozenset({"medical", "work_injury", "maternity"})


@dataclass(frozen=True, slots=True)
class Agreement:
    country: str  # ISO 3166-1 alpha-3
    in_force: date | None
    exempt: frozenset[Insurance]
    max_exemption_months: int | None
    max_total_months: int | None
    provenance: Provenance

    def covers(self, month: Month) -> bool:
        """In force on the first day of ``month`` (a month is exempt whole or not at all)."""
        return self.in_force is not None and self.in_force <= month.first_day()


@cache
def agreements() -> dict[str, Agreement]:
    t = read_table("national/agreements.toml")
    meta = t.table("meta").provenance()
    found: dict[str, Agreement] = {}
    for row in t.tables("agreements"):
        country = row.str("country")
        if len(country) != 3 or not country.isalpha() or not country.isupper():
            raise row.error(
                "country", f"{country!r} must be an ISO 3166-1 alpha-3 code such as DEU"
            )
        if country in found:
            raise row.error("country", f"{country} is listed twice")
        exempt_raw = row.raw("exempt")
        if not isinstance(exempt_raw, list) or not exempt_raw:
            raise row.error("exempt", "must be a non-empty list of insurances")
        for ins in exempt_raw:
            if ins not in INSURANCES:
                raise row.error("exempt", f"{ins!r} is not an insurance ({', '.join(INSURANCES)})")
            if ins in NEVER_EXEMPT:
                raise row.error("exempt", f"{ins} is never exempted under China's agreements")
        found[country] = Agreement(
            country=country,
            in_force=row.date("in_force") if "in_force" in row else None,
            exempt=frozenset(exempt_raw),
            max_exemption_months=row.int("max_exemption_months", lo=1)
            if "max_exemption_months" in row
            else None,
            max_total_months=row.int("max_total_months", lo=1)
            if "max_total_months" in row
            else None,
            provenance=row.provenance(meta),
        )
    return found


@dataclass(frozen=True, slots=True)
class Exemption:
    """The insurances a person is exempt from in one month, and why (or why not)."""

    insurances: frozenset[Insurance]
    agreement: Agreement | None
    reason: str


def exemption_for(nationality: str | None, month: Month, *, certificate: bool) -> Exemption:
    """Which insurances a national of ``nationality`` with/without a valid certificate may skip."""
    if not nationality:
        return Exemption(frozenset(), None, "")
    agreement = agreements().get(nationality.upper())
    if agreement is None:
        return Exemption(
            frozenset(), None, f"no social security agreement between China and {nationality}"
        )
    if not agreement.covers(month):
        when = agreement.in_force.isoformat() if agreement.in_force else "a date not yet known"
        return Exemption(
            frozenset(), agreement, f"the agreement with {agreement.country} applies from {when}"
        )
    if not certificate:
        return Exemption(
            frozenset(),
            agreement,
            f"no valid certificate of coverage from {agreement.country}: enrolled normally",
        )
    listed = ", ".join(i for i in INSURANCES if i in agreement.exempt)
    return Exemption(
        agreement.exempt,
        agreement,
        f"exempt under the China–{agreement.country} agreement (in force "
        f"{agreement.in_force}) with a certificate of coverage: {listed}",
    )


# --- work injury ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkInjuryClass:
    name: str  # I … VIII
    base_rate: int  # ppm
    grades: tuple[int, ...]  # ppm multipliers


@cache
def work_injury_classes() -> tuple[WorkInjuryClass, ...]:
    t = read_table("national/work_injury.toml")
    classes: list[WorkInjuryClass] = []
    for row in t.tables("classes"):
        grades_raw = row.raw("grades")
        if not isinstance(grades_raw, list) or not grades_raw:
            raise row.error("grades", "must be a non-empty list of percentages")
        parsed: list[int] = []
        for i, g in enumerate(grades_raw):
            try:
                parsed.append(parse_rate(g, field=f"grades[{i}]", maximum=2 * PPM))
            except RuleError as exc:
                raise PolicyDataError(row.file, f"{row.path}.grades[{i}]", exc.message) from None
        classes.append(WorkInjuryClass(row.str("class"), row.rate("base_rate"), tuple(parsed)))
    return tuple(classes)


def work_injury_rate(industry_class: str, grade: str | int, *, factor: int = PPM) -> int:
    """The employer's work-injury rate (ppm) for an industry class and a floating grade."""
    by_name = {c.name: c for c in work_injury_classes()}
    cls = by_name.get(industry_class.upper())
    if cls is None:
        raise RuleError(
            "invalid_industry_class", f"{industry_class!r} is not a class I–VIII", "industry_class"
        )
    g = grade if isinstance(grade, int) else parse_rate(grade, field="grade", maximum=2 * PPM)
    if g not in cls.grades:
        allowed = ", ".join(format_rate(x) for x in cls.grades)
        raise RuleError("invalid_grade", f"class {cls.name} floats only by {allowed}", "grade")
    return _scaled(_scaled(cls.base_rate, g), factor)


def work_injury_range(factor: int = PPM) -> tuple[int, int]:
    """Lowest and highest employer rate any class and grade allows in a region (ppm)."""
    rates = [
        _scaled(_scaled(c.base_rate, g), factor) for c in work_injury_classes() for g in c.grades
    ]
    return min(rates), max(rates)


def default_work_injury_rate(factor: int = PPM) -> int:
    """Class I at its benchmark: used only when no employer rate is known (and said so)."""
    return _scaled(work_injury_classes()[0].base_rate, factor)


def _scaled(rate: int, factor: int) -> int:
    product = rate * factor
    if product % PPM:
        # A benchmark × grade that is not a whole ppm would be silently rounded: refuse instead.
        raise RuleError(
            "inexact_rate", f"{format_rate(rate)} × {format_rate(factor)} is not exact to 1 ppm"
        )
    return product // PPM


def span_months(valid_from: date, valid_to: date) -> int:
    """Months a certificate covers, counting a started month as one: 1 Jan–31 Dec is 12 months,
    1 Jan–1 Jan of the next year 13. This is how the per-certificate maximum is read too (a
    certificate of at most N months ends the day before the same day N months later)."""
    if valid_to < valid_from:
        return 0
    months = (valid_to.year - valid_from.year) * 12 + (valid_to.month - valid_from.month)
    # add_months(valid_from, months) - 1 day is the last day of ``months`` whole months
    return months + (1 if valid_to >= add_months(valid_from, months) else 0)


def months_in_total(spans: list[tuple[date, date]]) -> int:
    """Months covered by several certificates together; overlapping days are counted once."""
    merged: list[list[date]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sum(span_months(start, end) for start, end in merged)


def check_total_exemption(
    agreement: Agreement, earlier: list[tuple[date, date]], valid_from: date, valid_to: date
) -> None:
    """Refuse a further certificate that would take a person past the agreement's total maximum
    (``max_total_months``, e.g. China–Germany: 60 months, extendable to 96 in all)."""
    limit = agreement.max_total_months
    if limit is None:
        return
    total = months_in_total([*earlier, (valid_from, valid_to)])
    if total <= limit:
        return
    used = months_in_total(earlier)
    left = max(limit - used, 0)
    raise RuleError(
        "exemption_total_exceeded",
        f"the China–{agreement.country} agreement exempts for at most {limit} months in total; "
        f"earlier certificates cover {used} months, so {left} remain and this one would make "
        f"{total}",
        "valid_to",
    )
