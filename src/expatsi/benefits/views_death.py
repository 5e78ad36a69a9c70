"""Death and inheritance pages. Employer HR: report a death of their staff, see their reports.
Agency staff: record a report (a family member's at the counter), see the evidence and the
balance on the date of death, file the heirs' claim, decide the shares.

Views are thin: build the actor, call one selector or service, show a RuleError next to its field.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor
from expatsi.benefits import death, ledger, permissions, selectors_death, services, views_lists
from expatsi.benefits.forms_death import (
    ClaimDecisionForm,
    ClaimDocumentForm,
    ClaimForm,
    DeathReportForm,
)
from expatsi.benefits.messages import benefit_message, message_for
from expatsi.benefits.models import (
    LIVE_CLAIM,
    ClaimStatus,
    DeathReport,
    InheritanceClaim,
    Reporter,
)
from expatsi.insurance.selectors import persons_visible
from expatsi.rules.errors import NotFound, RuleError
from expatsi.web.actors import request_actor
from expatsi.web.uploads import Upload, upload_read

PEOPLE_LIMIT = 1000


def _actor(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.may_use_deaths(actor):
        raise PermissionDenied
    return actor


def _staff(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.may_examine_deaths(actor):
        raise PermissionDenied
    return actor


def _death(actor: Actor, death_id: int, audit: bool = True) -> DeathReport:
    try:
        return selectors_death.death_get(actor=actor, death_id=death_id, audit=audit)
    except NotFound:
        raise Http404 from None


def _claim(actor: Actor, claim_id: int, audit: bool = True) -> InheritanceClaim:
    try:
        return selectors_death.claim_get(actor=actor, claim_id=claim_id, audit=audit)
    except NotFound:
        raise Http404 from None


def _people(actor: Actor) -> list[tuple[int, str]]:
    """Who may be reported: HR their current staff; agency staff the people of their regions
    not yet reported dead."""
    qs = (
        persons_visible(actor)
        .filter(death__isnull=True)
        .order_by("family_name", "given_names", "pk")
    )
    return [(p.pk, f"{p.full_name} ({p.nationality})") for p in qs[:PEOPLE_LIMIT]]


@login_required
def deaths(request: HttpRequest) -> HttpResponse:
    """Deaths on record (and, for agency staff, the inheritance claims awaiting a decision), and
    the report form."""
    actor = _actor(request)
    staff = permissions.may_examine_deaths(actor)
    form = DeathReportForm(
        request.POST or None, request.FILES or None, people=_people(actor), staff=staff
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = death.death_report(
                    actor=actor,
                    person_id=data["person"],
                    died_on=data["died_on"],
                    evidence=upload_read(data["evidence"], field="evidence"),
                    reporter=data.get("reporter") or Reporter.EMPLOYER,
                    reporter_name=data["reporter_name"],
                    relationship=data["relationship"],
                    note=data["note"],
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(
                    request,
                    _("The death is recorded and the individual account is frozen."),
                )
                return redirect("benefits:death", death_id=made.pk)
        status = 400
    # The first rows of each list and how many there are; the whole lists, searched, sorted and
    # paged, are on their own pages (views_lists.py).
    rows, rows_total = views_lists.preview(views_lists.DEATHS, actor)
    claims, claims_total = views_lists.preview(views_lists.CLAIMS, actor) if staff else ([], 0)
    return render(
        request,
        "benefits/deaths.html",
        {
            "rows": rows,
            "rows_total": rows_total,
            "claims": claims,
            "claims_total": claims_total,
            "cap": views_lists.CAP,
            "staff": staff,
            "form": form,
        },
        status=status,
    )


@login_required
def death_page(request: HttpRequest, death_id: int) -> HttpResponse:
    """One report; for agency staff its evidence, the balance on the date of death and the
    heirs' claims."""
    actor = _actor(request)
    report = _death(actor, death_id)
    staff = permissions.may_examine_deaths(actor)
    context: dict[str, object] = {"death": report, "staff": staff}
    if staff:
        view = selectors_death.balance_on_death(report)
        claims = list(report.claims.order_by("-filed_at", "-pk"))
        context |= {
            "documents": list(report.documents.order_by("pk").defer("content")),
            "view": view,
            "years": [y.as_dict() for y in view.lump.statement.years] if view.lump else [],
            "error": benefit_message(view.error) if view.error else "",
            "unsettled": _unsettled_text(view.unsettled),
            "claims": claims,
            "may_claim": not any(c.status in LIVE_CLAIM for c in claims),
        }
    return render(request, "benefits/death.html", context)


def _unsettled_text(unsettled: ledger.Unsettled) -> str:
    if not unsettled:
        return ""
    return message_for(
        "claim_months_not_settled",
        "",
        {"unbilled": ", ".join(unsettled.unbilled), "unpaid": ", ".join(unsettled.unpaid)},
    )


@login_required
def death_document(request: HttpRequest, death_id: int, death_document_id: int) -> HttpResponse:
    actor = _staff(request)
    report = _death(actor, death_id, audit=False)
    try:
        doc = selectors_death.document_get(actor=actor, document_id=death_document_id)
    except NotFound:
        raise Http404 from None
    if doc.death_id != report.pk:
        raise Http404
    response = HttpResponse(bytes(doc.content), content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="document-{doc.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def claim_file(request: HttpRequest, death_id: int) -> HttpResponse:
    """The heirs' claim: each heir's name, relationship and bank account, and the documents."""
    actor = _staff(request)
    report = _death(actor, death_id, audit=False)
    form = ClaimForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            rows = form.heir_rows()
            try:
                uploads: list[Upload] = [
                    upload_read(data[name], field="documents")
                    for name in ("document", "document2")
                    if data.get(name)
                ]
                claim = death.inheritance_claim_file(
                    actor=actor,
                    death_id=report.pk,
                    heirs=[
                        death.HeirDetails(
                            name=data[f"heir{n}_name"],
                            relationship=data[f"heir{n}_relationship"],
                            bank=services.BankDetails(
                                holder=data[f"heir{n}_holder"] or data[f"heir{n}_name"],
                                country=data[f"heir{n}_country"],
                                iban=data[f"heir{n}_iban"],
                                account_number=data[f"heir{n}_account_number"],
                                bank_code=data[f"heir{n}_bank_code"],
                                bic=data[f"heir{n}_bic"],
                                currency=data[f"heir{n}_currency"],
                            ),
                        )
                        for n in rows
                    ],
                    documents=uploads,
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(request, _("The claim is filed: decide the shares."))
                return redirect("benefits:claim", claim_id=claim.pk)
        status = 400
    return render(
        request, "benefits/claim_file.html", {"death": report, "form": form}, status=status
    )


@login_required
def claim_page(request: HttpRequest, claim_id: int) -> HttpResponse:
    actor = _staff(request)
    claim = _claim(actor, claim_id)
    heirs = list(claim.heirs.select_related("bank_account").order_by("position"))
    return _claim_page(request, claim, ClaimDecisionForm(heirs=heirs), ClaimDocumentForm(), 200)


def _claim_page(
    request: HttpRequest,
    claim: InheritanceClaim,
    form: ClaimDecisionForm,
    document_form: ClaimDocumentForm,
    status: int,
) -> HttpResponse:
    decidable = claim.status in (ClaimStatus.SUBMITTED, ClaimStatus.SECOND_APPROVAL)
    heirs = list(claim.heirs.select_related("bank_account").order_by("position"))
    unsettled = (
        ledger.unsettled_months(claim.person_id, claim.death.died_on)
        if claim.status == ClaimStatus.SUBMITTED
        else None
    )
    view = selectors_death.balance_on_death(claim.death) if claim.balance is None else None
    return render(
        request,
        "benefits/claim.html",
        {
            "claim": claim,
            "heirs": [(h, list(h.payouts.order_by("pk"))) for h in heirs],
            "form": form,
            "document_form": document_form,
            "documents": list(claim.documents.order_by("pk").defer("content")),
            "decidable": decidable,
            "first": claim.status == ClaimStatus.SUBMITTED,
            "unsettled": _unsettled_text(unsettled) if unsettled else "",
            "estimate": view.lump.amount if view and view.lump else None,
            "threshold": services.second_approval_above(),
        },
        status=status,
    )


@login_required
@require_POST
def claim_decide(request: HttpRequest, claim_id: int) -> HttpResponse:
    actor = _staff(request)
    claim = _claim(actor, claim_id, audit=False)
    heirs = list(claim.heirs.select_related("bank_account").order_by("position"))
    form = ClaimDecisionForm(request.POST, heirs=heirs)
    decision = request.POST.get("decision", "")
    if form.is_valid():
        try:
            claim = death.inheritance_decide(
                actor=actor,
                claim_id=claim.pk,
                decision=decision,
                shares=form.shares(),
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            texts = {
                ClaimStatus.SECOND_APPROVAL: _(
                    "Approved: a second agency user must approve these payouts too."
                ),
                ClaimStatus.APPROVED: _(
                    "Approved: a payout per heir waits for the next payment run."
                ),
                ClaimStatus.REJECTED: _("Rejected: the heirs may file a new claim."),
            }
            messages.success(request, texts.get(ClaimStatus(claim.status), _("Saved.")))
            return redirect("benefits:claim", claim_id=claim.pk)
    claim.refresh_from_db()
    return _claim_page(request, claim, form, ClaimDocumentForm(), 400)


@login_required
@require_POST
def claim_document(request: HttpRequest, claim_id: int) -> HttpResponse:
    actor = _staff(request)
    claim = _claim(actor, claim_id, audit=False)
    form = ClaimDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            death.claim_document_add(
                actor=actor,
                claim_id=claim.pk,
                upload=upload_read(form.cleaned_data["file"], field="file"),
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(request, _("The document is filed with the claim."))
            return redirect("benefits:claim", claim_id=claim.pk)
    heirs = list(claim.heirs.select_related("bank_account").order_by("position"))
    return _claim_page(request, claim, ClaimDecisionForm(heirs=heirs), form, 400)
