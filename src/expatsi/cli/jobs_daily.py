"""``expatsi jobs run-daily``: today's reminders to employers' HR (idempotent; see notify/jobs.py)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from expatsi.cli import Parser, add_command
from expatsi.rules.dates import parse_date


def _progress(step: str, done: int, total: int) -> None:
    sys.stderr.write(f"\r{step}: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _run_daily(args: argparse.Namespace) -> dict[str, Any]:
    today = parse_date(args.today, field="today") if args.today else None
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expatsi.settings")
    import django

    django.setup()
    from django.utils import timezone

    from expatsi.notify.jobs import run_daily

    # The console mail backend (local default) prints each e-mail on stdout: keep stdout for the result.
    with contextlib.redirect_stdout(sys.stderr):
        return run_daily(
            today or timezone.localdate(), progress=_progress if args.progress else None
        )


def _render(result: dict[str, Any]) -> str:
    lines = [f"Daily reminders for {result['today']}:"]
    for kind, n in result["sent"].items():
        lines.append(f"  {kind.replace('_', ' ')}: {n} sent ({result['found'][kind]} due)")
    lines.append(
        f"  total: {result['sent_total']} sent, {result['emailed']} e-mailed, "
        f"{result['already_sent']} already sent earlier, "
        f"{result['without_hr_user']} without an HR user to tell"
    )
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction[Parser]) -> None:
    p = add_command(
        subparsers,
        "run-daily",
        _run_daily,
        help="send today's reminders to HR (registration deadlines, expiring certificates and "
        "residence permits); running it again the same day sends nothing twice",
        render=_render,
    )
    p.add_argument(
        "--today", help="run as of this date YYYY-MM-DD (default: today in Asia/Shanghai)"
    )
    p.add_argument("--progress", action="store_true", help="show progress on stderr")
