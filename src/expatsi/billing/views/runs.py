"""Agency staff: collection per region and month, billing runs and recalculations started as
background jobs, and each job's live progress (page, JSON poll, resume)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor
from expatsi.billing import permissions, selectors, tasks
from expatsi.billing.forms import RunForm
from expatsi.billing.views.common import day_asked, page_actor, require
from expatsi.billing.workers import WORKER_COMMAND, no_live_worker
from expatsi.rules.dates import Month
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web.errors import rule_message


@login_required
def collection(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.may_see_collection(actor))
    on = day_asked(request)
    rows = selectors.collection(actor, region_code=request.GET.get("region", ""), on=on)
    runs = list(selectors.runs_visible(actor)[:10])
    return render(
        request,
        "billing/collection.html",
        {"rows": rows, "runs": runs, "on": on, "form": RunForm()},
    )


@login_required
def run_start(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.may_run_billing(actor))
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            key = tasks.billing_job_start(
                actor=actor,
                kind=d["kind"],
                region_code=d["region_code"],
                month=Month.parse(d["month"].strip(), field="month"),
                to_month=Month.parse(d["to_month"].strip(), field="to_month")
                if d["kind"] == "recalculate" and d.get("to_month")
                else None,
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            return redirect("billing:job", key=key)
    status = 400 if form.errors else 200
    return render(request, "billing/run_start.html", {"form": form}, status=status)


def _progress(actor: Actor, key: str) -> tasks.JobProgress:
    """The job's progress; a key that names no job the actor may see is a 404, never "queued"."""
    try:
        job = selectors.job_get(actor=actor, key=key)
    except NotFound:
        raise Http404 from None
    return tasks.job_progress(job)


def _job_labels() -> dict[str, str]:
    return {
        "queued": _("Waiting for a worker"),
        "running": _("Running"),
        "done": _("Done"),
        "failed": _("Failed"),
        "interrupted": _("Interrupted — can be resumed"),
    }


@login_required
def job(request: HttpRequest, key: str) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.may_run_billing(actor))
    progress = _progress(actor, key)
    return render(
        request,
        "billing/job.html",
        {
            "job": progress,
            "label": _job_labels()[progress.status],
            "no_worker": _no_worker(progress),
            "worker_command": WORKER_COMMAND,
        },
    )


def _no_worker(progress: tasks.JobProgress) -> bool:
    """A queued job with no live worker to take it waits for ever: the page says so."""
    return progress.status == "queued" and no_live_worker()


@login_required
@require_POST
def job_resume(request: HttpRequest, key: str) -> HttpResponse:
    """Start an interrupted job again; it finishes what the killed worker had not."""
    actor = page_actor(request)
    require(permissions.may_run_billing(actor))
    _progress(actor, key)  # 404 for a job the actor may not see
    try:
        tasks.billing_job_resume(actor=actor, key=key)
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
    else:
        messages.success(request, _("The billing run has been started again."))
    return redirect("billing:job", key=key)


@login_required
def job_status(request: HttpRequest, key: str) -> JsonResponse:
    """The job's progress for the page's poll (JSON)."""
    actor = page_actor(request)
    require(permissions.may_run_billing(actor))
    p = _progress(actor, key)
    return JsonResponse(
        {
            "status": p.status,
            "label": _job_labels()[p.status],
            "resumable": p.resumable,
            "no_worker": _no_worker(p),
            "percent": p.percent,
            "employers_done": p.employers_done,
            "employers_total": p.employers_total,
            "people": p.people,
            "lines_written": p.lines_written,
            "error": p.error,
            "summary": _(
                "%(done)d of %(total)d employers · %(people)d people · %(lines)d lines written"
            )
            % {
                "done": p.employers_done,
                "total": p.employers_total,
                "people": p.people,
                "lines": p.lines_written,
            },
        }
    )
