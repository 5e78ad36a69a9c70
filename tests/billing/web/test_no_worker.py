"""A queued billing job with no live db_worker says so, and how to start one (issue #13): the
database task backend keeps no heartbeat, so a ready task nobody claimed within the grace period,
with no worker's sign of life meanwhile, means no worker is running."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from expatsi.billing.workers import GRACE, WORKER_COMMAND, no_live_worker
from tests.billing.web.conftest import API, post_json


def _queue(bworld) -> str:
    r = post_json(
        bworld.client("agency"), f"{API}/runs", {"region_code": "110000", "month": "2025-09"}
    )
    assert r.status_code == 202, r.content
    return r.json()["job"]


def _age_tasks(seconds: float) -> None:
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(seconds=seconds))


def test_a_job_queued_just_now_does_not_claim_that_no_worker_runs(bworld) -> None:
    key = _queue(bworld)
    assert not no_live_worker()
    page = bworld.client("agency").get(reverse("billing:job", args=[key])).content.decode()
    assert 'id="job-no-worker" class="notice notice-warning" hidden' in page
    poll = bworld.client("agency").get(reverse("billing:job_status", args=[key])).json()
    assert poll["status"] == "queued" and poll["no_worker"] is False


def test_a_job_waiting_past_the_grace_period_with_no_worker_says_how_to_start_one(bworld) -> None:
    key = _queue(bworld)
    _age_tasks(GRACE.total_seconds() + 5)
    assert no_live_worker()
    agency = bworld.client("agency")
    page = agency.get(reverse("billing:job", args=[key])).content.decode()
    assert 'id="job-no-worker" class="notice notice-warning">' in page
    assert "No worker is running" in page and f"<code>{WORKER_COMMAND}</code>" in page
    assert agency.get(reverse("billing:job_status", args=[key])).json()["no_worker"] is True
    chinese = agency.get("/zh-hans" + reverse("billing:job", args=[key])).content.decode()
    assert "没有正在运行的后台工作进程" in chinese and f"<code>{WORKER_COMMAND}</code>" in chinese


def test_a_worker_that_claimed_a_task_lately_counts_as_running(bworld) -> None:
    _queue(bworld)
    _queue(bworld)
    _age_tasks(GRACE.total_seconds() + 5)
    first = DBTaskResult.objects.order_by("enqueued_at", "id").first()
    assert first is not None
    first.claim("worker-1")  # busy with the first job: the second waits for it, not for ever
    assert not no_live_worker()


@pytest.mark.parametrize("backend", ["nonexistent"])
def test_another_task_backend_gives_no_signal(bworld, backend) -> None:
    _queue(bworld)
    _age_tasks(GRACE.total_seconds() + 5)
    assert not no_live_worker(backend=backend)


def test_a_billing_run_beating_its_heartbeat_counts_as_a_running_worker(bworld) -> None:
    from expatsi.billing.models import BillingRun, RunStatus

    _queue(bworld)
    _age_tasks(GRACE.total_seconds() + 5)
    assert no_live_worker()
    run = BillingRun.objects.order_by("-pk").first()  # the world billed a month already
    assert run is not None
    BillingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=timezone.now()
    )
    assert not no_live_worker()
