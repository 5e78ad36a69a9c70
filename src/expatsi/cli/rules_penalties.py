"""``expatsi rules late-fee`` and ``expatsi rules fines``: SIL Art. 84 and 86, Exit-Entry Art. 80."""

from __future__ import annotations

import argparse
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.cli.rules_retirement import sources
from expatsi.rules.dates import parse_date
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_rate, format_yuan, parse_yuan
from expatsi.rules.penalties import fine_range, late_fee


def late_fee_command(args: argparse.Namespace) -> dict[str, Any]:
    amount = parse_yuan(args.amount, field="amount")
    due = parse_date(args.due, field="due")
    paid = parse_date(args.paid, field="paid")
    fee = late_fee(amount, due, paid)
    return {
        "amount": format_yuan(fee.amount_fen),
        "due": due.isoformat(),
        "paid": paid.isoformat(),
        "days": fee.days,
        "rate_per_day": format_rate(fee.rate_ppm_per_day),
        "late_fee": format_yuan(fee.fee_fen),
        "explanation": fee.explanation,
        "status": fee.status.value,
        "sources": sources(fee.provenance),
    }


def _persons(text: str | None) -> int | None:
    if text is None:
        return None
    if not (text.strip().isascii() and text.strip().isdigit()) or int(text) < 1:
        raise RuleError("invalid_persons", f"{text!r} is not a number of persons ≥ 1", "persons")
    return int(text)


def fines(args: argparse.Namespace) -> dict[str, Any]:
    amount = parse_yuan(args.amount, field="amount") if args.amount is not None else None
    fine = fine_range(args.kind, amount_fen=amount, persons=_persons(args.persons))
    return {
        "kind": fine.kind,
        "label": fine.label,
        "article": fine.article,
        "min": format_yuan(fine.min_fen),
        "max": format_yuan(fine.max_fen),
        "explanation": fine.explanation,
        "status": fine.status.value,
        "sources": sources(fine.provenance),
    }


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "late-fee",
        late_fee_command,
        help="late fee on unpaid premiums: 0.05%% a day (Social Insurance Law Art. 86)",
    )
    p.add_argument("--amount", required=True, help="arrears in yuan, e.g. 10000")
    p.add_argument("--due", required=True, help="due date, YYYY-MM-DD")
    p.add_argument("--paid", required=True, help="payment date, YYYY-MM-DD")
    p = add_command(sub, "fines", fines, help="statutory fine range for a kind of violation")
    p.add_argument(
        "--kind",
        required=True,
        help="e.g. illegal_employment, failure_to_register, arrears_not_paid (an unknown kind "
        "lists all)",
    )
    p.add_argument("--amount", help="premiums payable or arrears in yuan (for multiples)")
    p.add_argument("--persons", help="number of persons (per-person fines)")
