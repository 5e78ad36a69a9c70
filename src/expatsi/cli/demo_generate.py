"""``expatsi demo generate``: synthetic data at national scale (see :mod:`expatsi.demo.generate`)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from typing import Any

from django.utils import timezone

from expatsi.access.actors import operator_actor
from expatsi.cli import Parser, add_command
from expatsi.demo.generate import generate
from expatsi.rules.dates import parse_date


class PhaseBar:
    """One progress bar on stderr per phase (a line per update when stderr is not a terminal,
    only the phase's start and end then, so logs stay short)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.label = ""
        self.started = time.monotonic()

    def __call__(self, label: str, done: int, total: int) -> None:
        if label != self.label:
            self.label, self.started = label, time.monotonic()
        if not self.tty and 0 < done < total:
            return
        width = 30
        filled = width * done // total if total else width
        rate = done / max(time.monotonic() - self.started, 1e-9)
        text = (
            f"{label:<22} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)"
        )
        sys.stderr.write(("\r" + text) if self.tty else text + "\n")
        if self.tty and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run(args: argparse.Namespace) -> dict[str, Any]:
    today: date = parse_date(args.today, field="today") if args.today else timezone.localdate()
    started = time.perf_counter()
    report = generate(
        actor=operator_actor("demo generate"),
        employees=args.employees,
        employers=args.employers,
        months=args.months,
        seed=args.seed,
        today=today,
        append=args.append,
        credits=not args.no_credits,
        progress=None if args.quiet else PhaseBar(),
    )
    if not report.phases:
        outcome = "already generated with these parameters: nothing to do"
    elif report.skipped:
        outcome = "resumed: finished the phases an earlier run had not"
    else:
        outcome = "generated"
    return {
        "outcome": outcome,
        "batch": report.batch,
        "seconds": round(time.perf_counter() - started, 1),
        "phases": [{"phase": name, **values} for name, values in report.phases.items()],
        "skipped": len(report.skipped),
    }


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
        "--no-credits", action="store_true", help="skip crediting paid pensions to accounts"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
