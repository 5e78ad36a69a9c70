"""``manage.py demo_generate``: what ``expatsi demo generate`` runs (the ``cli`` layer may not
import ``demo``, so it calls this command by name). Prints the report as JSON on stdout."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from expatsi.access.actors import operator_actor
from expatsi.demo.generate import generate
from expatsi.rules.dates import parse_date


class PhaseBar:
    """A progress bar on stderr per phase (when stderr is not a terminal: a line at the start and
    at the end of each phase, so logs stay short)."""

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
        bar = "#" * filled + "." * (width - filled)
        text = f"{label:<22} [{bar}] {done:,}/{total:,} ({rate:,.0f}/s)"
        sys.stderr.write(("\r" + text) if self.tty else text + "\n")
        if self.tty and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class Command(BaseCommand):
    help = "Generate synthetic data at scale (see expatsi.demo.generate); prints JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--employees", type=int, required=True)
        parser.add_argument("--employers", type=int, required=True)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", default="")
        parser.add_argument("--append", action="store_true")
        parser.add_argument("--no-credits", dest="no_credits", action="store_true")
        parser.add_argument("--no-tokens", dest="no_tokens", action="store_true")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> str:
        today = (
            parse_date(options["today"], field="today")
            if options["today"]
            else timezone.localdate()
        )
        started = time.perf_counter()
        report = generate(
            actor=operator_actor("demo generate"),
            employees=options["employees"],
            employers=options["employers"],
            months=options["months"],
            seed=options["seed"],
            today=today,
            append=options["append"],
            credits=not options["no_credits"],
            tokens=not options["no_tokens"],
            progress=None if options["quiet"] else PhaseBar(),
        )
        if not report.phases:
            outcome = "already generated with these parameters: nothing to do"
        elif report.skipped:
            outcome = "resumed: finished the phases an earlier run had not"
        else:
            outcome = "generated"
        return json.dumps(
            {
                "outcome": outcome,
                "batch": report.batch,
                "seconds": round(time.perf_counter() - started, 1),
                "phases": [{"phase": name, **values} for name, values in report.phases.items()],
                "skipped": len(report.skipped),
            }
        )
