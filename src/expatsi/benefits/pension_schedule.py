"""The monthly pension run without a person: every region with a pension being paid, from the
shell (``expatsi benefits pension-run``) or the daily job on ``EXPATSI_PENSION_RUN_DAY``.

Each region's run is ``pensions.pension_month_run``: idempotent (a month is paid once), so the
daily job may run again the same day, and an operator may run a month the job already ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings

from expatsi.access.actors import Actor
from expatsi.benefits.models import Pension, PensionStatus
from expatsi.benefits.pensions import PensionRun, pension_month_run
from expatsi.rules.dates import Month
from expatsi.rules.regions import region as region_policy


@dataclass(frozen=True)
class ScheduledRuns:
    month: Month
    runs: tuple[tuple[str, PensionRun], ...]

    @property
    def created(self) -> int:
        return sum(r.created for _code, r in self.runs)

    @property
    def amount(self) -> int:
        return sum(r.amount for _code, r in self.runs)


def regions_paying() -> list[str]:
    """The regions with an awarded pension (the ones a run has anything to pay in)."""
    return sorted(
        set(
            Pension.objects.filter(status=PensionStatus.AWARDED).values_list(
                "region_code", flat=True
            )
        )
    )


def pension_runs(*, actor: Actor, month: Month, region_code: str = "") -> ScheduledRuns:
    """Run ``month`` in ``region_code`` (checked against the regions on file), or in every region
    with a pension being paid."""
    codes = [region_policy(region_code).code] if region_code else regions_paying()
    runs = tuple(
        (code, pension_month_run(actor=actor, region_code=code, month=month)) for code in codes
    )
    return ScheduledRuns(month=month, runs=runs)


def run_day() -> int:
    return int(getattr(settings, "EXPATSI_PENSION_RUN_DAY", 5))


def pensions_due(*, actor: Actor, today: date) -> ScheduledRuns | None:
    """On the configured day: the previous month's runs; None on other days (or when off)."""
    day = run_day()
    if day == 0 or today.day != day:
        return None
    return pension_runs(actor=actor, month=Month.of(today).plus(-1))
