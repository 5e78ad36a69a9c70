"""The monthly pension run as background work: one task per region (a partition of the run;
pensions have no employer), claimed by any ``db_worker`` of the pool, as billing runs and
compliance scans are. A region's run is ``pensions.pension_month_run``, which pays a month once
(the months owed exclude those with a payout; the pensions are locked while it pays), so a task
run twice, or retried after its worker was killed, pays nothing twice."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.tasks import TaskResultStatus, task

from expatsi.access.actors import SYSTEM, Actor, actor_for_user
from expatsi.benefits.pension_schedule import regions_paying, run_day
from expatsi.benefits.pensions import pension_month_run
from expatsi.rules.dates import Month
from expatsi.rules.money import format_yuan
from expatsi.rules.regions import region as region_policy


def queued() -> bool:
    """``EXPATSI_PENSION_RUNS_QUEUED``: whether the daily job queues the regions' runs."""
    return bool(settings.EXPATSI_PENSION_RUNS_QUEUED)


@task()
def pension_region_run(
    *, region_code: str, month: str, user_id: int | None = None
) -> dict[str, Any]:
    """Pay ``month`` in one region, acting for the staff member who queued it (as they stand
    now: a member who has lost the region is refused) or the system."""
    actor = SYSTEM
    if user_id is not None:
        user = get_user_model().objects.filter(pk=user_id).first()
        actor = SYSTEM if user is None else actor_for_user(user, via="job")
    run = pension_month_run(actor=actor, region_code=region_code, month=Month.parse(month))
    return {
        "region": region_code,
        "payouts": run.created,
        "amount_fen": run.amount,
        "payment_run": run.run.pk if run.run is not None else None,
    }


def pension_runs_enqueue(*, actor: Actor, month: Month, region_code: str = "") -> dict[str, Any]:
    """Queue ``month``'s run of one region (checked against the regions on file) or of every
    region paying a pension, one task each. With an in-process backend the runs are done here
    and their figures given; otherwise ``queued`` names the regions waiting for a worker."""
    codes = [region_policy(region_code).code] if region_code else regions_paying()
    done: list[dict[str, Any]] = []
    waiting: list[str] = []
    for code in codes:
        result = pension_region_run.enqueue(
            region_code=code, month=str(month), user_id=actor.user_id
        )
        if result.status == TaskResultStatus.SUCCESSFUL:
            done.append(result.return_value)
        else:
            waiting.append(code)
    total = sum(r["amount_fen"] for r in done)
    return {
        "month": str(month),
        "payouts": None if waiting else sum(r["payouts"] for r in done),
        "amount": None if waiting else format_yuan(total),
        "regions": [
            {
                "region": r["region"],
                "payouts": r["payouts"],
                "amount": format_yuan(r["amount_fen"]),
                "payment_run": r["payment_run"],
            }
            for r in done
        ],
        "queued": waiting,
    }


def pensions_due_enqueue(*, actor: Actor, today: date) -> dict[str, Any] | None:
    """On ``EXPATSI_PENSION_RUN_DAY``: the previous month's runs, queued; None on other days."""
    day = run_day()
    if day == 0 or today.day != day:
        return None
    return pension_runs_enqueue(actor=actor, month=Month.of(today).plus(-1))
