"""``expatsi rules account``: the individual pension account from a CSV ledger of credits."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.cli.rules_retirement import sources
from expatsi.rules.accounts import Credit, contribution_months, statement
from expatsi.rules.dates import Month, parse_date
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_yuan, parse_yuan

COLUMNS = ("month", "amount")


def read_ledger(path: str) -> list[Credit]:
    """Read ``month,amount`` rows (amount in yuan, negative for a correction).

    The header row is optional; blank lines and lines starting with ``#`` are skipped. A bad row
    is reported by its line number and column.
    """
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RuleError(
            "ledger_unreadable", f"cannot read {path!r}: {exc.strerror}", "ledger"
        ) from None
    credits: list[Credit] = []
    columns = {"month": 0, "amount": 1}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        lowered = [c.lower() for c in cells]
        if not credits and set(COLUMNS) <= set(lowered):
            columns = {name: lowered.index(name) for name in COLUMNS}
            continue
        where = f"row {number}"
        if len(cells) <= max(columns.values()):
            raise RuleError(
                "invalid_ledger",
                f"{where}: expected the columns month,amount, got {len(cells)} column(s)",
                "ledger",
            )
        try:
            month = Month.parse(cells[columns["month"]], field="month")
            amount = parse_yuan(cells[columns["amount"]], field="amount", allow_negative=True)
        except RuleError as exc:
            raise RuleError(
                "invalid_ledger", f"{where}, column {exc.field}: {exc.message}", "ledger"
            ) from None
        credits.append((month, amount))
    return credits


def account(args: argparse.Namespace) -> dict[str, Any]:
    on = parse_date(args.on, field="on")
    credits = read_ledger(args.ledger)
    st = statement(credits, on)
    return {
        "on": on.isoformat(),
        "balance": format_yuan(st.balance),
        "years": [y.as_dict() for y in st.years],
        "contribution_months": contribution_months(c for c in credits if c[0] <= Month.of(on)),
        "provisional": st.provisional,
        "excluded_credits": st.excluded_credits,
        "status": st.status.value,
        "explanation": list(st.explanation),
        "sources": sources(st.provenance),
    }


def render_account(result: dict[str, Any]) -> str:
    rows = [
        f"Individual account on {result['on']}: balance {result['balance']} [{result['status']}]",
        f"{'year':<6}{'opening':>14}{'credits':>14}{'interest':>12}{'closing':>14}  rate",
    ]
    for y in result["years"]:
        mark = " provisional" if y["provisional"] else ""
        rows.append(
            f"{y['year']:<6}{y['opening']:>14}{y['credits']:>14}{y['interest']:>12}"
            f"{y['closing']:>14}  {y['rate']} ({y['status']}){mark}"
        )
    rows += [f"  {line}" for line in result["explanation"]]
    return "\n".join(rows)


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "account",
        account,
        render=render_account,
        help="individual pension account balance, year by year, from a CSV ledger",
    )
    p.add_argument(
        "--ledger", required=True, help="CSV file with columns month,amount (yuan); - for stdin"
    )
    p.add_argument("--on", required=True, help="closing date, YYYY-MM-DD (e.g. the lump-sum date)")
