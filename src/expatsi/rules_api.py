"""Read-only API over the rules engine: what an HR system asks before it declares a base."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from expatsi.rules.contributions import person_month
from expatsi.rules.dates import Month
from expatsi.rules.money import parse_rate, parse_yuan

router = Router(tags=["rules"])


class ContributionLineOut(Schema):
    insurance: str
    base: str
    base_reason: str
    employer_rate: str
    employee_rate: str
    employer: str
    employee: str
    exempt: bool
    merged_into: str | None
    explanation: str
    status: str


class PolicyOut(Schema):
    file: str
    period: str
    status: str
    sources: list[str]


class ContributionsOut(Schema):
    region: str
    region_name: str
    month: str
    wage: str
    work_injury_rate: str
    lines: list[ContributionLineOut]
    employer_total: str
    employee_total: str
    total: str
    policy: PolicyOut
    conventions: list[str]


@router.get("/contributions", response=ContributionsOut)
def contributions(
    request: HttpRequest,
    region: str,
    month: str,
    wage: str,
    work_injury_rate: str | None = None,
    nationality: str | None = None,
    coverage_certificate: bool = False,
) -> dict[str, Any]:
    """Contributions for one person-month, explained line by line (amounts in yuan)."""
    return person_month(
        region_code=region,
        month=Month.parse(month),
        wage=parse_yuan(wage, field="wage"),
        work_injury_rate=parse_rate(work_injury_rate, field="work_injury_rate")
        if work_injury_rate
        else None,
        nationality=nationality.upper() if nationality else None,
        coverage_certificate=coverage_certificate,
    ).as_dict()
