"""Pension pages. The person: "My pension" (where they stand, the application, the award
explained line by line, the proof of life online or by certificate). Agency staff: pensions and
certificates awaiting review, one pension with its decision and proofs, the monthly run.

Views are thin: build the actor, call one selector or service, show a RuleError next to its field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor
from expatsi.benefits import pensions, permissions, proof_of_life, services, views_lists
from expatsi.benefits.forms_pension import (
    CertificateForm,
    InPersonForm,
    OnlineProofForm,
    PensionApplyForm,
    PensionDecisionForm,
    PensionRunForm,
    ProofDecisionForm,
    StaffApplyForm,
)
from expatsi.benefits.messages import benefit_message
from expatsi.benefits.models import (
    DECIDABLE_PENSION,
    PayoutKind,
    Pension,
    PensionStatus,
    ProofStatus,
)
from expatsi.billing.provenance import status_label
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.regions import regions
from expatsi.web.actors import request_actor

LINE_LABELS: dict[str, Promise] = {
    "first_month": gettext_lazy("First month paid"),
    "months": gettext_lazy("Contribution months / minimum"),
    "calc_base": gettext_lazy("Pension calculation base"),
    "index": gettext_lazy("Average contribution index"),
    "basic": gettext_lazy("Basic pension (monthly)"),
    "balance": gettext_lazy("Individual account balance"),
    "divisor": gettext_lazy("Months divisor"),
    "account": gettext_lazy("Individual-account pension (monthly)"),
    "total": gettext_lazy("Monthly pension"),
}


def _person_actor(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.is_person(actor):
        raise PermissionDenied
    return actor


def _staff_actor(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.is_staff(actor):
        raise PermissionDenied
    return actor


def _pension(actor: Actor, pension_id: int, audit: bool = True) -> Pension:
    try:
        return pensions.pension_get(actor=actor, pension_id=pension_id, audit=audit)
    except NotFound:
        raise Http404 from None


def _lines(pension: Pension) -> list[dict[str, Any]]:
    return [
        {
            **line,
            "label": LINE_LABELS.get(line["key"], line["key"]),
            "status_text": status_label(line["status"]),
        }
        for line in pension.lines
    ]


def _regions(actor: Actor) -> list[tuple[str, str]]:
    known = regions()
    codes = sorted(known) if actor.regions is None else sorted(actor.regions)
    return [(c, known[c].name if c in known else c) for c in codes]


def _bank(data: dict[str, Any]) -> services.BankDetails:
    return services.BankDetails(
        holder=data["holder"],
        country=data["country"],
        iban=data["iban"],
        account_number=data["account_number"],
        bank_code=data["bank_code"],
        bic=data["bic"],
        currency=data["currency"],
    )


def _detail_context(actor: Actor, pension: Pension) -> dict[str, Any]:
    staff = permissions.is_staff(actor)
    payable = pension.status in (PensionStatus.AWARDED, PensionStatus.SUSPENDED)
    return {
        "pension": pension,
        "lines": _lines(pension),
        "staff": staff,
        "payable": payable,
        "proofs": list(pension.proofs.order_by("-pk")[:50]),
        "payouts": list(pension.payouts.order_by("-month", "-pk")[:60]),
        "figures_status": status_label(pension.figures_status),
        "decidable": staff and pension.status in DECIDABLE_PENSION,
        "submitted": ProofStatus.SUBMITTED,
        "reversal": PayoutKind.REVERSAL,
        "overpayment": getattr(pension, "overpayment", None),
    }


# --- the person -------------------------------------------------------------------------------------


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """My pension: the award if there is one, else where I stand and the application."""
    actor = _person_actor(request)
    assert actor.person_id is not None
    pension = pensions.pensions_visible(actor).order_by("-pk").first()
    if pension is not None and pension.status != PensionStatus.REJECTED:
        return render(
            request,
            "benefits/pension.html",
            {
                **_detail_context(actor, pension),
                "online_form": OnlineProofForm(),
                "certificate_form": CertificateForm(),
            },
        )
    person = Person.objects.get(pk=actor.person_id)
    form = PensionApplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                pensions.pension_apply(
                    actor=actor,
                    person_id=actor.person_id,
                    bank_details=_bank(form.cleaned_data),
                    password=form.cleaned_data["password"],
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(
                    request,
                    _("Your pension application is signed and sent to the agency for review."),
                )
                return redirect("benefits:my_pension")
        status = 400
    e = pensions.eligibility(person, timezone.localdate())
    refusal = ""
    try:
        pensions.refuse_unless_eligible(e)
    except RuleError as exc:
        refusal = benefit_message(exc)
    return render(
        request,
        "benefits/pension_apply.html",
        {"e": e, "refusal": refusal, "form": form, "rejected": pension},
        status=status,
    )


@login_required
@require_POST
def proof(request: HttpRequest, pension_id: int) -> HttpResponse:
    """A proof of life: online (the person, password), a certificate (person or staff), in
    person (staff). Which one: the ``route`` posted."""
    actor = request_actor(request)
    if not permissions.may_use_pensions(actor):
        raise PermissionDenied
    pension = _pension(actor, pension_id, audit=False)
    route = request.POST.get("route", "")
    staff = permissions.is_staff(actor)
    try:
        if route == "online":
            online = OnlineProofForm(request.POST)
            if not online.is_valid():
                return _redisplay(request, actor, pension, online_form=online)
            try:
                proof_of_life.proof_online(
                    actor=actor, pension_id=pension.pk, password=online.cleaned_data["password"]
                )
            except RuleError as exc:
                online.add_rule_error(exc)
                return _redisplay(request, actor, pension, online_form=online)
            messages.success(request, _("Thank you: your proof of life is recorded."))
        elif route == "in_person":
            form = InPersonForm(request.POST)
            if not form.is_valid():
                return _redisplay(request, actor, pension, in_person_form=form)
            proof_of_life.proof_in_person(
                actor=actor, pension_id=pension.pk, note=form.cleaned_data["note"]
            )
            messages.success(request, _("The proof of life in person is recorded."))
        else:
            cert = CertificateForm(request.POST, request.FILES)
            if not cert.is_valid():
                return _redisplay(request, actor, pension, certificate_form=cert)
            try:
                proof_of_life.proof_upload(
                    actor=actor,
                    pension_id=pension.pk,
                    route=cert.cleaned_data["route"],
                    document=cert.cleaned_data["document"].read(services.SIGNED_FORM_MAX_BYTES + 1),
                    verified_on=cert.cleaned_data["verified_on"],
                )
            except RuleError as exc:
                cert.add_rule_error(exc)
                return _redisplay(request, actor, pension, certificate_form=cert)
            messages.success(request, _("The certificate is uploaded: the agency reviews it."))
    except RuleError as exc:
        messages.error(request, benefit_message(exc))
    if staff:
        return redirect("benefits:pension", pension_id=pension.pk)
    return redirect("benefits:my_pension")


def _redisplay(request: HttpRequest, actor: Actor, pension: Pension, **forms: Any) -> HttpResponse:
    context = {
        **_detail_context(actor, pension),
        "online_form": OnlineProofForm(),
        "certificate_form": CertificateForm(),
        "in_person_form": InPersonForm(),
        "decision_form": PensionDecisionForm(),
        **forms,
    }
    return render(request, "benefits/pension.html", context, status=400)


# --- agency staff ----------------------------------------------------------------------------------


@login_required
def pension_list(request: HttpRequest) -> HttpResponse:
    actor = _staff_actor(request)
    return _list(request, actor, PensionRunForm(regions=_regions(actor)), 200)


def _list(
    request: HttpRequest, actor: Actor, run_form: PensionRunForm, status: int
) -> HttpResponse:
    # The first rows of each list and how many there are; the whole lists, searched, sorted and
    # paged, are on their own pages (views_lists.py).
    waiting, waiting_total = views_lists.preview(views_lists.WAITING, actor)
    proofs, proofs_total = views_lists.preview(views_lists.PROOFS, actor)
    running, running_total = views_lists.preview(views_lists.RUNNING, actor)
    return render(
        request,
        "benefits/pensions.html",
        {
            "waiting": waiting,
            "waiting_total": waiting_total,
            "proofs": proofs,
            "proofs_total": proofs_total,
            "running": running,
            "running_total": running_total,
            "cap": views_lists.CAP,
            "run_form": run_form,
        },
        status=status,
    )


@login_required
def apply_for(request: HttpRequest) -> HttpResponse:
    """Agency staff apply for a person at the counter."""
    actor = _staff_actor(request)
    form = StaffApplyForm(request.POST or None, signed_by_person=False)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                made = pensions.pension_apply(
                    actor=actor,
                    person_id=form.cleaned_data["person_id"],
                    bank_details=_bank(form.cleaned_data),
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(request, _("The pension application is recorded."))
                return redirect("benefits:pension", pension_id=made.pk)
        status = 400
    return render(request, "benefits/pension_staff_apply.html", {"form": form}, status=status)


@login_required
def detail(request: HttpRequest, pension_id: int) -> HttpResponse:
    actor = request_actor(request)
    if not permissions.may_use_pensions(actor):
        raise PermissionDenied
    pension = _pension(actor, pension_id)
    return render(
        request,
        "benefits/pension.html",
        {
            **_detail_context(actor, pension),
            "online_form": OnlineProofForm(),
            "certificate_form": CertificateForm(),
            "in_person_form": InPersonForm(),
            "decision_form": PensionDecisionForm(),
        },
    )


@login_required
@require_POST
def decide(request: HttpRequest, pension_id: int) -> HttpResponse:
    actor = _staff_actor(request)
    pension = _pension(actor, pension_id, audit=False)
    form = PensionDecisionForm(request.POST)
    if form.is_valid():
        try:
            made = pensions.pension_decide(
                actor=actor,
                pension_id=pension.pk,
                decision=request.POST.get("decision", ""),
                identity_checked=bool(form.cleaned_data["identity_checked"]),
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            texts = {
                PensionStatus.AWARDED: _("Pension awarded: it is paid by the monthly run."),
                PensionStatus.SECOND_APPROVAL: _(
                    "Approved: a second agency user must approve this pension too."
                ),
                PensionStatus.REJECTED: _("Application rejected."),
            }
            messages.success(request, texts.get(PensionStatus(made.status), _("Saved.")))
            return redirect("benefits:pension", pension_id=pension.pk)
    return _redisplay(request, actor, pension, decision_form=form)


@login_required
@require_POST
def proof_decide(request: HttpRequest, proof_id: int) -> HttpResponse:
    actor = _staff_actor(request)
    try:
        found = proof_of_life.proof_get(actor=actor, proof_id=proof_id)
    except NotFound:
        raise Http404 from None
    form = ProofDecisionForm(request.POST)
    if form.is_valid():
        try:
            proof_of_life.proof_review(
                actor=actor,
                proof_id=found.pk,
                decision=request.POST.get("decision", ""),
                reason=form.cleaned_data["reason"],
            )
        except RuleError as exc:
            messages.error(request, benefit_message(exc))
        else:
            messages.success(request, _("Decision on the certificate recorded."))
    else:
        messages.error(request, _("Check the reason."))
    return redirect("benefits:pension", pension_id=found.pension_id)


@login_required
def proof_document(request: HttpRequest, proof_id: int) -> HttpResponse:
    """The uploaded certificate, for the review (agency staff of the region)."""
    actor = _staff_actor(request)
    try:
        found = proof_of_life.proof_get(actor=actor, proof_id=proof_id)
    except NotFound:
        raise Http404 from None
    if not found.document:
        raise Http404
    response = HttpResponse(bytes(found.document), content_type=found.document_type)
    response["Content-Disposition"] = f'inline; filename="certificate-{found.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def month_run(request: HttpRequest) -> HttpResponse:
    actor = _staff_actor(request)
    form = PensionRunForm(request.POST, regions=_regions(actor))
    if form.is_valid():
        try:
            made = pensions.pension_month_run(
                actor=actor,
                region_code=form.cleaned_data["region_code"],
                month=Month.parse(form.cleaned_data["month"]),
                execution_date=form.cleaned_data["execution_date"],
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request,
                _("Pension run for %(month)s: %(count)s new payout(s).")
                % {"month": made.month, "count": made.created},
            )
            return redirect("benefits:pensions")
    return _list(request, actor, form, 400)
