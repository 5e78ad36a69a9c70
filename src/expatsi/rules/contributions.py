"""Contributions for one person-month, and the same computation vectorised over millions.

The scalar function is the reference: it explains every line. The batch function is what billing
runs use; a property test proves it gives the very same fen as the scalar function for any input.
Per line: base = wage clamped to the period's limits; amount = base × rate rounded by the region's
rule; fixed amounts (Beijing's 3 yuan on the employee's medical) are added after rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from expatsi.rules.agreements import (
    Exemption,
    agreements,
    default_work_injury_rate,
    exemption_for,
    work_injury_range,
)
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.money import PPM, Rounding, apply_rate, format_rate, format_yuan
from expatsi.rules.policy import Provenance, Status
from expatsi.rules.regions import INSURANCES, Insurance, InsuranceRule, Period, RegionPolicy, region

BaseReason = Literal["within_limits", "raised_to_lower_limit", "capped_at_upper_limit"]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _y(fen: int) -> str:
    return format_yuan(fen, thousands=True)


@dataclass(frozen=True, slots=True)
class Line:
    """One insurance for one person-month."""

    insurance: Insurance
    base: int
    base_reason: BaseReason
    employer_rate: int
    employee_rate: int
    employer: int
    employee: int
    exempt: bool
    merged_into: Insurance | None
    explanation: str
    provenance: Provenance

    def as_dict(self) -> dict[str, Any]:
        return {
            "insurance": self.insurance,
            "base": format_yuan(self.base),
            "base_reason": self.base_reason,
            "employer_rate": format_rate(self.employer_rate),
            "employee_rate": format_rate(self.employee_rate),
            "employer": format_yuan(self.employer),
            "employee": format_yuan(self.employee),
            "exempt": self.exempt,
            "merged_into": self.merged_into,
            "explanation": self.explanation,
            "status": self.provenance.status.value,
        }


@dataclass(frozen=True, slots=True)
class PersonMonth:
    """All five lines for one person-month, with the policy they came from."""

    region: RegionPolicy
    period: Period
    month: Month
    wage: int
    work_injury_rate: int
    lines: tuple[Line, ...]
    exemption: Exemption
    conventions: tuple[str, ...]

    @property
    def employer_total(self) -> int:
        return sum(line.employer for line in self.lines)

    @property
    def employee_total(self) -> int:
        return sum(line.employee for line in self.lines)

    @property
    def status(self) -> Status:
        return Status.weakest(
            [self.period.status, *(line.provenance.status for line in self.lines)]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region.code,
            "region_name": self.region.name,
            "month": str(self.month),
            "wage": format_yuan(self.wage),
            "work_injury_rate": format_rate(self.work_injury_rate),
            "lines": [line.as_dict() for line in self.lines],
            "employer_total": format_yuan(self.employer_total),
            "employee_total": format_yuan(self.employee_total),
            "total": format_yuan(self.employer_total + self.employee_total),
            "policy": {
                "file": self.region.file,
                "period": f"{self.period.span.first}…{self.period.span.last or ''}",
                "status": self.status.value,
                "sources": self.period.sources(),
            },
            "conventions": list(self.conventions),
        }


def clamp_base(wage: int, rule: InsuranceRule) -> tuple[int, BaseReason]:
    if wage < rule.base_lower:
        return rule.base_lower, "raised_to_lower_limit"
    if wage > rule.base_upper:
        return rule.base_upper, "capped_at_upper_limit"
    return wage, "within_limits"


def _check_work_injury_rate(rate: int, policy: RegionPolicy) -> None:
    lo, hi = work_injury_range(policy.work_injury_factor)
    if not lo <= rate <= hi:
        raise RuleError(
            "invalid_work_injury_rate",
            f"{format_rate(rate)} is outside the range {format_rate(lo)}–{format_rate(hi)} that the "
            f"industry classes allow in {policy.name}; give the employer's rate, e.g. 0.4% or 0.004",
            "work_injury_rate",
        )


def person_month(
    *,
    region_code: str,
    month: Month,
    wage: int,
    work_injury_rate: int | None = None,
    nationality: str | None = None,
    coverage_certificate: bool = False,
) -> PersonMonth:
    """Contributions for one person in one month (wage in fen, rates in ppm)."""
    if wage < 0:
        raise RuleError("negative_wage", "the contribution wage must be ≥ 0", "wage")
    policy = region(region_code)
    period = policy.period_for(month)
    conventions = [f"each line {policy.rounding.describe()}"]
    if work_injury_rate is None:
        work_injury_rate = default_work_injury_rate(policy.work_injury_factor)
        conventions.append(
            f"no employer work-injury rate given: class I benchmark {format_rate(work_injury_rate)} assumed"
        )
    else:
        _check_work_injury_rate(work_injury_rate, policy)
    exemption = exemption_for(nationality, month, certificate=coverage_certificate)
    lines: list[Line] = []
    for name in INSURANCES:
        rule = period.rules[name]
        base, reason = clamp_base(wage, rule)
        lines.append(
            _line(rule, base, reason, wage, work_injury_rate, exemption, policy.rounding, period)
        )
    return PersonMonth(
        policy, period, month, wage, work_injury_rate, tuple(lines), exemption, tuple(conventions)
    )


def _line(
    rule: InsuranceRule,
    base: int,
    reason: BaseReason,
    wage: int,
    work_injury_rate: int,
    exemption: Exemption,
    rounding: Rounding,
    period: Period,
) -> Line:
    name = rule.insurance
    limits = f"{_y(rule.base_lower)}–{_y(rule.base_upper)}"
    base_text = {
        "within_limits": f"base {_y(base)} (the wage, within the limits {limits})",
        "raised_to_lower_limit": f"base {_y(base)} (wage {_y(wage)} below the lower limit: raised to it)",
        "capped_at_upper_limit": f"base {_y(base)} (wage {_y(wage)} above the upper limit: capped)",
    }[reason]
    if rule.merged_into is not None:
        return Line(
            name,
            base,
            reason,
            0,
            0,
            0,
            0,
            False,
            rule.merged_into,
            f"{name}: included in {rule.merged_into} insurance (merged in this region)",
            rule.provenance,
        )
    employer_rate = work_injury_rate if rule.employer_rate is None else rule.employer_rate
    if name in exemption.insurances:
        return Line(
            name,
            base,
            reason,
            employer_rate,
            rule.employee_rate,
            0,
            0,
            True,
            None,
            f"{name}: {exemption.reason}",
            exemption.agreement.provenance if exemption.agreement else rule.provenance,
        )
    employer = apply_rate(base, employer_rate, rounding) + rule.employer_fixed
    employee = apply_rate(base, rule.employee_rate, rounding) + rule.employee_fixed
    parts = [f"{name}: {base_text}", f"employer {format_rate(employer_rate)} = {_y(employer)}"]
    if rule.employer_fixed:
        parts[-1] += f" (incl. fixed {_y(rule.employer_fixed)})"
    if name == "work_injury":
        parts.append("employee pays none")
    else:
        emp = f"employee {format_rate(rule.employee_rate)}"
        if rule.employee_fixed:
            emp += f" + fixed {_y(rule.employee_fixed)}"
        parts.append(f"{emp} = {_y(employee)}")
    merged_here = [r.insurance for r in period.rules.values() if r.merged_into == name]
    if merged_here:
        parts.append(f"includes {', '.join(merged_here)} insurance (merged in this region)")
    if rule.provenance.status is not Status.CONFIRMED:
        parts.append(f"figures {rule.provenance.status.value}")
    return Line(
        name,
        base,
        reason,
        employer_rate,
        rule.employee_rate,
        employer,
        employee,
        False,
        None,
        "; ".join(parts),
        rule.provenance,
    )


# --- the batch path -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    """Per insurance: base, employer and employee amounts (fen) for every person, in input order."""

    period: Period
    base: dict[str, IntArray]
    employer: dict[str, IntArray]
    employee: dict[str, IntArray]

    @property
    def employer_total(self) -> IntArray:
        return np.sum([self.employer[i] for i in INSURANCES], axis=0, dtype=np.int64)

    @property
    def employee_total(self) -> IntArray:
        return np.sum([self.employee[i] for i in INSURANCES], axis=0, dtype=np.int64)


def _round_rate(base: IntArray, rate: int | IntArray, rounding: Rounding) -> IntArray:
    """Vectorised :meth:`Rounding.divide` for non-negative products (bases and rates are ≥ 0)."""
    n = base * rate
    d = PPM * rounding.unit_fen
    if rounding.mode == "half_up":
        q = (n + d // 2) // d  # d is even, so this equals floor((2n + d) / 2d)
    elif rounding.mode == "up":
        q = -(-n // d)
    else:
        q = n // d
    return (q * rounding.unit_fen).astype(np.int64, copy=False)


def exemption_masks(
    month: Month, nationalities: Sequence[str] | npt.NDArray[Any], certificates: BoolArray
) -> dict[str, BoolArray]:
    """Per insurance, which people are exempt this month (agreement country + valid certificate)."""
    nat = np.asarray(nationalities)
    masks: dict[str, BoolArray] = {name: np.zeros(len(nat), dtype=np.bool_) for name in INSURANCES}
    for country, agreement in agreements().items():
        if not agreement.covers(month):
            continue
        hit = (nat == country) & certificates
        if not hit.any():
            continue
        for name in agreement.exempt:
            masks[name] |= hit
    return masks


def contributions_batch(
    *,
    region_code: str = "",
    month: Month,
    wages: IntArray,
    work_injury_rates: IntArray | None = None,
    exempt: Mapping[str, BoolArray] | None = None,
    policy: RegionPolicy | None = None,
) -> Batch:
    """The same fen as :func:`person_month` for every row, computed with whole-array operations.

    The region is ``policy`` when the caller holds it already (a billing run, batch after batch),
    else looked up by ``region_code``."""
    if policy is None:
        policy = region(region_code)
    period = policy.period_for(month)
    wages = np.asarray(wages, dtype=np.int64)
    if wages.size and int(wages.min()) < 0:
        row = int(np.argmax(wages < 0))
        raise RuleError("negative_wage", f"row {row}: the contribution wage must be ≥ 0", "wage")
    if work_injury_rates is None:
        wi: int | IntArray = default_work_injury_rate(policy.work_injury_factor)
    else:
        wi = np.asarray(work_injury_rates, dtype=np.int64)
        lo, hi = work_injury_range(policy.work_injury_factor)
        bad = (wi < lo) | (wi > hi)
        if bad.any():
            row = int(np.argmax(bad))
            raise RuleError(
                "invalid_work_injury_rate",
                f"row {row}: {format_rate(int(wi[row]))} is outside {format_rate(lo)}–{format_rate(hi)}",
                "work_injury_rate",
            )
    zeros = np.zeros(wages.shape, dtype=np.int64)
    base: dict[str, IntArray] = {}
    employer: dict[str, IntArray] = {}
    employee: dict[str, IntArray] = {}
    for name in INSURANCES:
        rule = period.rules[name]
        b = np.clip(wages, rule.base_lower, rule.base_upper)
        base[name] = b
        if rule.merged_into is not None:
            employer[name] = employee[name] = zeros
            continue
        er_rate = wi if rule.employer_rate is None else rule.employer_rate
        er = _round_rate(b, er_rate, policy.rounding)
        ee = (
            _round_rate(b, rule.employee_rate, policy.rounding)
            if rule.employee_rate
            else zeros.copy()
        )
        if rule.employer_fixed:
            er += rule.employer_fixed
        if rule.employee_fixed:
            ee += rule.employee_fixed
        mask = exempt.get(name) if exempt else None
        if mask is not None and mask.any():
            er = np.where(mask, 0, er)
            ee = np.where(mask, 0, ee)
        employer[name] = er
        employee[name] = ee
    return Batch(period, base, employer, employee)
