"""``expatsi demo generate``: synthetic data at national scale (``expatsi.demo.generate``).

The ``cli`` layer may not import ``demo`` (independent layers), so this runs the ``demo_generate``
management command by name and reads back its JSON report."""

from __future__ import annotations

import argparse
import json
from io import StringIO
from typing import Any

from django.core.management import call_command

from expatsi.cli import Parser, add_command


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = StringIO()
    options: dict[str, Any] = {
        "employees": args.employees,
        "employers": args.employers,
        "months": args.months,
        "seed": args.seed,
        "today": args.today or "",
        "append": args.append,
        "no_credits": args.no_credits,
        "no_tokens": args.no_tokens,
        "quiet": args.quiet,
    }
    call_command("demo_generate", stdout=out, **options)
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        sub,
        "generate",
        run,
        help="generate realistic synthetic employers, employees, cards, registrations, crossings, "
        "bills and payments (deterministic for a seed; a second run with the same parameters does "
        "nothing, an interrupted one resumes)",
    )
    p.add_argument("--employees", type=int, required=True, help="foreign employees, e.g. 1000000")
    p.add_argument("--employers", type=int, required=True, help="employers, e.g. 50000")
    p.add_argument("--months", type=int, default=24, help="months of bills and payments (24)")
    p.add_argument("--seed", type=int, default=1, help="random seed (1)")
    p.add_argument("--today", help="the day the data is generated as of, YYYY-MM-DD (today)")
    p.add_argument(
        "--append",
        "--force",
        dest="append",
        action="store_true",
        help="generate a further batch even though the database holds other data",
    )
    p.add_argument(
        "--no-credits",
        action="store_true",
        help="do not credit paid pension contributions to individual accounts",
    )
    p.add_argument(
        "--no-tokens",
        action="store_true",
        help="do not sign a QR token for each active card (about 0.1 ms of CPU a card)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
