"""A billing job whose worker died mid-run is shown as interrupted (portal in both languages, the
JSON poll and the API) once its lease has expired, and resuming it under the same key finishes
the month with no bill written twice. Only an interrupted job is resumed, only by its region."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from expatsi.access.actors import SYSTEM
from expatsi.audit.models import AuditEvent
from expatsi.billing.models import Bill, BillingJob, BillingRun, BillLine, RunStatus
from expatsi.billing.services import billing_run
from expatsi.billing.tasks import job_progress
from expatsi.employers.models import Employer
from expatsi.rules.dates import Month
from tests.billing.conftest import employ, make_person
from tests.billing.web.conftest import API, post_json

MONTH = "2025-09"


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no handler records anything."""


@pytest.fixture
def killed_job(bworld, settings) -> BillingJob:
    """A Beijing job for 2025-09 whose worker died after the first of two employers."""
    second = Employer.objects.create(
        name="Second Beijing Co.", uscc="91110000600037342J", region_code="110000"
    )
    employ(make_person("Delta", "FRA"), second, 12000)
    settings.EXPATSI_BILLING_BATCH = 1
    job = BillingJob.objects.create(
        key=uuid.uuid4().hex, kind="run", region_code="110000", month=MONTH, started_by="test"
    )

    def kill(done: int, total: int) -> None:
        raise Killed

    with pytest.raises(Killed):
        billing_run(
            actor=SYSTEM, region_code="110000", month=Month.parse(MONTH), job=job, progress=kill
        )
    run = BillingRun.objects.get(job=job)
    assert (run.status, run.employers_done, run.employers_total) == ("running", 1, 2)
    return job


def _expire_lease(job: BillingJob) -> None:
    """Time passes: the dead worker's last heartbeat is now older than the lease."""
    BillingRun.objects.filter(job=job).update(heartbeat_at=timezone.now() - timedelta(hours=2))


def test_a_killed_job_is_running_within_its_lease_then_interrupted(bworld, killed_job) -> None:
    agency = bworld.client("agency")
    key = killed_job.key
    assert agency.get(f"{API}/jobs/{key}").json()["status"] == "running"
    _expire_lease(killed_job)
    job = agency.get(f"{API}/jobs/{key}").json()
    assert (job["status"], job["resumable"], job["percent"]) == ("interrupted", True, 50)
    assert job["resume_url"] == f"{API}/jobs/{key}/resume"
    [run] = job["runs"]
    assert (run["status"], run["resumable"], run["job"]) == ("interrupted", True, key)
    assert agency.get(f"{API}/runs/{run['id']}").json()["status"] == "interrupted"
    status = agency.get(reverse("billing:job_status", args=[key])).json()
    assert (status["status"], status["resumable"]) == ("interrupted", True)
    assert status["label"] == "Interrupted — can be resumed"
    page = agency.get(reverse("billing:job", args=[key]))
    assert "Interrupted — can be resumed" in page.text
    form = re.search(r'<form id="job-resume"[^>]*>', page.text)
    assert form is not None and "hidden" not in form[0]
    collection = agency.get(reverse("billing:collection"))
    assert "Interrupted — can be resumed" in collection.text
    assert reverse("billing:job", args=[key]) in collection.text
    zh = agency.get("/zh-hans" + reverse("billing:job", args=[key]))
    assert "已中断，可恢复运行" in zh.text and "继续运行" in zh.text
    assert "Interrupted" not in zh.text
    # The record itself still says running until someone resumes: nothing wrote to it.
    assert BillingRun.objects.get(job=killed_job).status == RunStatus.RUNNING


def test_resuming_finishes_the_month_once_and_only_an_interrupted_job_resumes(
    bworld, killed_job, immediate_tasks
) -> None:
    agency, key = bworld.client("agency"), killed_job.key
    early = post_json(agency, f"{API}/jobs/{key}/resume", {})
    assert early.status_code == 409 and early.json()["code"] == "not_interrupted"  # still alive
    _expire_lease(killed_job)
    assert post_json(bworld.client("agency_sh"), f"{API}/jobs/{key}/resume", {}).status_code == 404
    assert post_json(bworld.client("hr_a"), f"{API}/jobs/{key}/resume", {}).status_code == 404
    r = post_json(agency, f"{API}/jobs/{key}/resume", {})
    assert r.status_code == 202, r.content
    job = r.json()
    assert (job["status"], job["percent"], job["attempt"], job["resumable"]) == (
        "done",
        100,
        2,
        False,
    )
    assert [(x["status"], x["attempt"]) for x in job["runs"]] == [
        ("interrupted", 1),
        ("done", 2),
    ]
    assert job["employers_done"] == job["employers_total"] == 2
    bills = Bill.objects.filter(region_code="110000", month=MONTH)
    assert sorted(bills.values_list("kind", flat=True)) == ["regular", "regular"]
    assert BillLine.objects.filter(bill__in=bills).count() == 3 * 5  # Alpha, Bravo, Delta
    again = post_json(agency, f"{API}/jobs/{key}/resume", {})
    assert again.status_code == 409 and again.json()["code"] == "not_interrupted"


def test_resume_from_the_portal_page(bworld, killed_job, immediate_tasks) -> None:
    _expire_lease(killed_job)
    url = reverse("billing:job_resume", args=[killed_job.key])
    assert bworld.client("agency_sh").post(url).status_code == 404
    assert bworld.client("agency").get(url).status_code == 405
    r = bworld.client("agency").post(url)
    assert r.status_code == 302 and r["Location"] == reverse("billing:job", args=[killed_job.key])
    assert job_progress(BillingJob.objects.get(pk=killed_job.pk)).status == "done"
    page = bworld.client("agency").post(url, follow=True)  # once more: refused, said so
    assert page.status_code == 200
    assert "Only an interrupted billing run can be resumed." in page.text
    form = re.search(r'<form id="job-resume"[^>]*>', page.text)
    assert form is not None and "hidden" in form[0]


def test_a_recalculation_that_died_between_two_months_is_interrupted(bworld) -> None:
    job = BillingJob.objects.create(
        key=uuid.uuid4().hex,
        kind="recalculate",
        region_code="110000",
        month="2025-07",
        expected_runs=2,
    )
    run = billing_run(actor=SYSTEM, region_code="110000", month=Month(2025, 8), job=job).run
    assert job_progress(job).status == "running"  # the next month is about to start
    BillingRun.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(hours=2))
    assert job_progress(job).status == "interrupted"


def test_the_resumed_attempt_acts_for_whoever_resumed_it(bworld, killed_job, immediate_tasks):
    _expire_lease(killed_job)
    agency = bworld.users["agency"]
    r = post_json(bworld.client("agency"), f"{API}/jobs/{killed_job.key}/resume", {})
    assert r.status_code == 202 and r.json()["status"] == "done"
    assert BillingJob.objects.get(pk=killed_job.pk).queued_by == agency
    first, second = BillingRun.objects.filter(job=killed_job).order_by("attempt")
    by_run = {
        e.object_id: e.actor_user_id
        for e in AuditEvent.objects.filter(
            action="billing.run", object_id__in=[first.pk, second.pk]
        )
    }
    assert by_run == {
        str(first.pk): None,
        str(second.pk): agency.pk,
    }  # the system, then the officer
