"""Regional contribution policy: base limits and rates per insurance, per contribution period.

A region is keyed by its 6-digit administrative division code (GB/T 2260). Each file under
``policies/regions/`` holds one region's periods; a period is a run of whole months (normally July
to June) and the periods of one region may neither overlap nor leave a gap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Literal

from expatsi.rules.dates import Month
from expatsi.rules.errors import PolicyDataError, RuleError
from expatsi.rules.money import PPM, Rounding, format_rate, format_yuan
from expatsi.rules.policy import (
    POLICY_DIR,
    Effective,
    Provenance,
    Status,
    Table,
    check_no_gaps_or_overlaps,
    read_table,
)

Insurance = Literal["pension", "medical", "unemployment", "work_injury", "maternity"]
INSURANCES: tuple[Insurance, ...] = (
    "pension",
    "medical",
    "unemployment",
    "work_injury",
    "maternity",
)
INSURANCE_NAMES: dict[str, tuple[str, str]] = {
    "pension": ("basic pension insurance", "基本养老保险"),
    "medical": ("basic medical insurance", "基本医疗保险"),
    "unemployment": ("unemployment insurance", "失业保险"),
    "work_injury": ("work-related injury insurance", "工伤保险"),
    "maternity": ("maternity insurance", "生育保险"),
}
_REGION_CODE = re.compile(r"^\d{6}$", re.ASCII)


@dataclass(frozen=True, slots=True)
class InsuranceRule:
    """One insurance in one period: limits, rates (ppm) and fixed amounts (fen)."""

    insurance: Insurance
    base_lower: int
    base_upper: int
    employer_rate: int | None  # None: set per employer (work injury)
    employee_rate: int
    employer_fixed: int
    employee_fixed: int
    merged_into: Insurance | None
    provenance: Provenance
    note: str = ""


@dataclass(frozen=True, slots=True)
class Period:
    """The policy of one region over one span of months."""

    region: str
    span: Effective
    provenance: Provenance
    rules: dict[Insurance, InsuranceRule]
    average_wage: int | None = None
    average_wage_status: Status | None = None

    @property
    def status(self) -> Status:
        """The weakest status among the period and every insurance rule in it."""
        return Status.weakest(
            [self.provenance.status, *(r.provenance.status for r in self.rules.values())]
        )

    def sources(self) -> list[str]:
        seen: list[str] = []
        for prov in [self.provenance, *(r.provenance for r in self.rules.values())]:
            if prov.source not in seen:
                seen.append(prov.source)
        return seen


@dataclass(frozen=True, slots=True)
class RegionPolicy:
    """A region's constant settings and its effective-dated periods."""

    code: str
    name: str
    name_zh: str
    file: str
    rounding: Rounding
    rounding_provenance: Provenance
    due_day: int
    due_month_offset: int
    payment_provenance: Provenance
    work_injury_factor: int  # ppm of the national benchmarks
    periods: tuple[Period, ...] = field(default=())
    adjustment_due_day: int = 15
    adjustment_due_month_offset: int = 1
    adjustment_payment_provenance: Provenance | None = None

    def due_date(self, month: Month) -> date:
        """When the bill of a contribution month is due (``[region.payment]``)."""
        target = month.plus(self.due_month_offset)
        return date(target.year, target.month, self.due_day)

    def adjustment_due_date(self, month: Month, issued: date) -> date:
        """When an adjustment bill of ``month`` issued on ``issued`` is due
        (``[region.payment.adjustment]``): counted from the day it is issued, since nobody could
        pay a difference before it was known, and never before the month's own due date."""
        target = Month.of(issued).plus(self.adjustment_due_month_offset)
        own = date(target.year, target.month, self.adjustment_due_day)
        return max(own, self.due_date(month))

    def period_for(self, month: Month) -> Period:
        for period in self.periods:
            if period.span.contains(month):
                return period
        covered = ", ".join(str(p.span) for p in self.periods)
        raise RuleError(
            "no_policy_for_month",
            f"{self.name} ({self.code}) has no contribution policy for {month}; "
            f"periods on file: {covered}",
            "month",
        )


def _insurance_rule(t: Table, name: Insurance, period: Table, prov: Provenance) -> InsuranceRule:
    merged = t.str("merged_into", "") or None
    if merged is not None and merged not in INSURANCES:
        raise t.error("merged_into", f"{merged!r} is not an insurance ({', '.join(INSURANCES)})")
    lower = t.yuan("base_lower", period.yuan("base_lower"))
    upper = t.yuan("base_upper", period.yuan("base_upper"))
    if not 0 < lower <= upper:
        raise t.error(
            "base_lower", f"limits must satisfy 0 < lower ≤ upper, got {lower} / {upper} fen"
        )
    employer_raw = t.raw("employer_rate", "0%" if merged else ...)
    employer_rate = (
        None if employer_raw == "per_employer" else t.rate("employer_rate", 0 if merged else None)
    )
    if name != "work_injury" and employer_rate is None:
        raise t.error("employer_rate", "only work injury may be rated per employer")
    return InsuranceRule(
        insurance=name,
        base_lower=lower,
        base_upper=upper,
        employer_rate=employer_rate,
        employee_rate=t.rate("employee_rate", 0),
        employer_fixed=t.yuan("employer_fixed", 0),
        employee_fixed=t.yuan("employee_fixed", 0),
        merged_into=merged,
        provenance=t.provenance(prov),
        note=t.str("note", ""),
    )


def parse_region(t: Table) -> RegionPolicy:
    """Validate one region file; every error names the file and the field."""
    meta = t.table("meta").provenance()
    r = t.table("region")
    code = r.str("code")
    if not _REGION_CODE.match(code):
        raise r.error("code", f"{code!r} must be a 6-digit administrative division code")
    rounding_t = r.table("rounding")
    mode = rounding_t.str("mode", "half_up")
    if mode not in ("half_up", "up", "down"):
        raise rounding_t.error("mode", f"{mode!r} must be half_up, up or down")
    unit = rounding_t.int("unit_fen", 1)
    if unit not in (1, 10, 100):
        raise rounding_t.error("unit_fen", f"{unit} must be 1 (fen), 10 (jiao) or 100 (yuan)")
    payment = r.table("payment")
    periods: list[Period] = []
    for pt in t.tables("periods"):
        prov = pt.provenance(meta)
        first = pt.month("effective_from")
        last = pt.month("effective_to") if "effective_to" in pt else None
        if last is not None and last < first:
            raise pt.error("effective_to", f"{last} is before effective_from {first}")
        ins_t = pt.table("insurances")
        missing = [i for i in INSURANCES if i not in ins_t]
        if missing:
            raise ins_t.error(missing[0], "is required: every period defines all five insurances")
        unknown = [k for k in ins_t.data if k not in INSURANCES]
        if unknown:
            raise ins_t.error(unknown[0], f"is not an insurance ({', '.join(INSURANCES)})")
        rules = {name: _insurance_rule(ins_t.table(name), name, pt, prov) for name in INSURANCES}
        for rule in rules.values():
            target = rule.merged_into
            if target is not None and rules[target].merged_into is not None:
                raise ins_t.error(rule.insurance, f"merged into {target}, which is itself merged")
        avg_status = pt.status("average_wage_status", prov.status) if "average_wage" in pt else None
        periods.append(
            Period(
                region=code,
                span=Effective(first, last),
                provenance=prov,
                rules=rules,
                average_wage=pt.yuan("average_wage") if "average_wage" in pt else None,
                average_wage_status=avg_status,
            )
        )
    check_no_gaps_or_overlaps(
        [(p.span, f"periods[{i}]") for i, p in enumerate(periods)], t.file, "period"
    )
    factor = r.rate("work_injury_factor", PPM) if "work_injury_factor" in r else PPM
    payment_provenance = payment.provenance(meta)
    adjustment = payment.table("adjustment")
    return RegionPolicy(
        code=code,
        name=r.str("name"),
        name_zh=r.str("name_zh"),
        file=t.file,
        rounding=Rounding(unit_fen=unit, mode=mode),  # type: ignore[arg-type]
        rounding_provenance=rounding_t.provenance(meta),
        due_day=payment.int("due_day", lo=1, hi=28),
        due_month_offset=payment.int("due_month_offset", lo=0, hi=3),
        payment_provenance=payment_provenance,
        work_injury_factor=factor,
        periods=tuple(sorted(periods, key=lambda p: p.span.first)),
        adjustment_due_day=adjustment.int("due_day", lo=1, hi=28),
        adjustment_due_month_offset=adjustment.int("due_month_offset", lo=0, hi=3),
        adjustment_payment_provenance=adjustment.provenance(payment_provenance),
    )


@cache
def regions() -> dict[str, RegionPolicy]:
    """Every region on file, by code. Loaded once; a malformed file stops start-up."""
    found: dict[str, RegionPolicy] = {}
    for path in sorted((POLICY_DIR / "regions").glob("*.toml")):
        policy = parse_region(read_table(f"regions/{path.name}"))
        if policy.code in found:
            raise PolicyDataError(
                policy.file, "region.code", f"{policy.code} also in {found[policy.code].file}"
            )
        found[policy.code] = policy
    return found


def region(code: str) -> RegionPolicy:
    """The region with this code, or a RuleError listing the codes on file."""
    code = str(code).strip()
    known = regions()
    if code not in known:
        listing = ", ".join(f"{c} ({r.name})" for c, r in sorted(known.items()))
        if not _REGION_CODE.match(code):
            raise RuleError(
                "invalid_region",
                f"{code!r} is not a 6-digit region code; known: {listing}",
                "region",
            )
        raise RuleError(
            "unknown_region", f"no policy on file for region {code}; known: {listing}", "region"
        )
    return known[code]


def describe_limits(rule: InsuranceRule) -> str:
    return f"{format_yuan(rule.base_lower, thousands=True)}–{format_yuan(rule.base_upper, thousands=True)}"


def describe_rate(ppm: int | None) -> str:
    return "per employer" if ppm is None else format_rate(ppm)
