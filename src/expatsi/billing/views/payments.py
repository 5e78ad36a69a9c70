"""Payments received and bills in arrears (HR: their employer's; agency: their regions'); a
payment entered by agency staff; a bank statement imported by them (preview, then apply)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from expatsi import spreadsheets, tabular
from expatsi.billing import permissions, selectors
from expatsi.billing.forms import BankStatementForm, PaymentForm
from expatsi.billing.models import Payment
from expatsi.billing.payments import BankImport
from expatsi.billing.services import bank_statement_import, payment_for_bill, payment_record
from expatsi.billing.views.common import (
    balance_on,
    day_asked,
    one_employer_at_a_time,
    page_actor,
    pick,
    require,
)
from expatsi.employers.display import display_name
from expatsi.employers.models import Employer
from expatsi.rules.errors import RuleError
from expatsi.web import lists
from expatsi.web.errors import rule_message
from expatsi.web.formatting import yuan
from expatsi.web.uploads import PendingUpload, Upload, upload_check

BANK_PENDING = PendingUpload("billing_bank_pending")
ARREARS_SHOWN = 200  # the oldest first; the API pages through all of them


def _payment_search(qs: QuerySet[Any], query: str) -> QuerySet[Any]:
    text = query.strip()
    return qs.filter(
        Q(reference__icontains=text)
        | Q(employer__name__icontains=text)
        | Q(employer__name_zh__icontains=text)
        | Q(employer__uscc__istartswith=text.upper())
    )


def _payment_row(payment: Payment) -> list[spreadsheets.Cell]:
    return [
        payment.received_on,
        display_name(payment.employer),
        payment.employer.uscc,
        Decimal(payment.amount) / 100,
        payment.reference,
        payment.source,
    ]


PAYMENTS = lists.ListSpec(
    columns=(
        lists.Column("received", gettext_lazy("Received on"), ("received_on",)),
        lists.Column("employer", gettext_lazy("Employer"), ("employer__name",)),
        lists.Column("amount", gettext_lazy("Amount"), ("amount",)),
        lists.Column("reference", gettext_lazy("Bank reference")),
        lists.Column("source", gettext_lazy("Source")),
        lists.Column("applied", gettext_lazy("Applied to")),
    ),
    default_sort="-received",
    search=_payment_search,
    search_label=gettext_lazy("Bank reference, employer name or unified social credit code"),
    export_name="payments",
    export_header=("received_on", "employer", "uscc", "amount_yuan", "reference", "source"),
    export_row=_payment_row,
    keep=("employer", "on"),
)


@login_required
def payments(request: HttpRequest) -> HttpResponseBase:
    """Arrears (the oldest, picked in SQL) and the payments received on the list toolkit (a
    region receives thousands a month; the page showed the newest 200)."""
    """Payments received and bills in arrears, with the employer's balance (HR: its own)."""
    actor = page_actor(request)
    require(permissions.may_see_bills(actor))
    on = day_asked(request)
    employers, more = selectors.employers_pickable(actor)
    employer: Employer | None = None
    if one_employer_at_a_time(actor):
        employer = pick(request.GET.get("employer"), employers)
    elif request.GET.get("employer"):  # agency staff: every employer unless they pick one
        employer = selectors.employer_visible(actor, request.GET["employer"])
    found = lists.response_or_page(
        PAYMENTS,
        request,
        selectors.payments_visible(actor, employer_id=employer.pk if employer else None),
    )
    if not isinstance(found, lists.ListPage):
        return found
    arrears = selectors.arrears(actor, on, employer_id=employer.pk if employer else None)
    shown = arrears[:ARREARS_SHOWN]
    return render(
        request,
        "billing/payments.html",
        {
            "list": found,
            "payments": [(p, list(selectors.payment_allocations(p))) for p in found.rows],
            "arrears": shown,
            # the whole count only when the page shows part: a region's arrears run to thousands
            "arrears_count": len(arrears) if len(shown) == ARREARS_SHOWN else len(shown),
            "employer": employer,
            "employers": [] if more else employers,
            "any_employer": not one_employer_at_a_time(actor),  # the picker offers "all"
            "balance": balance_on(actor, employer, on),
            "on": on,
            "actor": actor,
            "may_record": permissions.may_record_payment(actor),
        },
    )


@login_required
def payment_new(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.may_record_payment(actor))
    employers = selectors.employers_for(actor)
    form = PaymentForm(request.POST or None, employers=employers)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        amount = int(d["amount"] * 100)
        try:
            if d.get("bill_number"):
                if not selectors.bill_number_visible(actor, d["bill_number"]):
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
    actor = page_actor(request)
    require(permissions.may_import_bank_statement(actor))
    form = BankStatementForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}

    def dry_run(upload: Upload) -> tuple[str, BankImport]:
        text = tabular.csv_text(upload.name, upload.data)
        return text, bank_statement_import(actor=actor, text=text, dry_run=True)

    if request.method == "POST" and form.is_valid():
        checked = upload_check(form, dry_run)
        if checked is not None:
            upload, (text, report) = checked
            token = "" if report.errors else BANK_PENDING.keep(request, text=text)
            context.update(report=report, token=token, filename=upload.name)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "billing/bank_import.html", context, status=status)


@login_required
@require_POST
def bank_import_apply(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    require(permissions.may_import_bank_statement(actor))
    pending = BANK_PENDING.take(request)
    if pending is None:
        return redirect("billing:bank_import")
    try:
        report = bank_statement_import(actor=actor, text=pending["text"], dry_run=False)
    except RuleError as exc:
        messages.error(request, rule_message(exc.code, exc.message))
        return redirect("billing:bank_import")
    BANK_PENDING.done(request)
    if report.errors:
        messages.error(request, _("The statement no longer checks: nothing was recorded."))
        return redirect("billing:bank_import")
    messages.success(
        request,
        _("%(new)d payments recorded, %(old)d already recorded before.")
        % {"new": report.recorded, "old": report.already_recorded},
    )
    return redirect("billing:payments")
