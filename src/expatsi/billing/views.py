"""Billing pages: bills, lines and downloads, payments and arrears, base declarations (HR); the
employee's contributions and account statement; collection, billing runs with live progress,
payments and bank statements (agency).

Views are thin: build the actor, call one selector or service, show a RuleError next to its field.
"""

from __future__ import annotations

import base64
import secrets
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from expatsi import tabular
from expatsi.access.actors import Actor, actor_for_user, client_ip
from expatsi.billing import declarations, exports, provenance, retirement, selectors, tasks
from expatsi.billing.forms import (
    BankStatementForm,
    DeclarationForm,
    PaymentForm,
    RunForm,
    UploadForm,
)
from expatsi.billing.models import Bill
from expatsi.billing.payments import (
    bank_statement_import,
    bill_state,
    employer_balance,
    payment_for_bill,
    payment_record,
)
from expatsi.employers.display import display_name
from expatsi.employers.models import Employer
from expatsi.employers.selectors import employers_visible
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.money import format_rate
from expatsi.web.errors import rule_message
from expatsi.web.formatting import yuan

DECLARATIONS_SESSION_KEY = "billing_declarations_pending"
BANK_SESSION_KEY = "billing_bank_pending"
MAX_UPLOAD = 5 * 1024 * 1024


def _actor(request: HttpRequest) -> Actor:
    return actor_for_user(request.user, ip=client_ip(request))


def _require(actor: Actor, *kinds: str) -> None:
    if actor.kind not in kinds:
        raise PermissionDenied


def _employers(actor: Actor) -> list[Employer]:
    return list(employers_visible(actor).order_by("name", "pk"))


def _pick(raw: Any, employers: list[Employer]) -> Employer:
    if not employers:
        raise PermissionDenied
    return next((e for e in employers if str(e.pk) == str(raw)), employers[0])


def _on(request: HttpRequest) -> date:
    raw = request.GET.get("on", "")
    try:
        return date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _bill(actor: Actor, pk: int) -> Bill:
    try:
        return selectors.bill_get(actor=actor, bill_id=pk)
    except NotFound:
        raise Http404 from None


# --- bills (HR and agency) ------------------------------------------------------------------------


@login_required
def bill_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if actor.kind == "employee":
        return redirect("billing:me")
    _require(actor, "hr", "agency")
    on = _on(request)
    employers = _employers(actor)
    employer: Employer | None = None
    if actor.kind == "hr":
        employer = _pick(request.GET.get("employer"), employers)
    elif request.GET.get("employer"):
        employer = next((e for e in employers if str(e.pk) == request.GET["employer"]), None)
    month = request.GET.get("month", "").strip()
    try:
        qs = selectors.bills_filtered(
            actor, employer_id=employer.pk if employer else None, month=month
        )
    except RuleError:
        qs, month = (
            selectors.bills_filtered(actor, employer_id=employer.pk if employer else None),
            "",
        )
    rows = selectors.bill_rows(qs[:500], on)
    balance = employer_balance(employer, on) if employer else None
    return render(
        request,
        "billing/bills.html",
        {
            "rows": rows,
            "employer": employer,
            "employers": employers,
            "balance": balance,
            "month": month,
            "on": on,
            "actor": actor,
        },
    )


@login_required
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    bill = _bill(actor, pk)
    on = _on(request)
    state = bill_state(bill, on)
    lines = exports.line_views(bill, selectors.bill_lines(bill))
    allocations = bill.allocations.select_related("payment").order_by("paid_on", "id")
    return render(
        request,
        "billing/bill.html",
        {
            "bill": bill,
            "state": state,
            "row": selectors.BillRow(bill, state),
            "lines": lines,
            "allocations": allocations,
            "on": on,
            "policy": provenance.bill_policy(bill),
        },
    )


@login_required
def bill_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    actor = _actor(request)
    bill = _bill(actor, pk)
    lines = list(selectors.bill_lines(bill))
    name = f"bill-{bill.number}"
    if fmt == "csv":
        response = HttpResponse(
            "\ufeff" + exports.bill_csv(bill, lines), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "xlsx":
        response = HttpResponse(
            exports.bill_xlsx(bill, lines, bill_state(bill)),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "pdf":
        response = HttpResponse(
            exports.bill_pdf(bill, lines, bill_state(bill)), content_type="application/pdf"
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
def payments(request: HttpRequest) -> HttpResponse:
    """Payments received and bills in arrears, with the employer's balance (HR: its own)."""
    actor = _actor(request)
    _require(actor, "hr", "agency")
    on = _on(request)
    employers = _employers(actor)
    employer = _pick(request.GET.get("employer"), employers) if actor.kind == "hr" else None
    qs = selectors.payments_visible(actor)
    arrears = selectors.arrears(actor, on)
    if employer is not None:
        qs = qs.filter(employer=employer)
        arrears = [r for r in arrears if r.bill.employer_id == employer.pk]
    return render(
        request,
        "billing/payments.html",
        {
            "payments": [(p, list(selectors.payment_allocations(p))) for p in qs[:200]],
            "arrears": arrears,
            "employer": employer,
            "employers": employers,
            "balance": employer_balance(employer, on) if employer else None,
            "on": on,
            "actor": actor,
        },
    )


# --- declarations (HR and agency) ----------------------------------------------------------------


def _period_month(raw: str) -> Month:
    try:
        return Month.parse(raw)
    except RuleError:
        return Month.of(timezone.localdate())


@login_required
def declaration_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "hr", "agency")
    employers = _employers(actor)
    employer = _pick(request.GET.get("employer") or request.POST.get("employer"), employers)
    month = _period_month(request.GET.get("period") or request.POST.get("period") or "")
    form: DeclarationForm | None = None
    failed_person: int | None = None
    if request.method == "POST":
        form = DeclarationForm(request.POST)
        if form.is_valid():
            try:
                person = _person(employer, form.cleaned_data["person"])
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
        failed_person = _int(request.POST.get("person"))
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


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def _person(employer: Employer, person_id: int) -> Any:

    person = Person.objects.filter(pk=person_id, employments__employer=employer).first()
    if person is None:
        raise RuleError("unknown_person", "no such employee of this employer", "person_id")
    return person


@login_required
def declaration_import(request: HttpRequest) -> HttpResponse:
    """Upload → dry run (nothing saved) → report; if every row is good, an Import button."""
    actor = _actor(request)
    _require(actor, "hr", "agency")
    employers = _employers(actor)
    employer = _pick(request.GET.get("employer") or request.POST.get("employer"), employers)
    form = UploadForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "employer": employer, "employers": employers}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(MAX_UPLOAD + 1)
        try:
            if len(data) > MAX_UPLOAD:
                raise RuleError("too_large", "the file is larger than 5 MB", "file")
            report = declarations.declarations_import(
                actor=actor, employer=employer, filename=upload.name, data=data, dry_run=True
            )
        except RuleError as exc:
            form.add_error("file", rule_message(exc.code, exc.message))
        else:
            token = ""
            if report.ok:
                token = secrets.token_urlsafe(16)
                request.session[DECLARATIONS_SESSION_KEY] = {
                    "token": token,
                    "employer": employer.pk,
                    "name": upload.name,
                    "data": base64.b64encode(data).decode(),
                }
            context.update(report=report, token=token, filename=upload.name)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "billing/declarations_import.html", context, status=status)


@login_required
@require_POST
def declaration_import_apply(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "hr", "agency")
    pending = request.session.get(DECLARATIONS_SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("That import is no longer pending: upload the file again."))
        return redirect("billing:declarations_import")
    employer = next((e for e in _employers(actor) if e.pk == pending["employer"]), None)
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
    del request.session[DECLARATIONS_SESSION_KEY]
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


# --- the employee -------------------------------------------------------------------------------


@login_required
def me(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "employee")
    on = _on(request)
    try:
        statement = selectors.my_statement(actor, on)
        statement_error = ""
    except RuleError as exc:
        statement, statement_error = None, rule_message(exc.code, exc.message)
    return render(
        request,
        "billing/me.html",
        {
            "contributions": selectors.my_contributions(actor),
            "months_counted": selectors.my_months_counted(actor),
            "statement": statement,
            "years": [(y, format_rate(y.rate_ppm)) for y in statement.years] if statement else [],
            "statement_error": statement_error,
            "statement_sources": provenance.statement_sources(statement) if statement else [],
            "on": on,
        },
    )


@login_required
def pension(request: HttpRequest) -> HttpResponse:
    """Retirement month and age, months still needed and the projected pension, line by line."""
    actor = _actor(request)
    _require(actor, "employee")
    on = _on(request)
    try:
        outlook, error = retirement.projection(actor, on), ""
    except RuleError as exc:
        outlook, error = None, rule_message(exc.code, exc.message)
    return render(request, "billing/pension.html", {"outlook": outlook, "error": error, "on": on})


@login_required
def person_pension(request: HttpRequest, pk: int) -> HttpResponse:
    """The same outlook for agency staff, for a person in their regions (else 404)."""
    actor = _actor(request)
    _require(actor, "agency")
    on = _on(request)
    try:
        outlook, error = retirement.projection(actor, on, person_id=pk), ""
    except NotFound:
        raise Http404 from None
    except RuleError as exc:
        outlook, error = None, rule_message(exc.code, exc.message)

    return render(
        request,
        "billing/pension.html",
        {"outlook": outlook, "error": error, "on": on, "person": Person.objects.get(pk=pk)},
    )


@login_required
def statement_pdf(request: HttpRequest, language: str) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "employee")
    if language not in ("en", "zh-hans"):
        raise Http404
    on = _on(request)

    person = Person.objects.get(pk=actor.person_id or 0)
    try:
        st = selectors.my_statement(actor, on)
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
        return redirect("billing:me")
    pdf = exports.statement_pdf(
        person=person,
        statement=st,
        months_counted=selectors.my_months_counted(actor),
        contributions=selectors.my_contributions(actor),
        language=language,
        on=on,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="account-statement-{on.isoformat()}-{language}.pdf"'
    )
    return response


# --- the agency ---------------------------------------------------------------------------------


@login_required
def collection(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "agency")
    on = _on(request)
    rows = selectors.collection(actor, region_code=request.GET.get("region", ""), on=on)
    runs = list(selectors.runs_visible(actor)[:10])
    return render(
        request,
        "billing/collection.html",
        {"rows": rows, "runs": runs, "on": on, "form": RunForm()},
    )


@login_required
def run_start(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "agency")
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


def _job_context(actor: Actor, key: str) -> tasks.JobProgress:
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
    actor = _actor(request)
    _require(actor, "agency")
    progress = _job_context(actor, key)
    return render(
        request,
        "billing/job.html",
        {"job": progress, "label": _job_labels()[progress.status]},
    )


@login_required
@require_POST
def job_resume(request: HttpRequest, key: str) -> HttpResponse:
    """Start an interrupted job again; it finishes what the killed worker had not."""
    actor = _actor(request)
    _require(actor, "agency")
    _job_context(actor, key)  # 404 for a job the actor may not see
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
    actor = _actor(request)
    _require(actor, "agency")
    p = _job_context(actor, key)
    return JsonResponse(
        {
            "status": p.status,
            "label": _job_labels()[p.status],
            "resumable": p.resumable,
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


@login_required
def payment_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "agency")
    employers = _employers(actor)
    form = PaymentForm(request.POST or None, employers=employers)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        amount = int(d["amount"] * 100)
        try:
            if d.get("bill_number"):
                if (
                    not selectors.bills_visible(actor)
                    .filter(number=d["bill_number"].strip())
                    .exists()
                ):
                    raise RuleError("unknown_bill", "no bill with this number", "bill_number")
                payment = payment_for_bill(
                    actor=actor,
                    bill_number=d["bill_number"].strip(),
                    amount=amount,
                    received_on=d["received_on"],
                )
            else:
                employer = next(e for e in employers if e.pk == d["employer"])
                payment = payment_record(
                    actor=actor,
                    employer=employer,
                    amount=amount,
                    received_on=d["received_on"],
                    reference=d.get("reference") or "",
                )
        except RuleError as exc:
            form.add_rule_error(exc)
        else:
            messages.success(
                request,
                _("Payment of %(amount)s from %(employer)s recorded.")
                % {
                    "amount": yuan(payment.amount),  # with ¥ (or 元) as everywhere
                    "employer": display_name(payment.employer),
                },
            )
            return redirect("billing:payments")
    status = 400 if form.errors else 200
    return render(request, "billing/payment_new.html", {"form": form}, status=status)


@login_required
def bank_import(request: HttpRequest) -> HttpResponse:
    """Upload a bank statement → dry run → Import (all rows or none)."""
    actor = _actor(request)
    _require(actor, "agency")
    form = BankStatementForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(MAX_UPLOAD + 1)
        try:
            if len(data) > MAX_UPLOAD:
                raise RuleError("too_large", "the file is larger than 5 MB", "file")
            text = tabular.csv_text(upload.name or "statement.csv", data)
            report = bank_statement_import(actor=actor, text=text, dry_run=True)
        except RuleError as exc:
            form.add_error("file", rule_message(exc.code, exc.message))
        else:
            token = ""
            if not report.errors:
                token = secrets.token_urlsafe(16)
                request.session[BANK_SESSION_KEY] = {"token": token, "text": text}
            context.update(report=report, token=token, filename=upload.name)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "billing/bank_import.html", context, status=status)


@login_required
@require_POST
def bank_import_apply(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    _require(actor, "agency")
    pending = request.session.get(BANK_SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("That import is no longer pending: upload the file again."))
        return redirect("billing:bank_import")
    try:
        report = bank_statement_import(actor=actor, text=pending["text"], dry_run=False)
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
        return redirect("billing:bank_import")
    del request.session[BANK_SESSION_KEY]
    if report.errors:
        messages.error(request, _("The statement no longer checks: nothing was recorded."))
        return redirect("billing:bank_import")
    messages.success(
        request,
        _("%(new)d payments recorded, %(old)d already recorded before.")
        % {"new": report.recorded, "old": report.already_recorded},
    )
    return redirect("billing:payments")
