"""Base declarations (HR of the employer, agency staff of its region): the contribution year's
bases with one employee's declared, and a file of them (preview, then apply)."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi.billing import declarations, permissions, selectors
from expatsi.billing.forms import DeclarationForm, UploadForm
from expatsi.billing.views.common import int_or_none, page_actor, pick, require
from expatsi.rules.dates import Month
from expatsi.rules.errors import RuleError
from expatsi.web.errors import rule_message
from expatsi.web.formatting import yuan
from expatsi.web.uploads import PendingUpload, upload_check

DECLARATIONS_PENDING = PendingUpload("billing_declarations_pending")


def _period_month(raw: str) -> Month:
    try:
        return Month.parse(raw)
    except RuleError:
        return Month.of(timezone.localdate())


@login_required
def declaration_page(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.may_declare(actor))
    employers = selectors.employers_for(actor)
    employer = pick(request.GET.get("employer") or request.POST.get("employer"), employers)
    month = _period_month(request.GET.get("period") or request.POST.get("period") or "")
    form: DeclarationForm | None = None
    failed_person: int | None = None
    if request.method == "POST":
        form = DeclarationForm(request.POST)
        if form.is_valid():
            try:
                person = selectors.employee_of(employer, form.cleaned_data["person"])
                wage = int(form.cleaned_data["wage"] * 100)
                declarations.declaration_set(
                    actor=actor,
                    person=person,
                    employer=employer,
                    period_start=Month.parse(form.cleaned_data["period"], field="period_start"),
                    wage=wage,
                )
            except RuleError as exc:
                form.add_rule_error(exc)
            else:
                messages.success(
                    request,
                    _("The base of %(name)s is declared: %(wage)s a month.")
                    % {"name": person.full_name, "wage": yuan(wage)},
                )
                return redirect(
                    f"{reverse('billing:declarations')}?employer={employer.pk}&period={month}"
                )
        failed_person = int_or_none(request.POST.get("person"))
    try:
        views = declarations.declaration_views(actor=actor, employer=employer, period_start=month)
        period_error = ""
    except RuleError as exc:
        views, period_error = [], rule_message(exc.code, exc.message)
    status = 400 if form is not None and form.errors else 200
    return render(
        request,
        "billing/declarations.html",
        {
            "views": views,
            "employer": employer,
            "employers": employers,
            "month": month,
            "period_error": period_error,
            "form": form,
            "failed_person": failed_person,
            "upload_form": UploadForm(),
        },
        status=status,
    )


@login_required
def declaration_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run (nothing saved) → report; if every row is good, an Import button."""
    actor = page_actor(request)
    require(permissions.may_declare(actor))
    employers = selectors.employers_for(actor)
    employer = pick(request.GET.get("employer") or request.POST.get("employer"), employers)
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "employer": employer, "employers": employers}
    if request.method == "POST" and form.is_valid():
        checked = upload_check(
            form,
            lambda upload: declarations.declarations_import(
                actor=actor,
                employer=employer,
                filename=upload.name,
                data=upload.data,
                dry_run=True,
            ),
        )
        if checked is not None:
            upload, report = checked
            token = ""
            if report.ok:
                token = DECLARATIONS_PENDING.keep(
                    request,
                    employer=employer.pk,
                    name=upload.name,
                    data=base64.b64encode(upload.data).decode(),
                )
            context.update(report=report, token=token, filename=upload.name)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "billing/declarations_import.html", context, status=status)


@login_required
@require_POST
def declaration_import_apply(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.may_declare(actor))
    pending = DECLARATIONS_PENDING.take(request)
    if pending is None:
        return redirect("billing:declarations_import")
    employers = selectors.employers_for(actor)
    employer = next((e for e in employers if e.pk == pending["employer"]), None)
    if employer is None:
        raise PermissionDenied
    try:
        report = declarations.declarations_import(
            actor=actor,
            employer=employer,
            filename=pending["name"],
            data=base64.b64decode(pending["data"]),
            dry_run=False,
        )
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
        return redirect("billing:declarations_import")
    DECLARATIONS_PENDING.done(request)
    if report.committed:
        messages.success(
            request,
            _("%(new)d bases declared, %(same)d unchanged.")
            % {"new": report.declared, "same": report.unchanged},
        )
    else:
        messages.error(request, _("The file changed since the check: nothing was saved."))
    return redirect(f"{reverse('billing:declarations')}?employer={employer.pk}")


@login_required
def declaration_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(declarations.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="base-declarations.csv"'
    return response
