"""Departure pages. The person: "Leaving China" (the choice), the application with the lump sum
and its statement. Agency staff: the queue of applications, the decision page, payment runs.

Views are thin: build the actor, call one selector or service, show a RuleError next to its field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from expatsi import spreadsheets
from expatsi.access.actors import Actor
from expatsi.benefits import downloads, ledger, permissions, selectors, services, views_lists
from expatsi.benefits.forms import (
    BankForm,
    DecisionForm,
    DeclareForm,
    ReturnFileForm,
    RunForm,
    TerminationForm,
)
from expatsi.benefits.messages import benefit_message, message_for
from expatsi.benefits.models import (
    LIVE_CASE,
    ApplicationStatus,
    CaseStatus,
    DepartureCase,
    PayoutKind,
    PayoutStatus,
    TerminationApplication,
    Trigger,
)
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.regions import regions
from expatsi.web import lists
from expatsi.web.actors import request_actor


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


def _case(actor: Actor, case_id: int) -> DepartureCase:
    try:
        return selectors.case_get(actor=actor, case_id=case_id)
    except NotFound:
        raise Http404 from None


# --- the person ----------------------------------------------------------------------------------


@login_required
def leaving(request: HttpRequest) -> HttpResponse:
    """Leaving China: what is known of the departure, and the choice."""
    actor = _person_actor(request)
    assert actor.person_id is not None
    form = DeclareForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.departure_open(
                    actor=actor,
                    person_id=actor.person_id,
                    departure_date=form.cleaned_data["departure_date"],
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(request, _("Your departure is recorded: choose below."))
                return redirect("benefits:leaving")
        status = 400
    cases = list(selectors.my_cases(actor)[:20])
    live = next((c for c in cases if c.status in LIVE_CASE), None)
    found = selectors.departure_found(actor.person_id, timezone.localdate())
    apps = {a.case_id: a for a in selectors.applications_visible(actor).order_by("signed_at")}
    return render(
        request,
        "benefits/leaving.html",
        {
            "cases": [(c, apps.get(c.pk)) for c in cases],
            "live": live,
            "found": found,
            "found_label": Trigger(found.trigger).label if found else "",
            "form": form,
            "open_status": CaseStatus.OPEN,
        },
        status=status,
    )


@login_required
@require_POST
def keep(request: HttpRequest, departure_id: int) -> HttpResponse:
    actor = _person_actor(request)
    case = _case(actor, departure_id)
    try:
        services.departure_keep(actor=actor, case_id=case.pk)
    except RuleError as exc:
        messages.error(request, benefit_message(exc))
    else:
        messages.success(
            request,
            _("You keep your individual account: your periods add up if you work in China again."),
        )
    return redirect("benefits:leaving")


@login_required
def terminate(request: HttpRequest, departure_id: int) -> HttpResponse:
    """The lump sum up to the closing date (today) with its statement, and the application."""
    actor = _person_actor(request)
    case = _case(actor, departure_id)
    closing = timezone.localdate()
    view = selectors.preview(case.person, closing)
    form = TerminationForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            upload = data.get("signed_form")
            try:
                app = services.termination_apply(
                    actor=actor,
                    case_id=case.pk,
                    bank_details=services.BankDetails(
                        holder=data["holder"],
                        country=data["country"],
                        iban=data["iban"],
                        account_number=data["account_number"],
                        bank_code=data["bank_code"],
                        bic=data["bic"],
                        currency=data["currency"],
                    ),
                    declaration=bool(data["declaration"]),
                    password=data["password"],
                    signed_form=upload.read(services.SIGNED_FORM_MAX_BYTES + 1) if upload else None,
                    closing_date=closing,
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(
                    request,
                    _("Your application is signed and sent to the agency for review."),
                )
                return redirect("benefits:application", termination_id=app.pk)
        status = 400
    refusal = None
    if view.pension_age is not None:
        refusal = message_for(
            "pension_age_reached",
            "",
            {"age": view.pension_age.age_text, "month": str(view.pension_age.retirement_month)},
        )
    elif case.status != CaseStatus.OPEN:
        refusal = message_for("termination_already_applied", "")
    return render(
        request,
        "benefits/terminate.html",
        {
            "case": case,
            "view": view,
            "form": form,
            "refusal": refusal,
            "unsettled": message_for(
                "months_not_settled",
                "",
                {
                    "unbilled": ", ".join(view.unsettled.unbilled),
                    "unpaid": ", ".join(view.unsettled.unpaid),
                },
            )
            if view.unsettled
            else "",
            "error": benefit_message(view.error) if view.error else "",
            "years": [y.as_dict() for y in view.lump.statement.years] if view.lump else [],
        },
        status=status,
    )


# --- shared: one application ---------------------------------------------------------------------


@login_required
def application(request: HttpRequest, termination_id: int) -> HttpResponse:
    """The application as signed: amount, statement, bank account (masked), status; for agency
    staff the identity check and the decision."""
    actor = request_actor(request)
    if not permissions.may_see_applications(actor):
        raise PermissionDenied
    try:
        app = selectors.application_get(actor=actor, termination_id=termination_id)
    except NotFound:
        raise Http404 from None
    return _application(request, actor, app, DecisionForm(), 200)


def _application(
    request: HttpRequest,
    actor: Actor,
    app: TerminationApplication,
    form: DecisionForm,
    status: int,
    bank_form: BankForm | None = None,
) -> HttpResponse:
    staff = permissions.is_staff(actor)
    payouts = list(app.payouts.order_by("pk"))
    last = next((p for p in reversed(payouts) if p.kind == PayoutKind.PAYOUT), None)
    returned = (
        app.status == ApplicationStatus.APPROVED
        and last is not None
        and last.status == PayoutStatus.REJECTED
    )
    decidable = staff and app.status in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.SECOND_APPROVAL,
    )
    unsettled = ledger.unsettled_months(app.person_id, app.closing_date) if decidable else None
    return render(
        request,
        "benefits/application.html",
        {
            "app": app,
            "form": form,
            "staff": staff,
            "decidable": decidable,
            "unsettled": unsettled,
            "payouts": payouts,
            "threshold": services.second_approval_above(),
            "returned": returned,
            "bank_form": bank_form or BankForm(),
        },
        status=status,
    )


@login_required
@require_POST
def decide(request: HttpRequest, termination_id: int) -> HttpResponse:
    actor = _staff_actor(request)
    try:
        app = selectors.application_get(actor=actor, termination_id=termination_id, audit=False)
    except NotFound:
        raise Http404 from None
    form = DecisionForm(request.POST)
    decision = request.POST.get("decision", "")
    if form.is_valid():
        try:
            app = services.termination_decide(
                actor=actor,
                termination_id=app.pk,
                decision=decision,
                identity_checked=bool(form.cleaned_data["identity_checked"]),
                note=form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            texts = {
                ApplicationStatus.SECOND_APPROVAL: _(
                    "Approved: a second agency user must approve this payout too."
                ),
                ApplicationStatus.APPROVED: _(
                    "Approved: the payout waits for the next payment run."
                ),
                ApplicationStatus.REJECTED: _("Rejected: the person may choose again."),
            }
            messages.success(request, texts.get(ApplicationStatus(app.status), _("Saved.")))
            return redirect("benefits:application", termination_id=app.pk)
    return _application(request, actor, app, form, 400)


# --- agency: the queue and the payment runs -------------------------------------------------------


def _by_stage(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(status=value)


def _queue_row(app: TerminationApplication) -> list[spreadsheets.Cell]:
    return [
        app.pk,
        app.person.family_name,
        app.person.given_names,
        app.case.region_code,
        Decimal(app.amount) / 100,
        app.signed_at.date() if app.signed_at else None,
        str(app.get_status_display()),
    ]


QUEUE = lists.ListSpec(
    columns=(
        lists.Column(
            "person", gettext_lazy("Person"), ("person__family_name", "person__given_names")
        ),
        lists.Column("region", gettext_lazy("Region"), ("case__region_code",)),
        lists.Column("amount", gettext_lazy("Lump sum"), ("amount",)),
        lists.Column("signed", gettext_lazy("Signed"), ("signed_at",)),
        lists.Column("status", gettext_lazy("Status")),
    ),
    default_sort="signed",  # oldest first: the longest waiting is decided first
    filters=(
        lists.Filter(
            "status",
            gettext_lazy("Status"),
            [
                (ApplicationStatus.SUBMITTED.value, ApplicationStatus.SUBMITTED.label),
                (ApplicationStatus.SECOND_APPROVAL.value, ApplicationStatus.SECOND_APPROVAL.label),
            ],
            _by_stage,
            any_label=gettext_lazy("Any stage"),
        ),
    ),
    search=selectors.by_person,
    search_label=gettext_lazy("Name, social security number or document number"),
    export_name="termination-applications",
    export_header=(
        "id",
        "family_name",
        "given_names",
        "region",
        "lump_sum_yuan",
        "signed_on",
        "status",
    ),
    export_row=_queue_row,
)


@login_required
def queue(request: HttpRequest) -> HttpResponseBase:
    """The applications awaiting a decision, on the list toolkit: a region's departures run to
    thousands, and the page rendered the oldest 200."""
    actor = _staff_actor(request)
    found = lists.response_or_page(
        QUEUE, request, selectors.applications_queue(actor).select_related("person", "case")
    )
    if not isinstance(found, lists.ListPage):
        return found
    return render(request, "benefits/queue.html", {"list": found, "rows": found.rows})


def _regions(actor: Actor) -> list[tuple[str, str]]:
    known = regions()
    codes = sorted(known) if actor.regions is None else sorted(actor.regions)
    return [(c, known[c].name if c in known else c) for c in codes]


@login_required
def payments(request: HttpRequest) -> HttpResponse:
    actor = _staff_actor(request)
    return _payments(request, actor, RunForm(regions=_regions(actor)), ReturnFileForm(), None, 200)


def _payments(
    request: HttpRequest,
    actor: Actor,
    run_form: RunForm,
    return_form: ReturnFileForm,
    report: services.Reconciliation | None,
    status: int,
) -> HttpResponse:
    # The oldest payouts and how many wait; the whole list, searched, sorted and paged, is on
    # its own page (views_lists.py).
    pending, pending_total = views_lists.preview(views_lists.PENDING, actor)
    return render(
        request,
        "benefits/payments.html",
        {
            "pending": pending,
            "pending_total": pending_total,
            "cap": views_lists.CAP,
            "runs": list(selectors.runs_visible(actor)[:50]),
            "run_form": run_form,
            "return_form": return_form,
            "report": report,
            "errors": [
                (e.row, e.column, message_for(e.code, e.message, e.params)) for e in report.errors
            ]
            if report
            else [],
        },
        status=status,
    )


@login_required
@require_POST
def run(request: HttpRequest) -> HttpResponse:
    actor = _staff_actor(request)
    form = RunForm(request.POST, regions=_regions(actor))
    if form.is_valid():
        try:
            made = services.payment_run(
                actor=actor,
                region_code=form.cleaned_data["region_code"],
                execution_date=form.cleaned_data["execution_date"],
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            if made is None:
                messages.info(request, message_for("nothing_to_pay_run", ""))
            else:
                messages.success(
                    request,
                    _("Payment run %(id)s written: %(count)s payout(s).")
                    % {"id": made.message_id, "count": made.count},
                )
            return redirect("benefits:payments")
    return _payments(request, actor, form, ReturnFileForm(), None, 400)


@login_required
@require_POST
def reconcile(request: HttpRequest) -> HttpResponse:
    actor = _staff_actor(request)
    form = ReturnFileForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        raw = form.cleaned_data["file"].read(2_000_001)
        try:
            if len(raw) > 2_000_000:
                raise RuleError("too_large", "the return file must be at most 2 MB", "file")
            report = services.payments_reconcile(actor=actor, text=raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            form.add_error("file", _("The CSV file must be saved as UTF-8."))
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            if not report.errors:
                messages.success(
                    request,
                    _(
                        "Return file applied: %(paid)s paid, %(rejected)s rejected, %(same)s already applied."
                    )
                    % {"paid": report.paid, "rejected": report.rejected, "same": report.unchanged},
                )
                return redirect("benefits:payments")
    return _payments(request, actor, RunForm(regions=_regions(actor)), form, report, 400)


@login_required
def run_file(request: HttpRequest, payment_run_id: int) -> HttpResponse:
    actor = _staff_actor(request)
    try:
        made = selectors.run_get(actor=actor, payment_run_id=payment_run_id)
    except NotFound:
        raise Http404 from None
    response = HttpResponse(made.xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{made.message_id}.xml"'
    return response


@login_required
def signed_form(request: HttpRequest, termination_id: int) -> HttpResponse:
    """The uploaded signed form, for agency staff who may review the application (audited)."""
    actor = _staff_actor(request)
    try:
        form = selectors.signed_form_get(actor=actor, termination_id=termination_id)
    except NotFound:
        raise Http404 from None
    return downloads.signed_form_response(form)


@login_required
@require_POST
def correct_bank(request: HttpRequest, termination_id: int) -> HttpResponse:
    """Corrected bank details after the bank returned the payout: a new payout in the next run."""
    actor = request_actor(request)
    if not permissions.may_see_applications(actor):
        raise PermissionDenied
    try:
        app = selectors.application_get(actor=actor, termination_id=termination_id, audit=False)
    except NotFound:
        raise Http404 from None
    form = BankForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.payout_bank_correct(
                actor=actor,
                termination_id=app.pk,
                bank_details=services.BankDetails(
                    holder=data["holder"],
                    country=data["country"],
                    iban=data["iban"],
                    account_number=data["account_number"],
                    bank_code=data["bank_code"],
                    bic=data["bic"],
                    currency=data["currency"],
                ),
            )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request,
                _("Bank details corrected: the lump sum is sent again in the next payment run."),
            )
            return redirect("benefits:application", termination_id=app.pk)
    return _application(request, actor, app, DecisionForm(), 400, bank_form=form)
