"""Dispute and complaint pages.

Disputes: the foreign employee, their employer's HR and agency staff of the employer's region see a
dispute, add documents and record the next stage; staff record the outcome, post the correction in
billing that follows it, and close it. Complaints and reports: anyone signed in files one and sees
their own with the agency's reply; agency staff see their regions' complaints, the overdue ones
marked, reply, close and turn one into a finding.

Views are thin: build the actor, call one selector or service, show a RuleError on its field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor
from expatsi.billing.corrections import LineCorrection
from expatsi.billing.exports import insurance_label
from expatsi.cases import complaints, disputes, permissions
from expatsi.cases.dispute_messages import event_label, message_for
from expatsi.cases.forms_disputes import (
    ClaimsForm,
    ComplaintForm,
    CorrectionForm,
    DisputeDecisionForm,
    DisputeOpenForm,
    DocumentForm,
    ReasonForm,
    ReplyForm,
    StageForm,
)
from expatsi.cases.models import (
    Complaint,
    ComplaintKind,
    ComplaintStatus,
    Dispute,
    DisputeStage,
    DisputeStatus,
)
from expatsi.employers.display import display_name
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employers_visible
from expatsi.insurance.models import Employment
from expatsi.insurance.selectors import persons_visible
from expatsi.people.models import Person
from expatsi.rules.deadlines import clock
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web.actors import request_actor
from expatsi.web.formatting import yuan

PAGE_SIZE = 50
CHOICES_MAX = 500


def _dispute(actor: Actor, dispute_id: int, *, audit: bool = True) -> Dispute:
    try:
        return disputes.dispute_get(actor=actor, dispute_id=dispute_id, audit=audit)
    except NotFound:
        raise Http404 from None


def _complaint(actor: Actor, complaint_id: int, *, audit: bool = True) -> Complaint:
    try:
        return complaints.complaint_get(actor=actor, complaint_id=complaint_id, audit=audit)
    except NotFound:
        raise Http404 from None


# --- disputes ----------------------------------------------------------------------------------------


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_see_disputes(actor):
        raise PermissionDenied
    status = request.GET.get("status", "")
    if status not in DisputeStatus.values:
        status = ""
    qs = disputes.dispute_list(actor=actor, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/disputes.html",
        {
            "page": page,
            "status": status,
            "statuses": DisputeStatus.choices,
            "staff": permissions.is_staff(actor),
        },
    )


def _parties(actor: Actor) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The employers and people the actor may open a dispute between."""
    employers: list[Employer]
    people: list[Person]
    if actor.kind == "employee":
        employers = list(complaints.own_employers(actor))
        people = list(Person.objects.filter(pk=actor.person_id or 0))
    elif actor.kind == "hr":
        employers = list(Employer.objects.filter(pk__in=actor.employer_ids).order_by("name"))
        ids = Employment.objects.filter(employer_id__in=actor.employer_ids).values("person_id")
        people = list(Person.objects.filter(pk__in=ids).order_by("family_name", "pk")[:CHOICES_MAX])
    else:
        employers = list(employers_visible(actor).order_by("name", "pk")[:CHOICES_MAX])
        people = list(persons_visible(actor).order_by("family_name", "pk")[:CHOICES_MAX])
    return (
        [(e.pk, display_name(e)) for e in employers],
        [(p.pk, p.full_name) for p in people],
    )


@login_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_see_disputes(actor):
        raise PermissionDenied
    employers, people = _parties(actor)
    initial = {
        "subject_kind": request.GET.get("subject_kind", "other"),
        "subject_id": request.GET.get("subject_id") or None,
        # From a bill, registration or card page (templatetags/dispute_links.py): both parties.
        "employer": request.GET.get("employer") or None,
        "person": request.GET.get("person") or None,
        "stage": DisputeStage.MEDIATION,
    }
    form = DisputeOpenForm(
        request.POST or None, initial=initial, employers=employers, people=people
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                dispute = disputes.dispute_open(
                    actor=actor,
                    employer_id=d["employer"],
                    person_id=d["person"],
                    subject_kind=d["subject_kind"],
                    subject_id=d.get("subject_id"),
                    claim=d["claim"],
                    stage=d["stage"],
                    stage_on=d.get("stage_on"),
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(
                    request, _("Dispute %(number)s recorded.") % {"number": dispute.number}
                )
                return redirect("cases:dispute", dispute_id=dispute.pk)
    return render(request, "cases/dispute_new.html", {"form": form}, status=status)


def _line_choices(dispute: Dispute) -> list[tuple[int, str]]:
    return [
        (
            line.pk,
            f"{line.bill.number} · {line.bill.month} · {insurance_label(line.insurance)} · "
            f"{yuan(line.employer_amount)} / {yuan(line.employee_amount)}",
        )
        for line in disputes.subject_lines(dispute)[:CHOICES_MAX]
    ]


def _dispute_page(
    request: HttpRequest,
    actor: Actor,
    dispute: Dispute,
    forms: dict[str, ClaimsForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    staff = permissions.may_decide_dispute(actor, dispute.region_code)
    here = disputes.STAGES.index(dispute.stage)
    next_stage = disputes.STAGES[here + 1] if here + 1 < len(disputes.STAGES) else ""
    is_open = dispute.status != DisputeStatus.CLOSED
    context: dict[str, Any] = {
        "dispute": dispute,
        "staff": staff,
        "documents": disputes.dispute_documents(dispute),
        "corrections": disputes.dispute_corrections(dispute),
        "history": [(e, event_label(e.action)) for e in disputes.dispute_history(dispute)],
        "stages": [
            (code, label, getattr(dispute, f"{code}_on")) for code, label in DisputeStage.choices
        ],
        "can_escalate": is_open and bool(next_stage),
        "stage_form": forms.get("stage") or StageForm(after=dispute.stage),
        "can_upload": is_open,
        "document_form": forms.get("document") or DocumentForm(),
    }
    if staff:
        correctable = (
            dispute.status == DisputeStatus.DECIDED and dispute.outcome in disputes.CORRECTABLE
        )
        context |= {
            "can_decide": dispute.status == DisputeStatus.OPEN,
            "decision_form": forms.get("decision") or DisputeDecisionForm(),
            "can_correct": correctable,
            "correction_form": forms.get("correction")
            or (CorrectionForm(lines=_line_choices(dispute)) if correctable else None),
            "can_close": dispute.status == DisputeStatus.DECIDED,
            "close_form": forms.get("close") or ReasonForm(),
        }
    return render(request, "cases/dispute.html", context, status=status)


@login_required
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _dispute_page(request, actor, _dispute(actor, dispute_id))


def _dispute_action(
    request: HttpRequest, dispute_id: int, name: str, form: ClaimsForm, run: Any
) -> HttpResponse:
    actor = request_actor(request)
    dispute = _dispute(actor, dispute_id, audit=False)
    if form.is_valid():
        try:
            run(actor, dispute, form.cleaned_data)
        except RuleError as exc:
            if exc.status == 403:
                raise PermissionDenied from None
            form.add_rule_error(exc)
        else:
            return redirect("cases:dispute", dispute_id=dispute.pk)
    dispute.refresh_from_db()
    return _dispute_page(request, actor, dispute, {name: form}, status=400)


@login_required
@require_POST
def dispute_stage(request: HttpRequest, dispute_id: int) -> HttpResponse:
    def run(actor: Actor, dispute: Dispute, d: dict[str, Any]) -> None:
        disputes.dispute_escalate(
            actor=actor, dispute_id=dispute.pk, stage=d["stage"], stage_on=d.get("stage_on")
        )
        messages.success(request, _("The dispute's new stage is recorded."))

    form = StageForm(request.POST)  # every stage parses: the service names a wrong one
    return _dispute_action(request, dispute_id, "stage", form, run)


@login_required
@require_POST
def dispute_document_add(request: HttpRequest, dispute_id: int) -> HttpResponse:
    def run(actor: Actor, dispute: Dispute, d: dict[str, Any]) -> None:
        upload = d["file"]
        disputes.document_add(
            actor=actor,
            dispute_id=dispute.pk,
            title=d["title"],
            data=upload.read(disputes.DOCUMENT_MAX_BYTES + 1),
        )
        messages.success(request, _("Document added."))

    form = DocumentForm(request.POST, request.FILES)
    return _dispute_action(request, dispute_id, "document", form, run)


@login_required
def dispute_document(
    request: HttpRequest, dispute_id: int, dispute_document_id: int
) -> HttpResponse:
    actor = request_actor(request)
    try:
        document = disputes.document_get(
            actor=actor, dispute_id=dispute_id, document_id=dispute_document_id
        )
    except NotFound:
        raise Http404 from None
    response = HttpResponse(bytes(document.data), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="dispute-document-{document.pk}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def dispute_decide(request: HttpRequest, dispute_id: int) -> HttpResponse:
    def run(actor: Actor, dispute: Dispute, d: dict[str, Any]) -> None:
        disputes.dispute_decide(
            actor=actor,
            dispute_id=dispute.pk,
            outcome=d["outcome"],
            text=d["text"],
            decided_on=d.get("decided_on"),
        )
        messages.success(request, _("Outcome recorded."))

    form = DisputeDecisionForm(request.POST)
    return _dispute_action(request, dispute_id, "decision", form, run)


@login_required
@require_POST
def dispute_correct(request: HttpRequest, dispute_id: int) -> HttpResponse:
    actor = request_actor(request)
    dispute = _dispute(actor, dispute_id, audit=False)
    if not permissions.may_decide_dispute(actor, dispute.region_code):
        raise PermissionDenied

    def run(actor: Actor, dispute: Dispute, d: dict[str, Any]) -> None:
        correction = disputes.dispute_correct(
            actor=actor,
            dispute_id=dispute.pk,
            lines=[
                LineCorrection(d["line"], d["employer_amount"], d["employee_amount"], d["base"])
            ],
            reason=d["reason"],
        )
        messages.success(
            request,
            _("Correction posted on bill %(bill)s: %(amount)s.")
            % {"bill": correction.bill.number, "amount": yuan(correction.net_fen)},
        )

    form = CorrectionForm(request.POST, lines=_line_choices(dispute))
    return _dispute_action(request, dispute_id, "correction", form, run)


@login_required
@require_POST
def dispute_close(request: HttpRequest, dispute_id: int) -> HttpResponse:
    def run(actor: Actor, dispute: Dispute, d: dict[str, Any]) -> None:
        disputes.dispute_close(actor=actor, dispute_id=dispute.pk, reason=d["reason"])
        messages.success(request, _("Dispute closed."))

    return _dispute_action(request, dispute_id, "close", ReasonForm(request.POST), run)


# --- complaints and reports --------------------------------------------------------------------------


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_use_complaints(actor):
        raise PermissionDenied
    status = request.GET.get("status", "")
    if status not in ComplaintStatus.values:
        status = ""
    overdue = request.GET.get("overdue") == "1"
    qs = complaints.complaint_list(actor=actor, status=status, overdue=overdue)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [
        (c, c.status == ComplaintStatus.RECEIVED and c.reply_due < today) for c in page.object_list
    ]
    return render(
        request,
        "cases/complaints.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "overdue": overdue,
            "statuses": ComplaintStatus.choices,
            "staff": permissions.is_staff(actor),
        },
    )


@login_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_file_report(actor):
        raise PermissionDenied
    employers = (
        [(e.pk, display_name(e)) for e in complaints.own_employers(actor)]
        if permissions.may_request_intervention(actor)
        else []
    )
    initial = {"kind": ComplaintKind.INTERVENTION if employers else ComplaintKind.REPORT}
    form = ComplaintForm(request.POST or None, initial=initial, employers=employers)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                complaint = complaints.complaint_file(
                    actor=actor,
                    kind=d["kind"],
                    subject=d["subject"],
                    details=d["details"],
                    employer_id=d.get("employer"),
                    uscc=d.get("uscc") or "",
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(
                    request,
                    _("Received as %(number)s. The agency replies by %(day)s.")
                    % {"number": complaint.number, "day": complaint.reply_due.isoformat()},
                )
                return redirect("cases:complaint", complaint_id=complaint.pk)
    context = {"form": form, "reply_days": clock(complaints.CLOCK).amount}
    return render(request, "cases/complaint_new.html", context, status=status)


def _complaint_page(
    request: HttpRequest,
    actor: Actor,
    complaint: Complaint,
    forms: dict[str, ClaimsForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    staff = permissions.may_answer_complaint(actor, complaint.region_code)
    context: dict[str, Any] = {
        "complaint": complaint,
        "staff": staff,
        "clock": complaints.reply_clock(complaint),
    }
    if staff:
        context |= {
            "history": [
                (e, event_label(e.action)) for e in complaints.complaint_history(complaint)
            ],
            "can_reply": complaint.status == ComplaintStatus.RECEIVED,
            "reply_form": forms.get("reply") or ReplyForm(),
            "can_close": complaint.status == ComplaintStatus.ANSWERED,
            "close_form": forms.get("close") or ReasonForm(),
        }
    return render(request, "cases/complaint.html", context, status=status)


@login_required
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    actor = request_actor(request)
    return _complaint_page(request, actor, _complaint(actor, complaint_id))


def _complaint_action(
    request: HttpRequest, complaint_id: int, name: str, form: ClaimsForm, run: Any
) -> HttpResponse:
    actor = request_actor(request)
    complaint = _complaint(actor, complaint_id, audit=False)
    if form.is_valid():
        try:
            run(actor, complaint, form.cleaned_data)
        except RuleError as exc:
            if exc.status == 403:
                raise PermissionDenied from None
            form.add_rule_error(exc)
        else:
            return redirect("cases:complaint", complaint_id=complaint.pk)
    complaint.refresh_from_db()
    return _complaint_page(request, actor, complaint, {name: form}, status=400)


@login_required
@require_POST
def complaint_reply(request: HttpRequest, complaint_id: int) -> HttpResponse:
    def run(actor: Actor, complaint: Complaint, d: dict[str, Any]) -> None:
        complaints.complaint_reply(actor=actor, complaint_id=complaint.pk, reply=d["reply"])
        if complaint.submitted_as != "public":
            messages.success(request, _("Reply sent: the complainant has it in their inbox."))
        elif complaint.contact_email:
            messages.success(request, _("Reply sent by e-mail to the address the reporter gave."))
        else:
            messages.success(
                request, _("Reply recorded: the reporter left no address to send it to.")
            )

    return _complaint_action(request, complaint_id, "reply", ReplyForm(request.POST), run)


@login_required
@require_POST
def complaint_close(request: HttpRequest, complaint_id: int) -> HttpResponse:
    def run(actor: Actor, complaint: Complaint, d: dict[str, Any]) -> None:
        complaints.complaint_close(actor=actor, complaint_id=complaint.pk, reason=d["reason"])
        messages.success(request, _("Complaint closed."))

    return _complaint_action(request, complaint_id, "close", ReasonForm(request.POST), run)


@login_required
@require_POST
def complaint_finding(request: HttpRequest, complaint_id: int) -> HttpResponse:
    actor = request_actor(request)
    complaint = _complaint(actor, complaint_id, audit=False)
    try:
        finding = complaints.complaint_to_finding(actor=actor, complaint_id=complaint.pk)
    except RuleError as exc:
        if exc.status == 403:
            raise PermissionDenied from None
        messages.error(request, message_for(exc.code, exc.message, exc.params))
        return redirect("cases:complaint", complaint_id=complaint.pk)
    messages.success(request, _("Compliance finding made from this complaint."))
    return redirect("cases:finding", finding_id=finding.pk)
