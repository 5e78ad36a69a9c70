"""Bills (HR: their employer's; agency: their regions'), one bill with its lines, and its CSV, XLSX
and PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from expatsi import spreadsheets
from expatsi.billing import bill_people, exports, permissions, provenance, selectors
from expatsi.billing.models import Bill, BillKind
from expatsi.billing.views.common import (
    balance_on,
    bill_row_or_404,
    day_asked,
    one_employer_at_a_time,
    page_actor,
    pick,
    require,
)
from expatsi.employers.display import display_name
from expatsi.employers.models import Employer
from expatsi.rules.dates import Month
from expatsi.web import lists


def _months(today: date, asked: str) -> list[tuple[str, str]]:
    """The month filter's choices: the last three years, newest first (no query: every bill's
    month is one of these or was asked for by name)."""
    months = [str(Month.of(today).plus(-i)) for i in range(36)]
    if asked and asked not in months:
        months.append(asked)
    return [(m, m) for m in months]


def _by_month(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(month=value)


def _by_kind(qs: QuerySet[Any], value: str) -> QuerySet[Any]:
    return qs.filter(kind=value)


def _bill_search(qs: QuerySet[Any], query: str) -> QuerySet[Any]:
    return selectors.bill_search(qs, query)


def _bill_row(bill: Bill) -> list[spreadsheets.Cell]:
    return [
        bill.number,
        bill.month,
        str(bill.get_kind_display()),
        display_name(bill.employer),
        bill.employer.uscc,
        Decimal(bill.total) / 100,
        bill.due_date,
    ]


BILLS = lists.ListSpec(
    columns=(
        lists.Column("number", gettext_lazy("Bill number"), ("number",)),
        lists.Column("month", gettext_lazy("Month"), ("month",)),
        lists.Column("kind", gettext_lazy("Kind")),
        lists.Column("employer", gettext_lazy("Employer"), ("employer__name",)),
        lists.Column("total", gettext_lazy("Total")),
        lists.Column("due", gettext_lazy("Due date"), ("due_date",)),
        lists.Column("outstanding", gettext_lazy("Outstanding")),
        lists.Column("late_fee", gettext_lazy("Late fee")),
        lists.Column("status", gettext_lazy("Status")),
        lists.Column("figures", gettext_lazy("Figures")),
    ),
    default_sort="-month",
    filters=(
        lists.Filter("month", gettext_lazy("Month"), (), _by_month, gettext_lazy("Any month")),
        lists.Filter(
            "kind", gettext_lazy("Kind"), BillKind.choices, _by_kind, gettext_lazy("Any kind")
        ),
    ),
    search=_bill_search,
    search_label=gettext_lazy("Bill number, employer name or unified social credit code"),
    export_name="bills",
    export_header=("number", "month", "kind", "employer", "uscc", "total_yuan", "due_date"),
    export_row=_bill_row,
    keep=("employer", "on"),
)


@login_required
def bill_list(request: HttpRequest) -> HttpResponseBase:
    """Bills on the list toolkit: a page at a time, searched, filtered and sorted in the database
    (a region's bills run to hundreds of thousands; the page used to render the newest 500). The
    employer picker is offered while the reader's employers fit in a list (HR); agency staff
    find an employer's bills by searching its name or code."""
    actor = page_actor(request)
    if permissions.has_own_record(actor):
        return redirect("billing:me")
    require(permissions.may_see_bills(actor))
    on = day_asked(request)
    employers, more = selectors.employers_pickable(actor)
    employer: Employer | None = None
    if one_employer_at_a_time(actor):
        employer = pick(request.GET.get("employer"), employers)
    elif request.GET.get("employer"):
        employer = selectors.employer_visible(actor, request.GET["employer"])
    month_filter = BILLS.filters[0]
    spec = replace(
        BILLS,
        filters=(
            replace(
                month_filter,
                choices=_months(timezone.localdate(), request.GET.get("month", "")[:7]),
            ),
            *BILLS.filters[1:],
        ),
    )
    qs = selectors.bills_filtered(actor, employer_id=employer.pk if employer else None)
    found = lists.response_or_page(
        spec, request, qs.select_related("employer").prefetch_related("allocations")
    )
    if not isinstance(found, lists.ListPage):
        return found
    return render(
        request,
        "billing/bills.html",
        {
            "list": found,
            "rows": selectors.bill_rows(found.rows, on),
            "employer": employer,
            "employers": employers if not more else [],
            "any_employer": not one_employer_at_a_time(actor),  # the picker offers "all"
            "balance": balance_on(actor, employer, on),
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
