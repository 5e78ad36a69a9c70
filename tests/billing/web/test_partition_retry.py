"""A billing partition whose work raises (a lost connection, a deadlock) is tried again from its
last committed batch, by its task queued again, up to EXPATSI_BILLING_PARTITION_ATTEMPTS attempts:
the month ends exactly as a run that never failed, with no bill or line written twice. A partition
that keeps failing fails its run, with the error shown, after the last attempt."""

from __future__ import annotations

from collections import Counter

import pytest

from expatsi.access.actors import SYSTEM
from expatsi.billing import run as engine
from expatsi.billing.models import Bill, BillingJob, BillingPartition, BillingRun, BillLine
from expatsi.billing.tasks import billing_job_start, job_progress
from expatsi.employers.models import Employer
from expatsi.rules.dates import Month
from tests.billing.conftest import employ, make_person

MONTH = Month(2025, 9)


@pytest.fixture
def four_employers(beijing, beijing_staff, settings):
    """Four Beijing employers with people, one employer per batch, two partitions of two."""
    for n, uscc in enumerate(("91110000600037342J", "91110000600037343E", "91110000600037344X")):
        other = Employer.objects.create(name=f"Other {n} Co.", uscc=uscc, region_code="110000")
        employ(make_person(f"Person{n}", "FRA"), other, 12000 + n * 1000)
    settings.EXPATSI_BILLING_BATCH = 1
    settings.EXPATSI_BILLING_PARTITIONS = 2
    settings.EXPATSI_BILLING_PARTITION_ATTEMPTS = 3


def _failing(monkeypatch, fail_on: set[int]) -> Counter[str]:
    """``_write_batch`` raises on the given calls (1-based), as a dropped connection would."""
    calls: Counter[str] = Counter()
    real = engine._write_batch

    def write_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] in fail_on:
            raise RuntimeError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "_write_batch", write_batch)
    return calls


def _state() -> list[tuple[int, int, int, int, int]]:
    return sorted(
        BillLine.objects.values_list(
            "bill__employer_id", "person_id", "insurance", "employer_amount", "employee_amount"
        )
    )


def test_a_partition_that_raises_once_is_retried_and_the_month_is_billed_once(
    four_employers, immediate_tasks, monkeypatch
) -> None:
    # The second batch written raises: partition 0 has committed its first employer only.
    _failing(monkeypatch, {2})
    key = billing_job_start(actor=SYSTEM, kind="run", region_code="110000", month=MONTH)
    job = BillingJob.objects.get(key=key)
    run = BillingRun.objects.get(job=job)
    parts = list(run.partitions.order_by("number"))
    assert [(p.status, p.attempts, p.error) for p in parts] == [
        ("done", 2, ""),
        ("done", 1, ""),
    ]
    assert run.status == "done" and run.employers_done == run.employers_total == 4
    progress = job_progress(job)
    assert (progress.status, progress.percent) == ("done", 100)
    retried = _state()
    billed = Counter(Bill.objects.filter(month=str(MONTH)).values_list("employer_id", flat=True))
    employers = Employer.objects.filter(region_code="110000").values_list("pk", flat=True)
    assert billed == dict.fromkeys(employers, 1)
    assert run.lines_written == len(retried) == BillLine.objects.count()

    # The same month billed again from scratch, with nothing failing, gives the same lines.
    monkeypatch.undo()
    BillLine.objects.all().delete()
    Bill.objects.all().delete()
    BillingPartition.objects.all().delete()
    BillingRun.objects.all().delete()
    billing_job_start(actor=SYSTEM, kind="run", region_code="110000", month=MONTH)
    assert _state() == retried


def test_a_partition_that_keeps_raising_fails_its_run_after_the_last_attempt(
    four_employers, immediate_tasks, monkeypatch
) -> None:
    calls = _failing(monkeypatch, set(range(1, 100)))
    key = billing_job_start(actor=SYSTEM, kind="run", region_code="110000", month=MONTH)
    job = BillingJob.objects.get(key=key)
    run = BillingRun.objects.get(job=job)
    first = run.partitions.get(number=0)
    assert (first.status, first.attempts) == ("failed", 3)
    assert "server closed the connection" in first.error
    assert run.status == "failed" and "server closed the connection" in run.error
    progress = job_progress(job)
    assert progress.status == "failed" and "server closed the connection" in progress.error
    assert calls["n"] == 3  # three attempts at partition 0; partition 1 not worked for a failed run
    assert not Bill.objects.filter(month=str(MONTH)).exists()


def test_with_one_attempt_a_failure_fails_the_run_at_once(
    four_employers, immediate_tasks, monkeypatch, settings
) -> None:
    settings.EXPATSI_BILLING_PARTITION_ATTEMPTS = 1
    _failing(monkeypatch, {2})
    key = billing_job_start(actor=SYSTEM, kind="run", region_code="110000", month=MONTH)
    run = BillingRun.objects.get(job__key=key)
    assert run.status == "failed"
    assert run.partitions.get(number=0).attempts == 1
