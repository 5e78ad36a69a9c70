"""The monthly pension run as tasks of the worker pool, one per region: queued by the daily job,
a region's task run twice (a retried task, a killed worker's task worked again) pays nothing
twice, and ``EXPATSI_PENSION_RUNS_QUEUED=0`` pays inline as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from expatsi.audit.models import AuditEvent
from expatsi.benefits.models import PaymentRun, Payout
from expatsi.benefits.tasks import pension_region_run
from expatsi.cli import main
from tests.benefits.pension_world import pensioner

pytestmark = pytest.mark.django_db


def daily(capsys: Any, today: str) -> dict[str, Any]:
    assert main(["jobs", "run-daily", "--today", today, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_daily_job_queues_one_task_per_region_and_a_retry_pays_nothing_twice(
    beijing: Any, capsys: Any, settings: Any
) -> None:
    settings.EXPATSI_PENSION_RUN_DAY = 5
    _person, _user, pension = pensioner(beijing)
    out = daily(capsys, "2026-04-05")
    assert out["pension_run"]["queued"] == ["110000"] and out["pension_run"]["payouts"] is None
    assert not Payout.objects.exists()  # waiting for a worker
    [queued] = DBTaskResult.objects.filter(task_path=pension_region_run.module_path)
    kwargs = queued.args_kwargs["kwargs"]
    assert kwargs == {"region_code": "110000", "month": "2026-03", "user_id": None}
    first = pension_region_run.call(**kwargs)
    assert (first["payouts"], first["amount_fen"]) == (3, 3 * pension.total)
    again = pension_region_run.call(**kwargs)  # the same task delivered twice
    assert again["payouts"] == 0 and again["payment_run"] is None
    assert Payout.objects.filter(pension=pension).count() == 3
    assert AuditEvent.objects.filter(action="pension.payout").count() == 3
    assert PaymentRun.objects.count() == 1
    # The daily job queued again the same day: a new task, which pays nothing either.
    daily(capsys, "2026-04-05")
    latest = DBTaskResult.objects.filter(task_path=pension_region_run.module_path).latest(
        "enqueued_at"
    )
    assert pension_region_run.call(**latest.args_kwargs["kwargs"])["payouts"] == 0
    assert Payout.objects.filter(pension=pension).count() == 3


def test_daily_job_pays_inline_when_runs_are_not_queued(
    beijing: Any, capsys: Any, settings: Any
) -> None:
    settings.EXPATSI_PENSION_RUN_DAY = 5
    settings.EXPATSI_PENSION_RUNS_QUEUED = False
    pensioner(beijing)
    out = daily(capsys, "2026-04-05")
    assert out["pension_run"]["payouts"] == 3 and "queued" not in out["pension_run"]
    assert not DBTaskResult.objects.filter(task_path=pension_region_run.module_path).exists()
