"""``expatsi benefits pension-run``: the monthly pension run without a person at the portal."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.access.actors import operator_actor
from expatsi.benefits.pension_schedule import ScheduledRuns, pension_runs
from expatsi.cli import Parser, add_command
from expatsi.rules.dates import Month
from expatsi.rules.money import format_yuan


def result_of(found: ScheduledRuns) -> dict[str, Any]:
    """The runs as plain data (also the daily job's ``pension_run`` entry)."""
    return {
        "month": str(found.month),
        "payouts": found.created,
        "amount": format_yuan(found.amount),
        "regions": [
            {
                "region": code,
                "payouts": r.created,
                "amount": format_yuan(r.amount),
                "payment_run": r.run.pk if r.run is not None else None,
            }
            for code, r in found.runs
        ],
    }


def pension_run(args: argparse.Namespace) -> dict[str, Any]:
    month = Month.parse(args.month)
    found = pension_runs(
        actor=operator_actor("benefits pension-run"),
        month=month,
        region_code=args.region or "",
    )
    return result_of(found)


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "pension-run",
        pension_run,
        help="pay the awarded pensions for a month (back pay included) and write the payment "
        "runs; running it again pays nothing twice",
    )
    p.add_argument("--month", required=True, help="the month paid, YYYY-MM")
    p.add_argument("--region", help="6-digit region code (default: every region paying pensions)")
