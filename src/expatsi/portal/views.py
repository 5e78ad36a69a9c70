"""Portal pages: a home page per role, the new-hire form, bulk import, records, decisions.

Views are thin: build the actor, call one service or selector, map RuleError to the page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.access.actors import Actor, actor_for_user, client_ip
from expatsi.cards.models import Card
from expatsi.cards.selectors import cards_visible
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employers_visible
from expatsi.insurance import imports
from expatsi.insurance.models import Registration, RegistrationStatus
from expatsi.insurance.selectors import (
    employments_visible,
    person_get,
    person_search,
    registration_deadline_status,
    registrations_visible,
)
from expatsi.insurance.services import (
    HireData,
    hire_register,
    hire_warnings,
    registration_accept,
    registration_reject,
)
from expatsi.people.models import Document, DocumentKind, Person
from expatsi.people.permissions import passport_number_for
from expatsi.people.services import PersonData
from expatsi.portal.forms import HireForm, ImportForm, RejectForm, SearchForm
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.money import parse_yuan
from expatsi.rules.regions import regions
from expatsi.web.errors import rule_message
from expatsi.web.uploads import PendingUpload, Upload, upload_check

IMPORT_PENDING = PendingUpload("portal.import")
# Documents a Card in the cards app can stand for.
CARD_DOCUMENT_KINDS = (DocumentKind.INTEGRATED_CARD, DocumentKind.WORK_PERMIT)
HR_SORTS = {
    "deadline": ("deadline", "person__family_name"),
    "-deadline": ("-deadline", "person__family_name"),
    "name": ("person__family_name", "person__given_names"),
    "-name": ("-person__family_name", "-person__given_names"),
}


def _actor(request: HttpRequest) -> Actor:
    return actor_for_user(request.user, ip=client_ip(request))


def _require(actor: Actor, *kinds: str) -> None:
    if actor.kind not in kinds:
        raise PermissionDenied


# --- home per role ----------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(
            request,
            "portal/home.html",
            {"regions": sorted(regions().values(), key=lambda r: r.code)},
        )
    actor = _actor(request)
    if actor.kind == "agency":
        return _agency_home(request, actor)
    if actor.kind == "hr":
        return _hr_home(request, actor)
    if actor.kind == "employee" and actor.person_id is not None:
        return redirect("me")
    return render(request, "portal/home_norole.html")


def _agency_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    people: QuerySet[Person] | list[Person] = []
    employers: QuerySet[Employer] | list[Employer] = []
    if query:
        people = person_search(actor=actor, query=query, limit=50)
        employers = (
            employers_visible(actor)
            .filter(
                Q(name__icontains=query)
                | Q(name_zh__icontains=query)
                | Q(uscc=query.replace(" ", "").upper())
            )
            .order_by("name")[:20]
        )
    today = timezone.localdate()
    open_regs = registrations_visible(actor).filter(status=RegistrationStatus.SUBMITTED)
    by_region: dict[str, dict[str, int]] = {
        str(row["employer__region_code"]): {
            "overdue": row["overdue"],
            "submitted": row["submitted"],
        }
        for row in open_regs.values("employer__region_code").annotate(
            overdue=Count("id", filter=Q(deadline__lt=today)),
            submitted=Count("id"),
        )
    }
    codes = {c for c in regions() if actor.regions is None or c in actor.regions} | set(by_region)
    empty = {"overdue": 0, "submitted": 0}
    region_rows = [{"code": code, **by_region.get(code, empty)} for code in sorted(codes)]
    pending = list(open_regs.order_by("deadline", "pk")[:25])
    return render(
        request,
        "portal/agency_home.html",
        {
            "form": form,
            "query": query,
            "people": people,
            "employers": employers,
            "region_rows": region_rows,
            "overdue_total": sum(r["overdue"] for r in region_rows),
            "pending": pending,
            "pending_total": open_regs.count(),
            "reject_form": RejectForm(),
        },
    )


def _hr_employers(actor: Actor) -> list[Employer]:
    return list(employers_visible(actor).order_by("name"))


def _hr_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    employers = _hr_employers(actor)
    current = _pick_employer(request.GET.get("employer"), employers)
    sort = request.GET.get("sort", "deadline")
    if sort not in HR_SORTS:
        sort = "deadline"
    regs = list(
        registrations_visible(actor).filter(employer=current).order_by(*HR_SORTS[sort], "pk")
    )
    rows = [(reg, registration_deadline_status(reg)) for reg in regs]
    counts = dict.fromkeys(("overdue", "due_soon", "on_time", "registered"), 0)
    for _reg, view in rows:
        key = "registered" if view.status.startswith("registered") else view.status
        if key in counts:
            counts[key] += 1
    return render(
        request,
        "portal/hr_home.html",
        {
            "employers": employers,
            "employer": current,
            "rows": rows,
            "sort": sort,
            "counts": counts,
        },
    )


def _pick_employer(raw: Any, employers: list[Employer]) -> Employer:
    if not employers:
        raise PermissionDenied
    for employer in employers:
        if str(employer.pk) == str(raw):
            return employer
    return employers[0]


# --- HR: one new hire -------------------------------------------------------------------------


@login_required
def hire_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "hr")
    employers = _hr_employers(actor)
    form = HireForm(
        request.POST or None,
        employers=employers,
        initial={"employer": _pick_employer(request.GET.get("employer"), employers).pk},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        employer = _pick_employer(data["employer"], employers)
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
                permit_kind=data["permit_kind"],
                permit_number=data["permit_number"],
                permit_issued_on=data["permit_issued_on"],
                permit_valid_to=data["permit_valid_to"],
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
            warnings = hire_warnings(employer=employer, data=hire, today=_today())
            confirmed = bool(data.get("confirm_late"))
            with transaction.atomic():
                reg = hire_register(actor=actor, employer=employer, data=hire)
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
    actor = _actor(request)
    _require(actor, "hr")
    employers = _hr_employers(actor)
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        employers=employers,
        initial={"employer": employers[0].pk if employers else None},
    )
    context: dict[str, Any] = {"form": form, "columns": _column_docs()}
    if request.method == "POST" and form.is_valid():
        employer = _pick_employer(form.cleaned_data["employer"], employers)

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
    actor = _actor(request)
    _require(actor, "hr")
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
        "permit_kind": _("integrated_card (default) or work_permit"),
        "permit_number": _("Number of the Integrated Card or work permit"),
        "permit_issued_on": _("Issue date of the permit, YYYY-MM-DD: the 30-day clock starts here"),
        "permit_valid_to": _("Last day the permit is valid, YYYY-MM-DD"),
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
    _require(_actor(request), "hr")
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


# --- records ------------------------------------------------------------------------------------


def _documents_with_cards(actor: Actor, person: Person) -> list[tuple[Document, Card | None, bool]]:
    """Each document with the Card it names, if the cards app has one (by permit or card number),
    and whether the reader may open that card.

    The hire form records the number the HR user typed; the card approved later is a separate
    record. When they are the same card, the card's own status (deregistered, expired …) is the
    truth: the page must never call a deregistered card "Valid" from the document's dates.
    """
    documents = list(person.documents.order_by("kind", "-issued_on"))
    numbers = {d.number for d in documents if d.kind in CARD_DOCUMENT_KINDS and d.number}
    by_number: dict[str, Card] = {}
    if numbers:
        cards = Card.objects.filter(person=person).filter(
            Q(permit_number__in=numbers) | Q(card_number__in=numbers)
        )
        for found in cards.order_by("pk"):  # the latest card for a number wins
            for number in (found.permit_number, found.card_number):
                if number in numbers:
                    by_number[number] = found
    visible = set(
        cards_visible(actor)
        .filter(pk__in=[c.pk for c in by_number.values()])
        .values_list("pk", flat=True)
    )
    rows: list[tuple[Document, Card | None, bool]] = []
    for d in documents:
        match = by_number.get(d.number) if d.kind in CARD_DOCUMENT_KINDS else None
        rows.append((d, match, match is not None and match.pk in visible))
    return rows


def _person_page(request: HttpRequest, actor: Actor, person_id: int, *, own: bool) -> HttpResponse:
    try:
        person = person_get(actor=actor, person_id=person_id)
    except NotFound:
        raise Http404 from None
    employments = employments_visible(actor).filter(person=person).order_by("-start_date", "-pk")
    registrations = [
        (reg, registration_deadline_status(reg))
        for reg in registrations_visible(actor)
        .filter(person=person)
        .order_by("-submitted_at", "-pk")
    ]
    return render(
        request,
        "portal/person.html",
        {
            "person": person,
            "own": own,
            "is_agency": actor.is_agency,
            "passports": [
                (p, passport_number_for(actor, p))
                for p in person.passports.order_by("-is_current", "-created_at")
            ],
            "documents": _documents_with_cards(actor, person),
            "employments": employments,
            "registrations": registrations,
            "today": timezone.localdate(),
        },
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "agency", "hr", "employee")
    return _person_page(request, actor, pk, own=actor.person_id == pk)


@login_required
def me(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if actor.kind != "employee" or actor.person_id is None:
        return redirect("home")
    return _person_page(request, actor, actor.person_id, own=True)


# --- registrations ------------------------------------------------------------------------------


def _registration_or_404(actor: Actor, pk: int) -> Registration:
    reg = registrations_visible(actor).select_related("employment", "permit").filter(pk=pk).first()
    if reg is None:
        raise Http404
    return reg


@login_required
def registration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    reg = _registration_or_404(actor, pk)
    return render(
        request,
        "portal/registration.html",
        {
            "reg": reg,
            "view": registration_deadline_status(reg),
            "actor_kind": actor.kind,
            "reject_form": RejectForm(),
        },
    )


@login_required
def registrations(request: HttpRequest) -> HttpResponse:
    """Agency: submitted registrations awaiting a decision, the most urgent first."""
    actor = _actor(request)
    _require(actor, "agency")
    pending = (
        registrations_visible(actor)
        .filter(status=RegistrationStatus.SUBMITTED)
        .order_by("deadline", "pk")
    )
    return render(
        request, "portal/registrations.html", {"pending": pending[:200], "total": pending.count()}
    )


@login_required
@require_POST
def registration_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "agency")
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
    actor = _actor(request)
    _require(actor, "agency")
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
            "actor_kind": actor.kind,
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
