"""``expatsi rules retirement``: statutory pension age, flexible window and minimum contribution."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.rules.policy import Provenance
from expatsi.rules.retirement import flexible_window


def parse_original_age(text: str | None) -> int | None:
    """``--original-age`` as a whole number of years (validated against the sex by the rules)."""
    if text is None:
        return None
    value = text.strip()
    if not (value.isascii() and value.isdigit()):  # int() would read full-width digits
        raise RuleError(
            "invalid_original_age",
            f"{text!r} is not an age in whole years, e.g. 60",
            "original_age",
        )
    return int(value)


def sources(provenance: tuple[Provenance, ...]) -> list[dict[str, str]]:
    """Each distinct provenance once, in order of use."""
    seen: list[Provenance] = []
    for p in provenance:
        if p not in seen:
            seen.append(p)
    return [p.as_dict() for p in seen]


def retirement(args: argparse.Namespace) -> dict[str, Any]:
    birth = Month.parse(args.birth, field="birth")
    window = flexible_window(birth, args.sex, parse_original_age(args.original_age))
    stat = window.statutory
    return {
        "birth": str(stat.birth),
        "sex": stat.sex,
        "original_age": stat.original_age,
        "original_retirement_month": str(stat.original_retirement_month),
        "delay_months": stat.delay_months,
        "age_years": stat.age_years,
        "age_months": stat.age_months,
        "age": stat.age_text,
        "retirement_month": str(stat.retirement_month),
        "min_contribution_months": stat.min_contribution_months,
        "flexible": {
            "earliest": str(window.earliest),
            "earliest_age_years": window.earliest_age_years,
            "earliest_age_months": window.earliest_age_months,
            "earliest_min_contribution_months": window.earliest_min_contribution_months,
            "latest": str(window.latest),
            "latest_age_years": window.latest_age_years,
            "latest_age_months": window.latest_age_months,
            "early_notice_months": window.early_notice_months,
            "late_notice_months": window.late_notice_months,
            "notice_status": window.notice_provenance.status.value,
        },
        "status": window.status.value,
        "explanation": list(window.explanation),
        "sources": sources(window.provenance),
    }


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "retirement",
        retirement,
        help="statutory retirement month and age under the 2025 reform, and the minimum "
        "contribution months",
    )
    p.add_argument("--birth", required=True, help="birth month, YYYY-MM")
    p.add_argument("--sex", required=True, help="male or female")
    p.add_argument(
        "--original-age", help="original retirement age: 60 (men, default); 50 or 55 (women)"
    )
