"""A bill's lines a page at a time: ``GET /billing/bills/{id}/lines?cursor=…&limit=…``.

A bill of a big employer has hundreds of thousands of lines; the bill itself (``GET /bills/{id}``)
says how many and links here. Pages follow the portal's lists (expatsi.web.lists): keyset paging
on (person, insurance, line id), so a deep page costs what the first costs, and a signed cursor
bound to the bill and the page size — a cursor of another bill, size or an edited one is 400
``invalid_cursor``, never a page of something else. All lines of a person are consecutive (their
subtotal is the sum of their lines). Scoped like the bill: a bill the caller may not see is a 404.
"""

# No ``from __future__ import annotations``: ninja reads the query parameters' annotations.
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from ninja import Query, Router, Schema
from pydantic import Field

from expatsi.access.auth import request_actor
from expatsi.billing import exports, selectors
from expatsi.billing.api.bills import LineOut
from expatsi.billing.models import INSURANCE_CODES, BillLine
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_yuan
from expatsi.web import lists

router = Router()

LIMIT_DEFAULT = 50  # as the portal's lists
LIMIT_MAX = 500

LINES = lists.ListSpec(
    columns=[lists.Column("person", "person", ("person_id", "insurance"))],
    default_sort="person",
)


class LinesQuery(Schema):
    cursor: str = Field("", max_length=2000, description="next_cursor of the page before")
    limit: int = Field(LIMIT_DEFAULT, ge=1, le=LIMIT_MAX, description="lines per page")


class LinePageOut(Schema):
    items: list[LineOut]
    # The next page's cursor and address; null on the last page.
    next_cursor: str | None
    next_url: str | None


def line_item(view: exports.LineView) -> dict[str, Any]:
    """A line as ``LineOut`` shows it, built directly: resolving LineOut's seventeen fields through
    django-ninja's attribute look-ups took longer than the page's queries. The test suite holds
    the two equal (tests/billing/web/test_bill_lines_api.py)."""
    line = view.line
    return {
        "id": line.pk,
        "person_id": line.person_id,
        "person_name": line.person.full_name,
        "insurance": INSURANCE_CODES[line.insurance],
        "base": format_yuan(line.base),
        "base_reason": view.reason,
        "employer_rate": view.employer_rate,
        "employee_rate": view.employee_rate,
        "employer_amount": format_yuan(line.employer_amount),
        "employee_amount": format_yuan(line.employee_amount),
        "exempt": view.exempt,
        "merged": view.merged,
        "default_work_injury_rate": view.default_rate,
        "note": line.note,
        "explanation": view.explanation,
        "status": view.status,
        "status_text": view.status_label,
    }


@router.get("/bills/{bill_id}/lines", response=LinePageOut, url_name="bill_lines")
def bill_lines(request: HttpRequest, bill_id: int, params: Query[LinesQuery]) -> JsonResponse:
    """The bill's lines, person after person (by person id; each person's insurances in order),
    ``limit`` at a time; ``next_cursor`` continues after the last line shown."""
    bill = selectors.bill_get(actor=request_actor(request), bill_id=bill_id)
    state = lists.api_state(
        LINES, cursor=params.cursor, per_page=params.limit, scope={"bill": str(bill.pk)}
    )
    if state.cursor_invalid:
        raise RuleError(
            "invalid_cursor",
            "this cursor was not made for this bill and page size: start again without one",
            "cursor",
        )
    qs: QuerySet[BillLine] = selectors.bill_lines(bill)
    page = lists.paginate(LINES, state, lists.apply(LINES, state, qs))
    next_cursor = page.next_cursor if page.has_next else None
    next_url = None
    if next_cursor:
        base = reverse("api-v1:bill_lines", args=[bill.pk])
        next_url = f"{base}?{urlencode({'cursor': next_cursor, 'limit': params.limit})}"
    return JsonResponse(
        {
            "items": [line_item(v) for v in exports.line_views(bill, page.rows)],
            "next_cursor": next_cursor,
            "next_url": next_url,
        }
    )
