"""``expatsi jobs run-daily``: today's reminders to employers' HR (idempotent; see insurance/reminders.py),
card expiries, departures to open (benefits), the previous month's pensions on
``EXPATSI_PENSION_RUN_DAY`` (queued, one task per region, unless ``EXPATSI_PENSION_RUNS_QUEUED``
is off), crediting of paid contributions, the compliance scan (queued in partitions for the
``db_worker`` pool unless ``EXPATSI_SCAN_PARTITIONS`` is 0), and purging of old idempotency
records.

Each step runs whatever the others do: a step that fails, a reminder that cannot be delivered or an
e-mail that cannot be sent is logged, listed under ``failures`` and counted in ``failed``, and the
job goes on. Exit status: 0 when everything was done, 1 when the job ran to the end but something
failed (so that cron or a monitor notices; the list says what), 2 for bad input (``--today``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from expatsi.access.actors import SYSTEM
from expatsi.access.models import IdempotencyRecord
from expatsi.benefits import tasks as pension_tasks
from expatsi.benefits.pension_schedule import pensions_due
from expatsi.benefits.proof_of_life import proofs_daily
from expatsi.benefits.services import departures_detect
from expatsi.billing.services import credit_paid_bills
from expatsi.cards.services import cards_expire
from expatsi.cases import scan_pool
from expatsi.cases.models import Scan
from expatsi.cases.services import compliance_scan
from expatsi.cases.tasks import compliance_scan_start
from expatsi.cli import EXIT_FAILURE, Parser, add_command
from expatsi.cli.benefits_pension import result_of
from expatsi.insurance.reminders import run_daily
from expatsi.rules.dates import parse_date

log = logging.getLogger(__name__)


def _progress(step: str, done: int, total: int) -> None:
    sys.stderr.write(f"\r{step}: {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


IDEMPOTENCY_DAYS = 7


def _run_daily(args: argparse.Namespace) -> dict[str, Any]:
    today = parse_date(args.today, field="today") if args.today else None
    day = today or timezone.localdate()
    failures: list[dict[str, Any]] = []

    def step(name: str, run: Callable[[], Any]) -> Any:
        try:
            return run()
        except Exception as exc:
            log.exception("daily job: step %s failed", name)
            failures.append({"step": name, "error": f"{type(exc).__name__}: {exc}"})
            return None

    # The console mail backend (local default) prints each e-mail on stdout: keep stdout for the result.
    with contextlib.redirect_stdout(sys.stderr):
        result = step(
            "reminders", lambda: run_daily(day, progress=_progress if args.progress else None)
        ) or {
            "today": day.isoformat(),
            "found": {},
            "sent": {},
            "sent_total": 0,
            "emailed": 0,
            "already_sent": 0,
            "without_hr_user": 0,
            "failures": [],
        }
        failures[:0] = result.pop("failures", [])
        # Permits not extended are cancelled on expiry; notices unused for 90 days lapse.
        expiry = step("cards", lambda: cards_expire(actor=SYSTEM, today=day))
    result["cards_expired"] = expiry.expired if expiry else 0
    result["notices_lapsed"] = expiry.lapsed if expiry else 0
    # Deregistered cards, ended employments and exits open the person's departure choice.
    result["departures_opened"] = (
        step("departures", lambda: departures_detect(actor=SYSTEM, today=day)) or 0
    )
    # Pensions paid abroad: proof-of-life reminders (deadlines.toml), suspension on lapse.
    proofs = step("proof_of_life", lambda: proofs_daily(actor=SYSTEM, today=day))
    result["proof_of_life_reminders"] = proofs.reminded if proofs else 0
    result["pensions_suspended"] = proofs.suspended if proofs else 0
    # On EXPATSI_PENSION_RUN_DAY: the previous month's pensions in every region (idempotent).
    # With EXPATSI_PENSION_RUNS_QUEUED one task per region for the db_worker pool.
    result["pension_run"] = step("pension_run", lambda: _pension_run(day))
    # Contributions paid since yesterday reach the individual accounts.
    result["account_credits"] = (
        step("account_credits", lambda: credit_paid_bills(actor=SYSTEM)) or 0
    )
    # Compliance checks (expatsi.cases): new findings per rule; a re-run adds none.
    # With EXPATSI_SCAN_PARTITIONS > 0 the scan is queued for the db_worker pool (its counts are
    # on the scan's page when done); 0 runs it here.
    scanned = step("compliance", lambda: _compliance_scan(day))
    result["compliance"] = scanned.counts if scanned is not None else None
    result["compliance_scan"] = (
        {
            "id": scanned.pk,
            "partitions": scanned.partitions_total,
            "status": "done" if scanned.finished_at else "queued",
        }
        if scanned is not None
        else None
    )
    # Stored Idempotency-Key answers are kept for 7 days: long enough for any client's retries.
    cutoff = timezone.now() - timedelta(days=IDEMPOTENCY_DAYS)
    result["idempotency_purged"] = (
        step(
            "idempotency_purge",
            lambda: IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()[0],
        )
        or 0
    )
    result["failed"] = len(failures)
    result["failures"] = failures
    if failures:
        args._exit_code = EXIT_FAILURE
    return result


def _pension_run(day: date) -> dict[str, Any] | None:
    """The previous month's pensions on the run day: queued per region, or paid here."""
    if pension_tasks.queued():
        return pension_tasks.pensions_due_enqueue(actor=SYSTEM, today=day)
    paid = pensions_due(actor=SYSTEM, today=day)
    return result_of(paid) if paid is not None else None


def _compliance_scan(day: date) -> Scan:
    """Today's scan of every region: queued for the worker pool, or run here when scans are not
    queued (an in-process task backend also runs the queued partitions here)."""
    if scan_pool.queued():
        return compliance_scan_start(actor=SYSTEM, as_of=day)
    return compliance_scan(actor=SYSTEM, as_of=day)


def _pension_line(run: dict[str, Any] | None) -> str:
    if not run:
        return ""
    if run.get("queued"):
        return f"pension run {run['month']}: queued in {len(run['queued'])} regions; "
    return f"pension run {run['month']}: {run['payouts']} payouts ({run['amount']}); "


def _render(result: dict[str, Any]) -> str:
    lines = [f"Daily reminders for {result['today']}:"]
    for kind, n in result["sent"].items():
        lines.append(f"  {kind.replace('_', ' ')}: {n} sent ({result['found'][kind]} due)")
    lines.append(
        f"  total: {result['sent_total']} sent, {result['emailed']} e-mailed, "
        f"{result['already_sent']} already sent earlier, "
        f"{result['without_hr_user']} without an HR user to tell"
    )
    lines.append(
        f"Cards: {result['cards_expired']} expired, {result['notices_lapsed']} notices lapsed; "
        f"{result['account_credits']} account credits; "
        f"{result['departures_opened']} departures opened; "
        f"{result['pensions_suspended']} pensions suspended (no proof of life); "
        + _pension_line(result.get("pension_run"))
        + f"{result['idempotency_purged']} old idempotency records purged"
    )
    if result["failures"]:
        lines.append(f"Failed: {result['failed']} (details in the log):")
        for f in result["failures"]:
            who = f" to user {f['user_id']} ({f['kind']})" if "user_id" in f else ""
            lines.append(f"  {f['step']}{who}: {f['error']}")
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
