"""Pages of employment and social insurance registration: the HR user's new-hire form and bulk
import, and the registrations — the agency's queue, one registration, accepting and rejecting.

Views are thin: build the actor, ask ``insurance.permissions``, call one service or selector, map
RuleError to the page. (The person page, which shows cards too, is composed in ``portal``.)
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employer_search
from expatsi.employers.views import pick_employer
from expatsi.insurance import imports, permissions, selectors
from expatsi.insurance.forms import HireForm, ImportForm, RejectForm
from expatsi.insurance.models import Registration
from expatsi.insurance.selectors import registration_deadline_status
from expatsi.insurance.services import (
    HireData,
    hire_register,
    hire_warnings_for,
    registration_accept,
    registration_reject,
)
from expatsi.people.models import DocumentKind
from expatsi.people.services import PersonData
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.money import parse_yuan
from expatsi.web.actors import request_actor
from expatsi.web.errors import rule_message
from expatsi.web.uploads import PendingUpload, Upload, upload_check

IMPORT_PENDING = PendingUpload("portal.import")


def _require_hire_pages(actor: Actor) -> None:
    if not permissions.may_use_hire_pages(actor):
        raise PermissionDenied


def _require_decisions(actor: Actor) -> None:
    if not permissions.may_decide_registrations(actor):
        raise PermissionDenied


def _hr_employers(actor: Actor) -> list[Employer]:
    """The employers this HR user files for, by name."""
    return list(employer_search(actor=actor))


# --- HR: one new hire -------------------------------------------------------------------------


@login_required
def hire_new(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    _require_hire_pages(actor)
    employers = _hr_employers(actor)
    form = HireForm(
        request.POST or None,
        employers=employers,
        initial={"employer": pick_employer(request.GET.get("employer"), employers).pk},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        employer = pick_employer(data["employer"], employers)
        try:
            hire = HireData(
                person=PersonData(
                    family_name=data["family_name"],
                    given_names=data["given_names"],
                    sex=data["sex"],
                    birth_date=data["birth_date"],
                    nationality=data["nationality"],
                    passport_number=data["passport_number"],
                    passport_country=data["passport_country"],
                    chinese_name=data["chinese_name"],
                    email=data["email"],
                ),
                # The card on file decides the kind (a physical work permit or an Integrated Card)
                # and the dates; the form names it by its number.
                permit_kind=DocumentKind.INTEGRATED_CARD,
                permit_number=data["permit_number"],
                permit_issued_on=None,
                permit_valid_to=None,
                residence_permit_number=data["residence_permit_number"],
                residence_permit_issued_on=data["residence_permit_issued_on"],
                residence_permit_valid_to=data["residence_permit_valid_to"],
                start_date=data["start_date"],
                end_date=data["end_date"],
                position=data["position"],
                contract_wage=parse_yuan(str(data["monthly_wage"]), field="monthly_wage"),
                seconded_by=data["seconded_by"],
                seconded_by_country=data["seconded_by_country"],
            )
            confirmed = bool(data.get("confirm_late"))
            with transaction.atomic():
                reg = hire_register(actor=actor, employer=employer, data=hire)
                warnings = hire_warnings_for(registration=reg, data=hire, today=_today())
                if warnings and not confirmed:
                    # Refusals first, then the consequences: a hire the law refuses never
                    # reaches the confirmation step. Nothing is kept until the HR user confirms.
                    transaction.set_rollback(True)
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            if warnings and not confirmed:
                context = {"form": form, "late": warnings}
                return render(request, "portal/hire_form.html", context)
            messages.success(
                request, _("The registration has been submitted to the social insurance agency.")
            )
            return redirect("registration_detail", pk=reg.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/hire_form.html", {"form": form}, status=status)


def _today() -> date:
    """The day a late hire's figures are reckoned to (a seam for tests to pin)."""
    return timezone.localdate()


# --- HR: bulk import --------------------------------------------------------------------------


@login_required
def hire_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run (nothing saved) → the report; if every row is good, an Import button."""
    actor = request_actor(request)
    _require_hire_pages(actor)
    employers = _hr_employers(actor)
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        employers=employers,
        initial={"employer": employers[0].pk if employers else None},
    )
    context: dict[str, Any] = {"form": form, "columns": _column_docs()}
    if request.method == "POST" and form.is_valid():
        employer = pick_employer(form.cleaned_data["employer"], employers)

        def dry_run(upload: Upload) -> tuple[list[dict[str, str]], imports.ImportReport]:
            rows = imports.rows_from_file(upload.name, upload.data)
            return rows, imports.hires_import(
                actor=actor, employer=employer, rows=rows, dry_run=True
            )

        checked = upload_check(form, dry_run)
        if checked is not None:
            upload, (rows, report) = checked
            token = ""
            if report.ok:
                token = IMPORT_PENDING.keep(
                    request, employer=employer.pk, name=upload.name, rows=rows
                )
            context.update(report=report, employer=employer, token=token, filename=upload.name)
    status = 400 if request.method == "POST" and not form.is_valid() else 200
    return render(request, "portal/import.html", context, status=status)


@login_required
@require_POST
def hire_import_apply(request: HttpRequest) -> HttpResponse:
    actor = request_actor(request)
    _require_hire_pages(actor)
    pending = IMPORT_PENDING.take(request)
    if pending is None:
        return redirect("hire_import")
    employers = _hr_employers(actor)
    employer = next((e for e in employers if e.pk == pending["employer"]), None)
    if employer is None:
        raise PermissionDenied
    report = imports.hires_import(
        actor=actor, employer=employer, rows=pending["rows"], dry_run=False
    )
    IMPORT_PENDING.done(request)
    return render(
        request,
        "portal/import_done.html",
        {
            "report": report,
            "employer": employer,
            "filename": pending["name"],
        },
        status=200 if report.committed else 409,
    )


def _column_docs() -> list[dict[str, Any]]:
    descriptions = {
        "family_name": _("Family name as in the passport"),
        "given_names": _("Given names as in the passport"),
        "chinese_name": _("Chinese name, if any"),
        "sex": _("male or female (m / f accepted)"),
        "birth_date": _("Date of birth, YYYY-MM-DD"),
        "nationality": _("ISO 3166-1 alpha-3 code, e.g. DEU, USA, JPN"),
        "passport_number": _("Passport number, 5–20 letters and digits"),
        "passport_country": _("Issuing country if not the nationality (alpha-3)"),
        "email": _("E-mail address of the employee"),
        "permit_kind": _(
            "integrated_card (default) or work_permit: the card on file; or "
            "permanent_resident_id or press_card"
        ),
        "permit_number": _(
            "The person's card on file: its Integrated Card number, its 18-digit work permit "
            "number, or A and the number of the card application awaiting a decision"
        ),
        "permit_issued_on": _(
            "Only for a permanent resident ID card or press card: its issue date, YYYY-MM-DD "
            "(a card's dates are the card's)"
        ),
        "permit_valid_to": _(
            "Only for a permanent resident ID card or press card: its last valid day"
        ),
        "residence_permit_number": _("Residence permit number"),
        "residence_permit_issued_on": _("Residence permit issue date (required with its number)"),
        "residence_permit_valid_to": _("Residence permit last valid day"),
        "start_date": _("First day of employment, YYYY-MM-DD"),
        "end_date": _("Last day of the contract, empty if open-ended"),
        "position": _("Job title"),
        "monthly_wage": _("Monthly contract wage in yuan, e.g. 28500.00"),
        "seconded_by": _(
            "Overseas-assigned staff only: the foreign company that seconded the employee"
        ),
        "seconded_by_country": _(
            "Country of that company (alpha-3, e.g. DEU); required with seconded_by"
        ),
    }
    return [
        {
            "name": c.name,
            "required": c.required,
            "example": c.example,
            "description": descriptions[c.name],
        }
        for c in imports.COLUMNS
    ]


@login_required
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    _require_hire_pages(request_actor(request))
    if fmt not in ("csv", "xlsx"):
        raise Http404
    if fmt == "xlsx":
        response = HttpResponse(
            imports.template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(
            imports.template_csv().encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="expatsi-hires-template.{fmt}"'
    return response


# --- registrations ------------------------------------------------------------------------------


def _registration_or_404(actor: Actor, pk: int) -> Registration:
    try:
        return selectors.registration_get(actor=actor, registration_id=pk)
    except NotFound:
        raise Http404 from None


@login_required
def registration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    reg = _registration_or_404(actor, pk)
    return render(
        request,
        "portal/registration.html",
        {
            "reg": reg,
            "view": registration_deadline_status(reg),
            "may_decide": permissions.may_decide_registration(actor, reg),
            "reject_form": RejectForm(),
        },
    )


@login_required
@require_POST
def registration_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    _require_decisions(actor)
    try:
        reg = registration_accept(actor=actor, registration_id=pk)
    except NotFound:
        raise Http404 from None
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
        return redirect("registration_detail", pk=pk)
    messages.success(
        request,
        _("Registration of %(person)s accepted. Social security number: %(ssn)s.")
        % {"person": reg.person.full_name, "ssn": reg.person.ssn or "—"},
    )
    return _back(request, reverse("registration_detail", args=[pk]))


@login_required
def registration_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request_actor(request)
    _require_decisions(actor)
    reg = _registration_or_404(actor, pk)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registration_reject(actor=actor, registration_id=pk, reason=form.cleaned_data["reason"])
        except NotFound:
            raise Http404 from None
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request,
                _("Registration of %(person)s rejected.") % {"person": reg.person.full_name},
            )
            return redirect("registration_detail", pk=pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/registration.html",
        {
            "reg": reg,
            "view": registration_deadline_status(reg),
            "may_decide": permissions.may_decide_registration(actor, reg),
            "reject_form": form,
        },
        status=status,
    )


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)
