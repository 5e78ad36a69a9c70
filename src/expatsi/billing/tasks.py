"""Billing runs as background jobs (django.tasks; the database backend's ``db_worker`` runs them).

A job is named by a key chosen when it is started, so its progress can be shown before a worker
has picked it up and with any task backend: every BillingRun the job creates carries the key in
``started_by`` (``"<who> [job:<key>]"``), and :func:`job_progress` adds up their progress fields,
which the run updates batch by batch in the same transaction as the bills.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import QuerySet
from django.tasks import task
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.billing.models import Bill, BillingRun, RunStatus
from expatsi.billing.run import billing_recalculate, billing_run
from expatsi.rules.dates import Month
from expatsi.rules.errors import Forbidden, RuleError
from expatsi.rules.regions import region

JobKind = Literal["run", "recalculate"]


def _tag(key: str, expected: int) -> str:
    return f"[job:{key}:{expected}]"


def _expected(run: BillingRun) -> int:
    """How many runs the job that created ``run`` makes (the number after the key in its tag)."""
    tail = run.started_by.rsplit("[job:", 1)[-1].rstrip("]")
    try:
        return max(1, int(tail.rsplit(":", 1)[-1]))
    except ValueError:
        return 1


@task()
def billing_job(
    *,
    key: str,
    kind: str,
    region_code: str,
    month: str,
    to_month: str = "",
    started_by: str = "",
    expected: int = 1,
) -> dict[str, Any]:
    who = f"{started_by[:120]} {_tag(key, expected)}"
    if kind == "recalculate":
        results = billing_recalculate(
            region_code=region_code,
            from_month=Month.parse(month),
            to_month=Month.parse(to_month) if to_month else None,
            started_by=who,
        )
    else:
        results = [billing_run(region_code=region_code, month=Month.parse(month), started_by=who)]
    return {
        "runs": [r.run.pk for r in results],
        "regular_bills": sum(r.regular_bills for r in results),
        "adjustment_bills": sum(r.adjustment_bills for r in results),
        "lines": sum(r.lines for r in results),
    }


def months_to_recalculate(region_code: str, first: Month, last: Month | None) -> list[str]:
    """The months a recalculation will re-run: the billed months in the range, as the run sees them."""
    end = last or Month.of(timezone.localdate())
    qs = Bill.objects.filter(region_code=region_code, month__gte=str(first), month__lte=str(end))
    return sorted(set(qs.values_list("month", flat=True)))


def billing_job_start(
    *, actor: Actor, kind: JobKind, region_code: str, month: Month, to_month: Month | None = None
) -> str:
    """Check and enqueue a billing run (or recalculation); returns the job key to follow it by."""
    if not actor.covers_region(region_code):
        raise Forbidden("forbidden", "billing runs are started by the agency of the region", "")
    policy = region(region_code)
    expected = 1
    if kind == "run":
        policy.period_for(month)  # a month with no policy is refused here, not in the worker
    elif kind == "recalculate":
        if to_month is not None and to_month < month:
            raise RuleError("end_before_start", "the last month is before the first", "to_month")
        months = months_to_recalculate(policy.code, month, to_month)
        if not months:
            raise RuleError(
                "nothing_to_recalculate", f"no bills in {policy.name} from {month} on", "month"
            )
        for m in months:
            policy.period_for(Month.parse(m))
        expected = len(months)
    else:
        raise RuleError("invalid_kind", "kind is run or recalculate", "kind")
    key = uuid.uuid4().hex
    billing_job.enqueue(
        key=key,
        kind=kind,
        region_code=policy.code,
        month=str(month),
        to_month=str(to_month) if to_month else "",
        started_by=actor.label,
        expected=expected,
    )
    return key


@dataclass
class JobProgress:
    key: str
    status: Literal["queued", "running", "done", "failed"]
    employers_total: int = 0
    employers_done: int = 0
    people: int = 0
    lines_written: int = 0
    runs: list[BillingRun] = field(default_factory=list)
    error: str = ""
    expected_runs: int = 1

    @property
    def percent(self) -> int:
        """Each run (one per month) is an equal share; within a run, employers done of total."""
        if self.status == "done":
            return 100
        share = 0.0
        for r in self.runs:
            if r.status == RunStatus.DONE:
                share += 1
            elif r.employers_total:
                share += r.employers_done / r.employers_total
        return min(99, int(share * 100 / max(self.expected_runs, len(self.runs), 1)))


def job_runs(key: str, runs: QuerySet[BillingRun]) -> list[BillingRun]:
    return list(runs.filter(started_by__contains=f"[job:{key}:").order_by("id"))


def job_progress(key: str, runs: QuerySet[BillingRun]) -> JobProgress:
    """Progress of a job from the BillingRuns it created (``runs``: those the caller may see)."""
    found = job_runs(key, runs)
    progress = JobProgress(key=key, status="queued", runs=found)
    for r in found:
        progress.employers_total += r.employers_total
        progress.employers_done += r.employers_done
        progress.people += r.people
        progress.lines_written += r.lines_written
        if r.status == RunStatus.FAILED:
            progress.error = r.error
    if not found:
        return progress
    progress.expected_runs = _expected(found[0])
    if any(r.status == RunStatus.FAILED for r in found):
        progress.status = "failed"
        return progress
    if any(r.status == RunStatus.RUNNING for r in found):
        progress.status = "running"
        return progress
    if len(found) < _expected(found[0]):  # a recalculation creates its runs month by month
        progress.status = "running"
        return progress
    progress.status = "done"
    return progress
