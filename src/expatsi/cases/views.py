"""Compliance pages. Agency staff: findings with filters and paging, running the checks for a
region or an employer, a finding with its evidence (confirm, dismiss, open a case), enforcement
cases (order to rectify, fine proposals within the legal range, decision, closing). Employer HR:
the orders to rectify addressed to their employer, with the order as a PDF.

Views are thin: build the actor, call one selector or service, show a RuleError on its field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor
from expatsi.billing.workers import WORKER_COMMAND, no_live_worker
from expatsi.cases import notice, permissions, scan_pool, selectors, services, tasks
from expatsi.cases.complaints import REPORTED_RULE
from expatsi.cases.forms import (
    CasesForm,
    CloseForm,
    DecisionForm,
    FineForm,
    OpenCaseForm,
    OrderForm,
    ReviewForm,
    ScanForm,
)
from expatsi.cases.models import Case, CaseStatus, Finding, FindingStatus, ProposalStatus
from expatsi.cases.registry import registry
from expatsi.cases.templatetags.compliance import fine_label, rule_label
from expatsi.employers.selectors import employers_visible
from expatsi.rules.errors import Forbidden, NotFound, RuleError
from expatsi.rules.penalties import penalty_rules
from expatsi.rules.regions import regions
from expatsi.web.actors import request_actor
from expatsi.web.errors import rule_message
from expatsi.web.formatting import yuan

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.is_staff(actor):
        raise PermissionDenied
    return actor


def _region_choices(actor: Actor) -> list[tuple[str, str]]:
    zh = (get_language() or "").startswith("zh")
    return [
        (code, r.name_zh if zh else r.name)
        for code, r in sorted(regions().items())
        if permissions.may_scan_region(actor, code)
    ]


def _finding(actor: Actor, finding_id: int, *, audit: bool = True) -> Finding:
    try:
        return selectors.finding_get(actor=actor, finding_id=finding_id, audit=audit)
    except NotFound:
        raise Http404 from None


def _case(actor: Actor, case_id: int, *, audit: bool = True) -> Case:
    try:
        return selectors.case_get(actor=actor, case_id=case_id, audit=audit)
    except NotFound:
        raise Http404 from None


# --- findings -------------------------------------------------------------------------------------


SCAN_PICKABLE = 200  # employers the scan form lists; past that, the credit code is typed


def _scan_form(actor: Actor, data: Any = None) -> ScanForm:
    visible = employers_visible(actor)
    listed = list(visible.order_by("name", "pk")[: SCAN_PICKABLE + 1])

    def lookup(raw: str) -> int | None:
        by = Q(pk=int(raw)) if raw.isdigit() and len(raw) < 18 else Q(uscc=raw.upper())
        return visible.filter(by).values_list("pk", flat=True).first()

    return ScanForm(
        data,
        regions=_region_choices(actor),
        employers=listed[:SCAN_PICKABLE],
        more=len(listed) > SCAN_PICKABLE,
        lookup=lookup,
    )


@login_required
def findings(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    return _findings_page(request, actor, _scan_form(actor))


def _findings_page(
    request: HttpRequest, actor: Actor, form: ScanForm, status_code: int = 200
) -> HttpResponse:
    region_codes = dict(_region_choices(actor))
    # The compliance checks' rules, then the findings made from a complaint or report.
    rules = {**{k: r.display() for k, r in registry().rules.items()}, REPORTED_RULE: ""}
    region = request.GET.get("region", "")
    rule = request.GET.get("rule", "")
    status = request.GET.get("status", "")
    shown = request.GET.get("shown", "")
    filters = {
        "region": region if region in region_codes else "",
        "rule": rule if rule in rules else "",
        "status": status if status in FindingStatus.values else "",
        "shown": shown if shown in ("all", "") else "",
    }
    qs = selectors.finding_list(
        actor=actor,
        region_code=filters["region"],
        rule=filters["rule"],
        status=filters["status"],
        unresolved=filters["shown"] != "all",
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(
        request,
        "cases/findings.html",
        {
            "page": page,
            "filters": filters,
            "query": query,
            "regions": sorted(region_codes.items()),
            "rules": [(k, label or rule_label(k)) for k, label in rules.items()],
            "statuses": FindingStatus.choices,
            "form": form,
            "last_scan": selectors.scans_visible(actor).first(),
        },
        status=status_code,
    )


@login_required
@require_POST
def scan(request: HttpRequest) -> HttpResponse:
    actor = _staff(request)
    form = _scan_form(actor, request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            record = tasks.compliance_scan_auto(
                actor=actor,
                as_of=d.get("as_of") or None,
                region_code=d.get("region") or "",
                employer_id=d.get("employer"),
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            if record.partitions_total:
                # A scan of a region or more is worked by the pool: its page shows the progress.
                return redirect("cases:scan_detail", scan_id=record.pk)
            found = sum(c["found"] for c in record.counts.values())
            new = sum(c["new"] for c in record.counts.values())
            messages.success(
                request,
                _("Checks run as of %(day)s: %(found)s findings, %(new)s of them new.")
                % {"day": record.as_of.isoformat(), "found": found, "new": new},
            )
            return redirect("cases:findings")
    return _findings_page(request, actor, form, status_code=400)


@login_required
def scan_detail(request: HttpRequest, scan_id: int) -> HttpResponse:
    """A scan's progress (partitions done, counts so far); refreshes itself until it is done."""
    actor = _staff(request)
    try:
        record = selectors.scan_get(actor=actor, scan_id=scan_id)
    except NotFound as exc:
        raise Http404 from exc
    progress = scan_pool.scan_progress(record, len(registry().rules))
    labels = {
        "queued": _("Queued: waiting for a worker"),
        "running": _("Running"),
        "interrupted": _("Interrupted: a worker stopped; the next worker goes on with it"),
        "done": _("Done"),
    }
    counts = [
        (rule_label(key), figures)
        for key, figures in sorted(progress.counts.items(), key=lambda kv: kv[0])
    ]
    return render(
        request,
        "cases/scan.html",
        {
            "scan": record,
            "progress": progress,
            "label": labels[progress.status],
            "counts": counts,
            "no_worker": progress.status == "queued" and no_live_worker(),
            "worker_command": WORKER_COMMAND,
        },
    )


@login_required
@require_POST
def scan_resume(request: HttpRequest, scan_id: int) -> HttpResponse:
    """Queue again the partitions of an interrupted scan; they go on where they stopped."""
    actor = _staff(request)
    try:
        tasks.compliance_scan_resume(actor=actor, scan_id=scan_id)
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        raise PermissionDenied from exc
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
    return redirect("cases:scan_detail", scan_id=scan_id)


def _case_choices(actor: Actor, finding: Finding) -> list[tuple[int, str]]:
    """The employer's findings that can go into a new case with this one."""
    others = selectors.findings_for_new_case(actor, finding)[:200]
    rules = registry().rules
    out = []
    for f in others:
        rule = rules.get(f.rule)
        who = f.person.full_name if f.person is not None else f.period
        out.append((f.pk, f"{rule.display() if rule else f.rule} · {who} · {yuan(f.amount_fen)}"))
    return out


@login_required
def finding_detail(request: HttpRequest, finding_id: int) -> HttpResponse:
    actor = _staff(request)
    finding = _finding(actor, finding_id, audit=request.method == "GET")
    review = ReviewForm(request.POST or None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if review.is_valid() and action in ("confirm", "dismiss"):
            try:
                if action == "confirm":
                    services.finding_confirm(
                        actor=actor, finding_id=finding.pk, reason=review.cleaned_data["reason"]
                    )
                    messages.success(request, _("Finding confirmed."))
                else:
                    services.finding_dismiss(
                        actor=actor, finding_id=finding.pk, reason=review.cleaned_data["reason"]
                    )
                    messages.success(request, _("Finding dismissed."))
            except RuleError as exc:
                review.add_rule_error(exc)
            else:
                return redirect("cases:finding", finding_id=finding.pk)
        elif review.is_valid():
            review.add_error(None, _("Choose confirm or dismiss."))
        status = 400
    return _finding_page(request, actor, finding, review, None, status)


def _finding_page(
    request: HttpRequest,
    actor: Actor,
    finding: Finding,
    review: ReviewForm,
    open_form: OpenCaseForm | None,
    status: int,
) -> HttpResponse:
    choices = _case_choices(actor, finding) if finding.case_id is None else []
    if open_form is None and choices:
        open_form = OpenCaseForm(initial={"findings": [finding.pk]}, choices=choices)
    return render(
        request,
        "cases/finding.html",
        {
            "finding": finding,
            "rule": registry().rules.get(finding.rule),
            "review": review,
            "open_form": open_form,
            "history": selectors.finding_history(finding),
            "people": selectors.finding_people(actor, finding)[:200],
        },
        status=status,
    )


@login_required
@require_POST
def open_case(request: HttpRequest, finding_id: int) -> HttpResponse:
    actor = _staff(request)
    finding = _finding(actor, finding_id, audit=False)
    form = OpenCaseForm(request.POST, choices=_case_choices(actor, finding))
    if form.is_valid():
        try:
            case = services.case_open(actor=actor, finding_ids=form.cleaned_data["findings"])
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request, _("Enforcement case %(number)s opened.") % {"number": case.number}
            )
            return redirect("cases:detail", case_id=case.pk)
    return _finding_page(request, actor, finding, ReviewForm(), form, 400)


# --- cases ----------------------------------------------------------------------------------------


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_see_orders(actor):
        raise PermissionDenied
    status = request.GET.get("status", "")
    if status not in CaseStatus.values:
        status = ""
    page = Paginator(selectors.case_list(actor=actor, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "cases/cases.html",
        {
            "page": page,
            "status": status,
            "statuses": CaseStatus.choices,
            "staff": permissions.is_staff(actor),
        },
    )


def _ranges(case: Case) -> list[dict[str, Any]]:
    """The statutory range of each fine that can apply, measured on the case as it stands today."""
    basis = services.fine_basis(case)
    rules = penalty_rules().fines
    out = []
    for kind in basis.fine_kinds:
        fine = rules.get(kind)
        try:
            bracket, base, persons = services.fine_bracket(
                basis, kind, 1 if fine and fine.type == "range" else None
            )
        except RuleError:
            continue
        out.append(
            {
                "kind": kind,
                "label": fine_label(kind),
                "article": bracket.article,
                "min": bracket.min_fen,
                "max": bracket.max_fen,
                "base": base,
                "persons": persons,
                "per_person": fine is not None and fine.type == "range",
            }
        )
    return out


def _case_page(
    request: HttpRequest,
    actor: Actor,
    case: Case,
    forms: dict[str, CasesForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    staff = permissions.allowed(actor, permissions.Act.MANAGE_CASE, region_code=case.region_code)
    forms = forms or {}
    today = timezone.localdate()
    deadline_passed = case.order_deadline is not None and case.order_deadline < today
    context: dict[str, Any] = {
        "case": case,
        "staff": staff,
        "findings": selectors.case_findings(case),
        "deadline_passed": deadline_passed,
        "history": selectors.case_history(case) if staff else [],
    }
    if staff:
        ranges = _ranges(case)
        basis = services.fine_basis(case)
        context |= {
            "ranges": ranges,
            "basis": basis,
            "proposals": case.proposals.all(),
            "order_form": forms.get("order") or OrderForm(),
            "fine_form": forms.get("fine")
            or FineForm(kinds=[(r["kind"], r["label"]) for r in ranges]),
            "decision_form": forms.get("decision") or DecisionForm(),
            "close_form": forms.get("close") or CloseForm(),
            "can_order": case.status == CaseStatus.OPEN,
            "can_propose": case.status in (CaseStatus.ORDERED, CaseStatus.FINE_PROPOSED)
            and deadline_passed
            and bool(ranges),
            "can_decide": case.status in (CaseStatus.ORDERED, CaseStatus.FINE_PROPOSED)
            and deadline_passed,
            "can_close": case.status in (CaseStatus.OPEN, CaseStatus.ORDERED, CaseStatus.DECIDED),
        }
    else:
        context["proposals"] = (
            case.proposals.filter(status=ProposalStatus.ADOPTED) if case.decision else []
        )
    return render(request, "cases/case.html", context, status=status)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request_actor(request)
    case = _case(actor, case_id)
    return _case_page(request, actor, case)


def _case_action(
    request: HttpRequest, case_id: int, name: str, form: CasesForm, run: Any
) -> HttpResponse:
    actor = _staff(request)
    case = _case(actor, case_id, audit=False)
    if form.is_valid():
        try:
            run(actor, case, form.cleaned_data)
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            return redirect("cases:detail", case_id=case.pk)
    case.refresh_from_db()
    return _case_page(request, actor, case, {name: form}, status=400)


@login_required
@require_POST
def order(request: HttpRequest, case_id: int) -> HttpResponse:
    def run(actor: Actor, case: Case, d: dict[str, Any]) -> None:
        services.order_issue(
            actor=actor, case_id=case.pk, deadline=d["deadline"], requirements=d["requirements"]
        )
        messages.success(
            request, _("Order to rectify issued: the employer's HR have it in their inbox.")
        )

    return _case_action(request, case_id, "order", OrderForm(request.POST), run)


@login_required
@require_POST
def propose_fine(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _staff(request)
    case = _case(actor, case_id, audit=False)
    kinds = [(r["kind"], r["label"]) for r in _ranges(case)]

    def run(actor: Actor, case: Case, d: dict[str, Any]) -> None:
        proposal = services.fine_propose(
            actor=actor,
            case_id=case.pk,
            kind=d["kind"],
            amount_fen=d["amount"],
            persons=d.get("persons"),
            reason=d["reason"],
        )
        messages.success(
            request, _("Fine of %(amount)s proposed.") % {"amount": yuan(proposal.amount_fen)}
        )

    return _case_action(request, case_id, "fine", FineForm(request.POST, kinds=kinds), run)


@login_required
@require_POST
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    def run(actor: Actor, case: Case, d: dict[str, Any]) -> None:
        services.case_decide(actor=actor, case_id=case.pk, outcome=d["outcome"], reason=d["reason"])
        messages.success(request, _("Decision recorded: the employer's HR have it in their inbox."))

    return _case_action(request, case_id, "decision", DecisionForm(request.POST), run)


@login_required
@require_POST
def close(request: HttpRequest, case_id: int) -> HttpResponse:
    def run(actor: Actor, case: Case, d: dict[str, Any]) -> None:
        services.case_close(actor=actor, case_id=case.pk, reason=d["reason"])
        messages.success(request, _("Case closed."))

    return _case_action(request, case_id, "close", CloseForm(request.POST), run)


@login_required
def order_pdf(request: HttpRequest, case_id: int) -> HttpResponse:
    """The order to rectify in English and Chinese, once issued (HR of the employer, staff)."""
    actor = request_actor(request)
    case = _case(actor, case_id)
    if case.order_issued_on is None:
        raise Http404
    response = HttpResponse(notice.order_pdf(case), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="order-{case.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
