"""``expatsi billing run`` and ``expatsi billing recalculate``: the monthly run from the shell."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from expatsi.access.actors import operator_actor
from expatsi.billing.services import (
    accounts_year_end,
    billing_recalculate,
    billing_run,
    credit_paid_bills,
)
from expatsi.cli import Parser, add_command
from expatsi.rules.dates import Month


class Bar:
    """A progress bar on stderr (a line per update when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        rate = done / max(time.monotonic() - self.started, 1e-9)
        text = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} employers ({rate:,.0f}/s)"
        sys.stderr.write(("\r" + text) if self.tty else text + "\n")
        if self.tty and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _result(r: Any) -> dict[str, Any]:
    return {
        "run": r.run.pk,
        "region": r.run.region_code,
        "month": r.run.month,
        "status": r.run.status,
        "employers": r.run.employers_total,
        "people": r.run.people,
        "regular_bills": r.regular_bills,
        "adjustment_bills": r.adjustment_bills,
        "lines": r.lines,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    month = Month.parse(args.month)
    result = billing_run(
        actor=operator_actor("billing run"),
        region_code=args.region,
        month=month,
        progress=None if args.quiet else Bar(f"billing {args.region} {month}"),
    )
    return _result(result)


def recalculate(args: argparse.Namespace) -> dict[str, Any]:
    start = Month.parse(args.from_month, field="from")
    end = Month.parse(args.to_month, field="to") if args.to_month else None
    results = billing_recalculate(
        actor=operator_actor("billing recalculate"),
        region_code=args.region,
        from_month=start,
        to_month=end,
        progress=None if args.quiet else Bar(f"recalculating {args.region}"),
    )
    return {"months": [_result(r) for r in results]}


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(sub, "run", run, help="bill a region for a month (idempotent, resumable)")
    p.add_argument("--region", required=True, help="6-digit region code, e.g. 110000")
    p.add_argument("--month", required=True, help="contribution month, YYYY-MM")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p = add_command(
        sub,
        "recalculate",
        recalculate,
        help="re-bill every billed month from --from after a policy change: adjustment bills only",
    )
    p.add_argument("--region", required=True)
    p.add_argument("--from", dest="from_month", required=True, help="first month, YYYY-MM")
    p.add_argument("--to", dest="to_month", help="last month, YYYY-MM (default: this month)")
    p.add_argument("--quiet", action="store_true")
    register_year_end(sub)


def year_end(args: argparse.Namespace) -> dict[str, Any]:
    actor = operator_actor("billing year-end")
    credited = credit_paid_bills(actor=actor)
    closed = accounts_year_end(actor=actor, year=args.year)
    return {"year": args.year, "credits_added": credited, "accounts_closed": closed}


def register_year_end(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "year-end",
        year_end,
        help="credit paid pension contributions and the year's interest to individual accounts",
    )
    p.add_argument("--year", type=int, required=True, help="the calendar year to close, e.g. 2025")
