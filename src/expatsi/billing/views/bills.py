"""Bills (HR: their employer's; agency: their regions'), one bill with its lines, and its CSV, XLSX
and PDF."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from expatsi.billing import bill_people, exports, permissions, provenance, selectors
from expatsi.billing.views.common import (
    balance_on,
    bill_row_or_404,
    day_asked,
    one_employer_at_a_time,
    page_actor,
    pick,
    require,
)
from expatsi.employers.models import Employer
from expatsi.rules.errors import RuleError


@login_required
def bill_list(request: HttpRequest) -> HttpResponse:
    actor = page_actor(request)
    if permissions.has_own_record(actor):
        return redirect("billing:me")
    require(permissions.may_see_bills(actor))
    on = day_asked(request)
    employers = selectors.employers_for(actor)
    employer: Employer | None = None
    if one_employer_at_a_time(actor):
        employer = pick(request.GET.get("employer"), employers)
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
    balance = balance_on(actor, employer, on)
    return render(
        request,
        "billing/bills.html",
        {
            "rows": rows,
            "employer": employer,
            "employers": employers,
            "any_employer": not one_employer_at_a_time(actor),  # the picker offers "all"
            "balance": balance,
            "month": month,
            "on": on,
            "actor": actor,
        },
    )


@login_required
def bill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = page_actor(request)
    row = bill_row_or_404(actor, pk, day_asked(request))
    bill, on = row.bill, row.on
    # By person, a page at a time, ¥0.00 lines left out (billing/bill_people.py).
    people = bill_people.bill_page(
        bill, query=request.GET.get("q", ""), page=request.GET.get("page", 1)
    )
    return render(
        request,
        "billing/bill.html",
        {
            "bill": bill,
            "state": row.state,
            "row": row,
            "people": people,
            "allocations": selectors.bill_allocations(bill),
            "on": on,
            "policy": provenance.bill_policy(bill),
        },
    )


@login_required
def bill_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    actor = page_actor(request)
    row = bill_row_or_404(actor, pk)
    bill = row.bill
    name = f"bill-{bill.number}"
    if fmt == "csv":
        lines = list(selectors.bill_lines(bill))
        response = HttpResponse(
            "\ufeff" + exports.bill_csv(bill, lines), content_type="text/csv; charset=utf-8"
        )
    elif fmt == "xlsx":
        lines = list(selectors.bill_lines(bill))
        response = HttpResponse(
            exports.bill_xlsx(bill, lines, row.state),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "pdf":
        pdf = exports.bill_pdf(
            bill,
            row.state,
            insurances=bill_people.bill_insurance_totals(bill),
            people=bill_people.bill_person_totals(bill),
        )
        response = HttpResponse(pdf, content_type="application/pdf")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
