"""Reads of bills and of a person's account are audited as card reads are (API, pages, downloads);
lists of bills are not. A background job acts for the staff member who queued it, and its task's
own result id tells a job that failed before writing anything from one still queued."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from expatsi.access.models import AgencyStaff
from expatsi.audit.models import AuditEvent
from expatsi.billing.models import BillingJob, BillingRun
from tests.billing.web.conftest import API, post_json

pytestmark = pytest.mark.django_db


def reads(action: str) -> list[tuple[int | None, str, int | None]]:
    return list(
        AuditEvent.objects.filter(action=action)
        .order_by("id")
        .values_list("actor_user_id", "object_id", "person_id")
    )


def test_a_bill_read_is_audited_in_the_api_the_page_and_the_download(bworld):
    hr, agency = bworld.client("hr_a"), bworld.client("agency")
    hr_id, agency_id = bworld.users["hr_a"].pk, bworld.users["agency"].pk
    bill = str(bworld.bill_a.pk)
    assert hr.get(f"{API}/bills").status_code == 200
    assert agency.get(reverse("billing:bills")).status_code == 200
    assert reads("bill.read") == []  # lists show employers' totals, no person

    assert hr.get(f"{API}/bills/{bworld.bill_a.pk}").status_code == 200
    assert agency.get(reverse("billing:bill", args=[bworld.bill_a.pk])).status_code == 200
    download = reverse("billing:bill_download", args=[bworld.bill_a.pk, "csv"])
    assert hr.get(download).status_code == 200
    api, page, csv = (hr_id, bill, None), (agency_id, bill, None), (hr_id, bill, None)
    assert reads("bill.read") == [api, page, csv]
    event = AuditEvent.objects.filter(action="bill.read").last()
    assert event is not None
    assert event.detail == {"number": bworld.bill_a.number, "employer": bworld.a.pk}

    # Another tenant's bill: not found, and nothing was read.
    assert bworld.client("hr_b").get(f"{API}/bills/{bworld.bill_a.pk}").status_code == 404
    assert len(reads("bill.read")) == 3


def test_the_account_and_contributions_reads_are_audited_with_the_person(bworld):
    bravo, me = bworld.client("bravo"), bworld.users["bravo"].pk
    pid = bworld.bravo.pk
    assert bravo.get(f"{API}/me/account?on=2025-12-31").status_code == 200
    assert reads("account.read") == [(me, str(pid), pid)]
    assert bravo.get(f"{API}/me/contributions").status_code == 200
    assert reads("contributions.read") == [(me, str(pid), pid)]
    assert bravo.get(reverse("billing:me")).status_code == 200
    assert len(reads("account.read")) == len(reads("contributions.read")) == 2
    event = AuditEvent.objects.filter(action="account.read").first()
    assert event is not None and event.detail == {"on": "2025-12-31"}


def test_the_job_acts_for_whoever_queued_it(bworld, immediate_tasks):
    agency = bworld.users["agency"]
    r = post_json(
        bworld.client("agency"), f"{API}/runs", {"region_code": "110000", "month": "2025-09"}
    )
    assert r.status_code == 202 and r.json()["status"] == "done"
    job = BillingJob.objects.get(key=r.json()["job"])
    assert job.queued_by == agency and job.task_id
    [started] = AuditEvent.objects.filter(action="billing.job_start")
    assert (started.actor_user_id, started.object_id) == (agency.pk, str(job.pk))
    assert started.detail["key"] == job.key and started.detail["task"] == job.task_id
    [run] = BillingRun.objects.filter(job=job)
    [billed] = AuditEvent.objects.filter(action="billing.run", object_id=str(run.pk))
    assert (billed.actor_user_id, billed.actor_label, billed.object_id) == (
        agency.pk,
        agency.get_username(),
        str(run.pk),
    )
    assert billed.detail["job"] == job.key
    assert run.started_by == agency.get_username()


def test_a_job_whose_task_failed_before_any_run_is_failed_not_queued(bworld):
    """The starter loses the region between queueing and the worker: the run refuses them, and the
    job's task result (read by its id) says so."""
    if connection.vendor != "sqlite":
        pytest.skip("the worker runs in-process on SQLite only (see test_api)")
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    officer = bworld.client("agency_sh")
    r = post_json(officer, f"{API}/runs", {"region_code": "310000", "month": "2025-09"})
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job = BillingJob.objects.get(key=r.json()["job"])
    assert job.task_id == str(DBTaskResult.objects.get().id)

    AgencyStaff.objects.filter(user=bworld.users["agency_sh"]).update(regions="110000")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert not BillingRun.objects.filter(job=job).exists()
    progress = bworld.client("agency").get(r.json()["progress_url"]).json()
    assert progress["status"] == "failed", progress
    assert "Forbidden" in progress["error"] and "agency of the region" in progress["error"]
