"""``expatsi rules deadline``: a statutory clock applied to a date, and where today stands."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.rules.dates import parse_date
from expatsi.rules.deadlines import deadline, deadline_status
from expatsi.rules.errors import RuleError


def _deadline(args: argparse.Namespace) -> dict[str, Any]:
    start = parse_date(args.start, field="from")
    today = parse_date(args.today, field="today") if args.today else date.today()
    try:
        d = deadline(args.kind, start)
    except RuleError as exc:  # the rules call it "start"; here it is --from
        raise RuleError(
            exc.code, exc.message, "from" if exc.field == "start" else exc.field
        ) from None
    state = deadline_status(d, today)
    result: dict[str, Any] = {
        "kind": d.kind,
        "title": d.title,
        "start": d.start.isoformat(),
        "due": d.due.isoformat(),
        "today": today.isoformat(),
        "status": state.status,
        "days_left": state.days_left,
        "days_overdue": state.days_overdue,
        "rule": d.rule,
        "law": d.law,
        "status_of_rule": d.provenance.status.value,
        "source": d.provenance.source,
        "calendar_complete": d.calendar_complete,
    }
    if d.opens is not None:
        result["opens"] = d.opens.isoformat()
    if d.reminders:
        result["reminders"] = [r.isoformat() for r in d.reminders]
    if d.note:
        result["note"] = d.note
    return result


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "deadline",
        _deadline,
        help="compute a statutory deadline (registration, permit cancellation, proof of life …)",
    )
    p.add_argument(
        "--kind",
        required=True,
        help="the clock, e.g. registration (an unknown kind lists them all)",
    )
    p.add_argument("--from", dest="start", required=True, help="the event's date YYYY-MM-DD")
    p.add_argument("--today", help="judge the status on this date (default: today)")
