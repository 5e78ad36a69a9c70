"""Billing runs and recalculations started as background jobs, their progress, and the runs."""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# through a wrapper living in another module, where string annotations would not resolve.
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from expatsi.access.auth import Pagination, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.billing import selectors, tasks
from expatsi.billing.models import BillingJob, BillingRun
from expatsi.rules.dates import Month

router = Router()


class RunIn(Schema):
    region_code: str
    month: str  # the month to bill, or the first month to recalculate
    kind: Literal["run", "recalculate"] = "run"
    to_month: str = ""


class RunOut(Schema):
    # from expatsi.billing.models.BillingRun.
    id: int
    region_code: str
    month: str
    kind: str
    status: str
    employers_total: int
    employers_done: int
    people: int
    lines_written: int
    started_at: datetime
    heartbeat_at: datetime | None
    finished_at: datetime | None
    started_by: str
    error: str
    resumable: bool
    job: str | None
    attempt: int

    @staticmethod
    def resolve_status(obj: BillingRun) -> str:
        """``interrupted`` also for a run still marked running whose worker's lease expired."""
        return obj.shown_status

    @staticmethod
    def resolve_job(obj: BillingRun) -> str | None:
        return obj.job.key if obj.job is not None else None


@dataclass(frozen=True)
class JobAnswer:
    job: BillingJob
    progress: tasks.JobProgress


class JobOut(Schema):
    # from JobAnswer.
    job: str = Field(alias="job.key")
    # queued, running, done, failed or interrupted (resume it at resume_url)
    status: str = Field(alias="progress.status")
    resumable: bool = Field(alias="progress.resumable")
    attempt: int = Field(alias="job.attempt")
    percent: int = Field(alias="progress.percent")
    employers_total: int = Field(alias="progress.employers_total")
    employers_done: int = Field(alias="progress.employers_done")
    people: int = Field(alias="progress.people")
    lines_written: int = Field(alias="progress.lines_written")
    error: str = Field(alias="progress.error")
    runs: list[RunOut] = Field(alias="progress.runs")
    progress_url: str
    resume_url: str

    @staticmethod
    def resolve_progress_url(answer: JobAnswer) -> str:
        return reverse("api-v1:billing_job", kwargs={"key": answer.job.key})

    @staticmethod
    def resolve_resume_url(answer: JobAnswer) -> str:
        return reverse("api-v1:billing_job_resume", kwargs={"key": answer.job.key})


def _job(request: HttpRequest, key: str) -> JobAnswer:
    job = selectors.job_get(actor=request_actor(request), key=key)
    return JobAnswer(job, tasks.job_progress(job))


@router.post("/runs", response={202: JobOut})
@idempotent()
def run_start(request: HttpRequest, payload: RunIn) -> Status[JobAnswer]:
    """Agency staff: start a billing run for a region and month, or a recalculation from a month,
    as a background job. Follow it at ``progress_url``."""
    key = tasks.billing_job_start(
        actor=request_actor(request),
        kind=payload.kind,
        region_code=payload.region_code,
        month=Month.parse(payload.month),
        to_month=Month.parse(payload.to_month, field="to_month") if payload.to_month else None,
    )
    return Status(202, _job(request, key))


@router.get("/runs", response=list[RunOut])
@paginate(Pagination)
def run_list(request: HttpRequest) -> QuerySet[BillingRun]:
    return selectors.runs_visible(request_actor(request))


@router.get("/runs/{run_id}", response=RunOut)
def run_detail(request: HttpRequest, run_id: int) -> BillingRun:
    return selectors.run_get(actor=request_actor(request), run_id=run_id)


@router.get("/jobs/{key}", response=JobOut, url_name="billing_job")
def job_detail(request: HttpRequest, key: str) -> JobAnswer:
    """Progress of a started job: queued, running (employers done of total), done, failed, or
    interrupted (its worker stopped: resume it). A key that names no job of a region the caller
    covers is a 404."""
    return _job(request, key)


@router.post("/jobs/{key}/resume", response={202: JobOut}, url_name="billing_job_resume")
@idempotent()
def job_resume(request: HttpRequest, key: str) -> Status[JobAnswer]:
    """Start an interrupted job again (agency staff of its region); 409 unless it is interrupted.
    The new attempt writes only what the stopped one had not: the job ends as if never stopped."""
    tasks.billing_job_resume(actor=request_actor(request), key=key)
    return Status(202, _job(request, key))
