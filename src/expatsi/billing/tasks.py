"""Billing runs as background jobs (django.tasks; the database backend's ``db_worker`` runs them).

A job is a :class:`BillingJob` row, written when it is enqueued and named by a random key, so its
progress can be shown before a worker has picked it up and with any task backend; an unknown key,
or a job of a region the caller does not cover, is not found. Every BillingRun the job creates
points at it, and :func:`job_progress` adds up their progress fields. A run job's task records the
run and enqueues one :func:`billing_partition` task per partition (employer ranges,
``EXPATSI_BILLING_PARTITIONS``), which any number of ``db_worker`` processes claim; each partition
counts its batches in the same transaction as the bills, and the run's fields are their sum,
renewed after every batch together with a heartbeat. A job whose worker died
(its runs' heartbeats stopped) is *interrupted*; :func:`billing_job_resume` enqueues it again under
the same key, and the new attempt writes only what the killed one had not.

The worker acts as the staff member who queued the attempt (``BillingJob.queued_by``), as they
stand when it runs: their regions are checked again and the run's audit event names them. The
task backend's own result id is kept on the job (``task_id``): a task that failed before it wrote
a run (its starter no longer covers the region, say) shows as failed, not as queued for ever.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from django.db import transaction
from django.tasks import TaskContext, TaskResultStatus, task
from django.tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch
from django.utils import timezone

from expatsi.access.actors import SYSTEM, Actor, actor_for_user
from expatsi.audit.services import audit_record
from expatsi.billing import permissions, selectors
from expatsi.billing.models import BillingJob, BillingRun, RunStatus, lease_cutoff
from expatsi.billing.run import billed_months, mark_interrupted, partition_awaits_retry
from expatsi.billing.services import (
    billing_partition_work,
    billing_recalculate,
    billing_run_partitioned,
)
from expatsi.rules.dates import Month
from expatsi.rules.errors import Conflict, Forbidden, RuleError
from expatsi.rules.regions import region

JobKind = Literal["run", "recalculate"]
JobStatus = Literal["queued", "running", "done", "failed", "interrupted"]


def job_actor(job: BillingJob) -> Actor:
    """Whom the worker acts for: the staff member who queued the job's latest attempt, as they
    stand now (a member who has since lost the region is refused when the run checks); the system
    for jobs the system queued, or whose user is gone."""
    if job.queued_by is None:
        return SYSTEM
    return actor_for_user(job.queued_by, via="job")


@task(takes_context=True)
def billing_job(
    context: TaskContext[Any, Any],
    *,
    key: str,
    kind: str = "run",
    region_code: str = "",
    month: str = "",
    to_month: str = "",
    started_by: str = "",
    expected: int = 1,
) -> dict[str, Any]:
    """Work one job. Only ``key`` is needed; the other arguments are those of jobs enqueued before
    jobs had rows, from which the row is made."""
    job, _ = BillingJob.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "region_code": region_code,
            "month": month,
            "to_month": to_month,
            "expected_runs": expected,
            "started_by": started_by[:200],
        },
    )
    task_id = str(context.task_result.id)
    if job.task_id != task_id:
        BillingJob.objects.filter(pk=job.pk).update(task_id=task_id)
    actor = job_actor(job)
    if job.kind == "recalculate":
        results = billing_recalculate(
            actor=actor,
            region_code=job.region_code,
            from_month=Month.parse(job.month),
            to_month=Month.parse(job.to_month) if job.to_month else None,
            job=job,
        )
    else:
        # The run is recorded (and audited) here; its partitions are tasks of their own, claimed by
        # whichever workers are free. An in-process backend runs each as it is enqueued.
        run = billing_run_partitioned(
            actor=actor, region_code=job.region_code, month=Month.parse(job.month), job=job
        )
        issued_on = timezone.localdate().isoformat()
        partitions = list(run.partitions.order_by("number").values_list("pk", flat=True))
        for pk in partitions:
            billing_partition.enqueue(key=job.key, partition=pk, issued_on=issued_on)
        return {"runs": [run.pk], "partitions": len(partitions)}
    return {
        "runs": [r.run.pk for r in results],
        "regular_bills": sum(r.regular_bills for r in results),
        "adjustment_bills": sum(r.adjustment_bills for r in results),
        "lines": sum(r.lines for r in results),
    }


@task()
def billing_partition(*, key: str, partition: int, issued_on: str) -> dict[str, Any]:
    """Bill one partition of a job's run, acting for whoever queued the job's latest attempt.
    Worked again after its worker was killed, or after an attempt raised, it goes on from its last
    committed batch."""
    job = BillingJob.objects.get(key=key)
    try:
        result = billing_partition_work(
            actor=job_actor(job), partition_id=partition, issued_on=date.fromisoformat(issued_on)
        )
    except Exception:
        # Queued again at once, to go on from its last committed batch; this attempt still shows
        # as failed in the task backend, with its traceback.
        if partition_awaits_retry(partition):
            billing_partition.enqueue(key=key, partition=partition, issued_on=issued_on)
        raise
    return {
        "run": result.run.pk,
        "partition": partition,
        "regular_bills": result.regular_bills,
        "adjustment_bills": result.adjustment_bills,
        "lines": result.lines,
    }


def months_to_recalculate(region_code: str, first: Month, last: Month | None) -> list[str]:
    """The months a recalculation will re-run: the billed months in the range, as the run sees them."""
    end = last or Month.of(timezone.localdate())
    return [str(m) for m in billed_months(region_code, first, end)]


def _enqueue(job: BillingJob) -> str:
    """Queue the job's task; keeps and returns the backend's result id."""
    result = billing_job.enqueue(key=job.key)
    BillingJob.objects.filter(pk=job.pk).update(task_id=result.id)
    return str(result.id)


def billing_job_start(
    *, actor: Actor, kind: JobKind, region_code: str, month: Month, to_month: Month | None = None
) -> str:
    """Check and enqueue a billing run (or recalculation); returns the job key to follow it by."""
    if not permissions.may_run_billing(actor, region_code):
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
    job = BillingJob.objects.create(
        key=uuid.uuid4().hex,
        kind=kind,
        region_code=policy.code,
        month=str(month),
        to_month=str(to_month) if to_month else "",
        expected_runs=expected,
        started_by=actor.label[:200],
        queued_by_id=actor.user_id,
    )
    try:
        task_id = _enqueue(job)
    except BaseException:
        job.delete()  # never a key that looks queued but no worker will ever see
        raise
    # After the enqueue, so the event names the task (an in-process backend has run it already,
    # so there the run's own event comes first in the trail).
    audit_record(
        actor=actor,
        action="billing.job_start",
        object_type="billing_job",
        object_id=job.pk,
        detail={
            "key": job.key,
            "kind": kind,
            "region": job.region_code,
            "month": job.month,
            "to_month": job.to_month,
            "task": task_id,
        },
    )
    return job.key


@dataclass
class JobProgress:
    key: str
    status: JobStatus
    employers_total: int = 0
    employers_done: int = 0
    people: int = 0
    lines_written: int = 0
    runs: list[BillingRun] = field(default_factory=list)  # every attempt's
    current: list[BillingRun] = field(default_factory=list)  # the latest attempt's
    error: str = ""
    expected_runs: int = 1

    @property
    def resumable(self) -> bool:
        return self.status == "interrupted"

    @property
    def percent(self) -> int:
        """Each run (one per month) is an equal share; within a run, employers done of total."""
        if self.status == "done":
            return 100
        share = 0.0
        for r in self.current:
            if r.status == RunStatus.DONE:
                share += 1
            elif r.employers_total:
                share += r.employers_done / r.employers_total
        return min(99, int(share * 100 / max(self.expected_runs, len(self.current), 1)))


def _task_failure(job: BillingJob) -> str | None:
    """Why the job's task failed, read from the task backend by its result id; None when it has
    not failed, or the backend cannot say (it keeps no results, or no longer this one)."""
    if not job.task_id or not billing_job.get_backend().supports_get_result:
        return None
    try:
        result = billing_job.get_result(job.task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch):
        return None
    if result.status != TaskResultStatus.FAILED:
        return None
    if not result.errors:
        return "the task failed"
    lines = result.errors[-1].traceback.strip().splitlines()
    return (lines[-1] if lines else result.errors[-1].exception_class_path)[:2000]


def job_progress(job: BillingJob) -> JobProgress:
    """Progress of a job from the runs of its latest attempt (earlier attempts' runs are listed)."""
    found = list(job.runs.order_by("id"))
    current = [r for r in found if r.attempt == job.attempt]
    progress = JobProgress(
        key=job.key,
        status="queued",
        runs=found,
        current=current,
        expected_runs=job.expected_runs,
    )
    if not current:
        failure = _task_failure(job)
        if failure is not None:
            progress.status, progress.error = "failed", failure
        return progress
    for r in current:
        progress.employers_total += r.employers_total
        progress.employers_done += r.employers_done
        progress.people += r.people
        progress.lines_written += r.lines_written
        if r.status == RunStatus.FAILED:
            progress.error = r.error
    shown = [r.shown_status for r in current]
    if RunStatus.FAILED in shown:
        progress.status = "failed"
    elif RunStatus.INTERRUPTED in shown:
        progress.status = "interrupted"
    elif RunStatus.RUNNING in shown:
        progress.status = "running"
    elif len(current) < job.expected_runs:
        # A recalculation creates its runs month by month: between two months nothing runs. Gone
        # quiet for longer than the lease, the worker died between months.
        quiet = max(r.last_seen for r in current) < lease_cutoff()
        progress.status = "interrupted" if quiet else "running"
    else:
        progress.status = "done"
    return progress


def billing_job_resume(*, actor: Actor, key: str) -> BillingJob:
    """Start an interrupted job again under the same key (agency staff of its region).

    The interrupted runs are recorded as such; the new attempt bills what the killed one had not
    (the run is idempotent), so resuming ends exactly where an uninterrupted job would have."""
    job = selectors.job_get(actor=actor, key=key)
    if not permissions.may_run_billing(actor, job.region_code):
        raise Forbidden("forbidden", "billing runs are resumed by the agency of the region", "")
    with transaction.atomic():
        job = BillingJob.objects.select_for_update().get(pk=job.pk)
        status = job_progress(job).status
        if status != "interrupted":
            raise Conflict(
                "not_interrupted", f"the job is {status}: only an interrupted job is resumed", "key"
            )
        mark_interrupted(job.runs.filter(attempt=job.attempt))
        # Between two months of a recalculation no run is left running: nothing to mark.
        previous, previous_by = job.attempt, job.queued_by_id
        job.attempt = previous + 1
        job.resumed_at = timezone.now()
        job.queued_by_id = actor.user_id  # the worker acts for whoever queued this attempt
        job.save(update_fields=["attempt", "resumed_at", "queued_by"])
        audit_record(
            actor=actor,
            action="billing.job_resume",
            object_type="billing_job",
            object_id=job.pk,
            detail={"key": job.key, "attempt": job.attempt},
        )
    try:
        _enqueue(job)
    except BaseException:
        BillingJob.objects.filter(pk=job.pk).update(attempt=previous, queued_by_id=previous_by)
        raise
    return job
