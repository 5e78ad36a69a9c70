"""Bills with their lines and where each stands; an employer's balance, arrears, and collection per
region and month."""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# through a wrapper living in another module, where string annotations would not resolve.
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from expatsi.access.auth import Pagination, request_actor
from expatsi.access.validation import Id
from expatsi.billing import exports, provenance, selectors
from expatsi.billing.api.schemas import PolicySourceOut, Rate, Yuan
from expatsi.billing.models import INSURANCE_CODES, Bill
from expatsi.rules.errors import RuleError

router = Router()


class BillStateOut(Schema):
    # from expatsi.billing.selectors.BillRow: the bill on the day asked.
    principal_paid: Yuan = Field(alias="state.principal_paid")
    outstanding: Yuan = Field(alias="state.outstanding")
    late_fee: Yuan = Field(alias="state.late_fee")
    late_fee_paid: Yuan = Field(alias="state.fee_paid")
    late_fee_outstanding: Yuan = Field(alias="state.fee_outstanding")
    days_overdue: int = Field(alias="state.days_overdue")
    status: str
    on: date


class BillPolicyOut(Schema):
    # from expatsi.billing.models.Bill: the policy its amounts rest on.
    version: str = Field(alias="policy_version")
    period: str
    status: str = Field(alias="policy_status")  # the weakest status of its figures; "" not recorded
    status_text: str
    figures: list[PolicySourceOut]
    due_date_rule: PolicySourceOut | None

    @staticmethod
    def resolve_period(bill: Bill) -> str:
        return provenance.recorded_period(bill)

    @staticmethod
    def resolve_status_text(bill: Bill) -> str:
        return provenance.status_label(bill.policy_status)

    @staticmethod
    def resolve_figures(bill: Bill) -> list[provenance.Figure]:
        return provenance.figures(bill)

    @staticmethod
    def resolve_due_date_rule(bill: Bill) -> provenance.Figure | None:
        return provenance.due_rule(bill)


class BillOut(Schema):
    # from expatsi.billing.selectors.BillRow.
    id: int = Field(alias="bill.pk")
    number: str = Field(alias="bill.number")
    employer_id: int = Field(alias="bill.employer_id")
    employer_name: str = Field(alias="bill.employer.name")
    region_code: str = Field(alias="bill.region_code")
    month: str = Field(alias="bill.month")
    kind: str = Field(alias="bill.kind")
    employer_total: Yuan = Field(alias="bill.employer_total")
    employee_total: Yuan = Field(alias="bill.employee_total")
    total: Yuan = Field(alias="bill.total")
    due_date: date = Field(alias="bill.due_date")
    issued_at: datetime = Field(alias="bill.issued_at")
    policy_version: str = Field(alias="bill.policy_version")
    # CONFIRMED, SECONDARY, CONVENTION, UNCONFIRMED; "" not recorded
    policy_status: str = Field(alias="bill.policy_status")
    policy: BillPolicyOut = Field(alias="bill")
    reason: str = Field(alias="bill.reason")
    state: BillStateOut

    @staticmethod
    def resolve_state(row: selectors.BillRow) -> selectors.BillRow:
        return row


class LineOut(Schema):
    # from expatsi.billing.exports.LineView, as the bill page shows the line.
    id: int = Field(alias="line.pk")
    person_id: int = Field(alias="line.person_id")
    person_name: str = Field(alias="line.person.full_name")
    insurance: str
    base: Yuan = Field(alias="line.base")
    base_reason: str = Field(alias="reason")
    employer_rate: Rate
    employee_rate: Rate
    employer_amount: Yuan = Field(alias="line.employer_amount")
    employee_amount: Yuan = Field(alias="line.employee_amount")
    exempt: bool
    merged: bool
    default_work_injury_rate: bool = Field(alias="default_rate")
    note: str = Field(alias="line.note")
    explanation: str
    status: str  # the weakest status of the figures behind this line
    status_text: str = Field(alias="status_label")

    @staticmethod
    def resolve_insurance(view: exports.LineView) -> str:
        return INSURANCE_CODES[view.line.insurance]


class EarlierPolicyOut(Schema):
    # from expatsi.billing.provenance.EarlierPolicy.
    bill_number: str = Field(alias="number")
    period: str = Field(alias="span")
    status: str
    status_text: str = Field(alias="label")
    figures: list[PolicySourceOut]


# ``?include=lines`` puts the lines in the bill's body only up to this many (a bill of a big
# employer has hundreds of thousands: those are paged, GET /bills/{id}/lines).
INCLUDE_LINES_MAX = 1000


@dataclass(frozen=True)
class BillDetail(selectors.BillRow):
    line_count: int = 0
    people_count: int = 0
    lines_url: str = ""
    lines: list[exports.LineView] | None = None


class BillDetailOut(BillOut):
    # from BillDetail (the bill's own fields through its row).
    line_count: int  # lines on the bill (five insurances per person, adjustments fewer)
    people_count: int  # people with a line (a subtotal each)
    lines_url: str  # the first page of the lines, GET /bills/{id}/lines
    # Only with ?include=lines (and at most INCLUDE_LINES_MAX lines): otherwise null.
    lines: list[LineOut] | None
    earlier_policies: list[EarlierPolicyOut]  # an adjustment after a new notice: the old side

    @staticmethod
    def resolve_earlier_policies(detail: BillDetail) -> list[provenance.EarlierPolicy]:
        return provenance.bill_policy(detail.bill).earlier


class BalanceOut(Schema):
    # from expatsi.billing.selectors.Balance.
    employer_id: int = Field(alias="employer.pk")
    on: date
    billed: Yuan = Field(alias="amounts.billed")
    paid: Yuan = Field(alias="amounts.paid")
    principal_outstanding: Yuan = Field(alias="amounts.principal_outstanding")
    late_fees_outstanding: Yuan = Field(alias="amounts.late_fees_outstanding")
    credit: Yuan = Field(alias="amounts.credit")
    total_due: Yuan = Field(alias="amounts.total_due")


class CollectionOut(Schema):
    # from expatsi.billing.selectors.Collection.
    region_code: str
    month: str
    bills: int
    billed: Yuan
    paid: Yuan
    outstanding: Yuan
    late_fees: Yuan
    late_fees_paid: Yuan


@router.get("/bills", response=list[BillOut])
@paginate(Pagination)
def bill_list(
    request: HttpRequest,
    employer_id: Id | None = None,
    region_code: str = "",
    month: str = "",
    kind: str = "",
    status: str = "",
    on: date | None = None,
) -> list[selectors.BillRow]:
    """Bills the caller may see (HR: its employers; agency: its regions), newest month first, with
    where each stands on ``on`` (default today): paid, outstanding, late fee. ``status`` filters by
    paid, overpaid, partly_paid, overdue or open."""
    day = on or timezone.localdate()
    qs = selectors.bills_filtered(
        request_actor(request),
        employer_id=employer_id,
        region_code=region_code,
        month=month,
        kind=kind,
    )
    rows = selectors.bill_rows(qs, day)
    return [r for r in rows if r.status == status] if status else rows


@router.get("/bills/{bill_id}", response=BillDetailOut)
def bill_detail(
    request: HttpRequest,
    bill_id: int,
    on: date | None = None,
    include: Literal["", "lines"] = "",
) -> BillDetail:
    """One bill: its header, totals and where it stands, how many lines and people it has, and
    ``lines_url``, the first page of its lines (``GET /bills/{id}/lines``, a page at a time).

    Changed: the lines used to come in the body, whatever their number. ``?include=lines`` still
    puts them there (``lines``; null without it) for a bill of at most 1000 lines; a bigger one is
    400 ``too_many_lines``: page it."""
    row = selectors.bill_row(actor=request_actor(request), bill_id=bill_id, on=on)
    line_count, people_count = selectors.bill_line_counts(row.bill)
    lines = None
    if include == "lines":
        if line_count > INCLUDE_LINES_MAX:
            raise RuleError(
                "too_many_lines",
                f"this bill has {line_count} lines, more than {INCLUDE_LINES_MAX} in one body: "
                "page them with GET /api/v1/billing/bills/{id}/lines",
                "include",
            )
        lines = exports.line_views(row.bill, selectors.bill_lines(row.bill))
    return BillDetail(
        row.bill,
        row.state,
        row.on,
        line_count,
        people_count,
        reverse("api-v1:bill_lines", args=[row.bill.pk]),
        lines,
    )


@router.get("/arrears", response=list[BillOut])
@paginate(Pagination)
def arrears_list(request: HttpRequest, on: date | None = None) -> Sequence[selectors.BillRow]:
    """Bills past their due date with principal outstanding, oldest first."""
    return selectors.arrears(request_actor(request), on or timezone.localdate())


@router.get("/employers/{employer_id}/balance", response=BalanceOut)
def balance(request: HttpRequest, employer_id: int, on: date | None = None) -> selectors.Balance:
    """What the employer owes on ``on``: principal and late fees outstanding, less its credit."""
    return selectors.balance_get(actor=request_actor(request), employer_id=employer_id, on=on)


@router.get("/collection", response=list[CollectionOut])
@paginate(Pagination)
def collection_list(
    request: HttpRequest, region_code: str = "", month: str = "", on: date | None = None
) -> list[selectors.Collection]:
    """Agency staff: billed, paid, outstanding and late fees per region and month."""
    return selectors.collection(request_actor(request), region_code=region_code, month=month, on=on)
