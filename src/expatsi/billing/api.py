"""REST API for billing: base declarations, bills, payments, bank statements, billing runs, and the
employee's own contributions and account.

Thin: schema in → one service or selector call → schema out. Amounts are yuan strings with two
decimals, rates percentages. A bill, payment or run the caller may not see is a 404.
"""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# through a wrapper living in another module, where string annotations would not resolve.
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from expatsi import tabular
from expatsi.access.auth import Pagination, api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Id
from expatsi.billing import declarations, exports, provenance, retirement, selectors, tasks
from expatsi.billing.exports import base_reason
from expatsi.billing.models import INSURANCE_CODES, Bill, BillingRun, BillLine, Payment
from expatsi.billing.payments import (
    bank_statement_import,
    bill_state,
    employer_balance,
    payment_for_bill,
    payment_record,
)
from expatsi.employers.selectors import employer_get
from expatsi.insurance.selectors import person_get
from expatsi.rules.dates import Month
from expatsi.rules.errors import Forbidden, NotFound, RuleError
from expatsi.rules.money import format_rate, format_yuan, parse_yuan

router = Router(tags=["billing"], auth=api_auth)


# --- schemas ---------------------------------------------------------------------------------


class InsuranceBaseOut(Schema):
    insurance: str
    base: str
    base_reason: str
    lower_limit: str
    upper_limit: str


class DeclarationOut(Schema):
    person_id: int
    person_name: str
    employer_id: int
    period_start: str
    period_end: str
    declared_wage: str | None
    contract_wage: str | None
    wage: str  # what the run uses: the declaration, else the contract wage
    source: Literal["declared", "contract"]
    base: str  # pension base after the limits
    base_reason: str
    bases: list[InsuranceBaseOut]


class DeclarationIn(Schema):
    employer_id: int
    person_id: int
    period_start: str  # YYYY-MM: any month of the contribution year
    wage: str  # yuan a month


class DeclarationRowErrorOut(Schema):
    row: int
    column: str
    code: str
    message: str


class DeclarationRowOut(Schema):
    row: int
    status: str
    person_id: int
    name: str
    period_start: str
    wage: str
    base: str
    base_reason: str


class DeclarationImportOut(Schema):
    dry_run: bool
    committed: bool
    declared: int
    unchanged: int
    rows: list[DeclarationRowOut]
    errors: list[DeclarationRowErrorOut]


class BillStateOut(Schema):
    principal_paid: str
    outstanding: str
    late_fee: str
    late_fee_paid: str
    late_fee_outstanding: str
    days_overdue: int
    status: str
    on: date


class PolicySourceOut(Schema):
    covers: list[str]  # limits, an insurance, work_injury_default, agreement:<country>, due_date
    status: str
    status_text: str  # the status in words, in the request's language
    source: str
    url: str  # the source's web address, "" if it has none


class BillPolicyOut(Schema):
    version: str
    period: str
    status: str  # weakest status of the figures the amounts rest on; "" not recorded
    status_text: str
    figures: list[PolicySourceOut]
    due_date_rule: PolicySourceOut | None


class BillOut(Schema):
    id: int
    number: str
    employer_id: int
    employer_name: str
    region_code: str
    month: str
    kind: str
    employer_total: str
    employee_total: str
    total: str
    due_date: date
    issued_at: datetime
    policy_version: str
    policy_status: str  # CONFIRMED, SECONDARY, CONVENTION, UNCONFIRMED; "" not recorded
    policy: BillPolicyOut
    reason: str
    state: BillStateOut


class LineOut(Schema):
    id: int
    person_id: int
    person_name: str
    insurance: str
    base: str
    base_reason: str
    employer_rate: str
    employee_rate: str
    employer_amount: str
    employee_amount: str
    exempt: bool
    merged: bool
    default_work_injury_rate: bool
    note: str
    explanation: str
    status: str  # the weakest status of the figures behind this line
    status_text: str


class EarlierPolicyOut(Schema):
    bill_number: str
    period: str
    status: str
    status_text: str
    figures: list[PolicySourceOut]


class BillDetailOut(BillOut):
    lines: list[LineOut]
    earlier_policies: list[EarlierPolicyOut]  # an adjustment after a new notice: the old side


class PaymentIn(Schema):
    employer_id: int | None = None
    bill_number: str = ""
    amount: str
    received_on: Day
    reference: str = ""
    external_id: str | None = None


class AllocationOut(Schema):
    bill_id: int
    bill_number: str
    principal: str
    late_fee: str


class PaymentOut(Schema):
    id: int
    employer_id: int
    employer_name: str
    amount: str
    received_on: date
    reference: str
    source: str
    external_id: str | None
    recorded_by: str
    recorded_at: datetime
    allocations: list[AllocationOut]


class BankRowErrorOut(Schema):
    row: int
    column: str
    message: str


class BankImportOut(Schema):
    dry_run: bool
    rows: int
    recorded: int
    already_recorded: int
    errors: list[BankRowErrorOut]


class BalanceOut(Schema):
    employer_id: int
    on: date
    billed: str
    paid: str
    principal_outstanding: str
    late_fees_outstanding: str
    credit: str
    total_due: str


class CollectionOut(Schema):
    region_code: str
    month: str
    bills: int
    billed: str
    paid: str
    outstanding: str
    late_fees: str
    late_fees_paid: str


class RunIn(Schema):
    region_code: str
    month: str  # the month to bill, or the first month to recalculate
    kind: Literal["run", "recalculate"] = "run"
    to_month: str = ""


class RunOut(Schema):
    id: int
    region_code: str
    month: str
    kind: str
    status: str
    employers_total: int
    employers_done: int
    people: int
    lines_written: int
    started_at: datetime
    heartbeat_at: datetime | None
    finished_at: datetime | None
    started_by: str
    error: str
    resumable: bool
    job: str | None
    attempt: int

    @staticmethod
    def resolve_status(obj: BillingRun) -> str:
        """``interrupted`` also for a run still marked running whose worker's lease expired."""
        return obj.shown_status

    @staticmethod
    def resolve_job(obj: BillingRun) -> str | None:
        return obj.job.key if obj.job is not None else None


class JobOut(Schema):
    job: str
    status: str  # queued, running, done, failed or interrupted (resume it at resume_url)
    resumable: bool
    attempt: int
    percent: int
    employers_total: int
    employers_done: int
    people: int
    lines_written: int
    error: str
    runs: list[RunOut]
    progress_url: str
    resume_url: str


class ContributionOut(Schema):
    month: str
    employer_id: int
    employer_name: str
    pension_base: str
    pension_employer: str
    pension_employee: str
    employer_total: str
    employee_total: str
    adjusted: bool
    exempt: list[str]
    status: str  # the weakest status of the figures behind the month's amounts
    status_text: str
    sources: list[PolicySourceOut]


class AccountYearOut(Schema):
    year: int
    opening: str
    credits: str
    interest: str
    closing: str
    rate: str
    rate_year: int
    months_counted: int
    provisional: bool
    status: str
    status_text: str
    explanation: str


class AccountOut(Schema):
    person_id: int
    on: date
    months_counted: int
    balance: str
    provisional: bool
    status: str  # the weakest of the crediting rates used and the method
    status_text: str
    sources: list[PolicySourceOut]
    years: list[AccountYearOut]
    explanation: list[str]


class PensionLineOut(Schema):
    key: str
    label: str
    value: str  # yuan with two decimals for money lines, else the figure as text
    money: bool
    status: str
    status_text: str
    explanation: list[str]


class PensionOut(Schema):
    person_id: int
    on: date
    retirement_month: str
    retirement_age: str  # e.g. 63y or 60y3m
    min_contribution_months: int
    months_so_far: int
    months_still_needed: int
    projected_months: int
    index: str
    projected_balance: str
    basic_pension: str | None
    account_pension: str | None
    total: str | None
    note: str  # why no pension is projected, when none is
    status: str  # the weakest status of every figure used
    status_text: str
    lines: list[PensionLineOut]


# --- converters ------------------------------------------------------------------------------


def _y(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


def _declaration(view: declarations.DeclarationView) -> dict[str, Any]:
    return {
        "person_id": view.person.pk,
        "person_name": view.person.full_name,
        "employer_id": view.employer.pk,
        "period_start": view.period_start,
        "period_end": view.period_end,
        "declared_wage": _y(view.declared),
        "contract_wage": _y(view.contract_wage),
        "wage": format_yuan(view.wage),
        "source": view.source,
        "base": format_yuan(view.pension.base),
        "base_reason": view.pension.reason,
        "bases": [
            {
                "insurance": b.insurance,
                "base": format_yuan(b.base),
                "base_reason": b.reason,
                "lower_limit": format_yuan(b.lower),
                "upper_limit": format_yuan(b.upper),
            }
            for b in view.bases
        ],
    }


def _source(f: provenance.Figure) -> dict[str, Any]:
    return {
        "covers": list(f.covers),
        "status": f.status,
        "status_text": f.label,
        "source": f.source,
        "url": f.url,
    }


def _policy(bill: Bill) -> dict[str, Any]:
    due = provenance.due_rule(bill)
    return {
        "version": bill.policy_version,
        "period": provenance.recorded_period(bill),
        "status": bill.policy_status,
        "status_text": provenance.status_label(bill.policy_status),
        "figures": [_source(f) for f in provenance.figures(bill)],
        "due_date_rule": _source(due) if due is not None else None,
    }


def _bill(bill: Bill, on: date) -> dict[str, Any]:
    row = selectors.BillRow(bill, bill_state(bill, on))
    s = row.state
    return {
        "id": bill.pk,
        "number": bill.number,
        "employer_id": bill.employer_id,
        "employer_name": bill.employer.name,
        "region_code": bill.region_code,
        "month": bill.month,
        "kind": bill.kind,
        "employer_total": format_yuan(bill.employer_total),
        "employee_total": format_yuan(bill.employee_total),
        "total": format_yuan(bill.total),
        "due_date": bill.due_date,
        "issued_at": bill.issued_at,
        "policy_version": bill.policy_version,
        "policy_status": bill.policy_status,
        "policy": _policy(bill),
        "reason": bill.reason,
        "state": {
            "principal_paid": format_yuan(s.principal_paid),
            "outstanding": format_yuan(s.outstanding),
            "late_fee": format_yuan(s.late_fee),
            "late_fee_paid": format_yuan(s.fee_paid),
            "late_fee_outstanding": format_yuan(s.fee_outstanding),
            "days_overdue": s.days_overdue,
            "status": row.status,
            "on": on,
        },
    }


def _line(line: BillLine, context: exports.BillContext) -> dict[str, Any]:
    status = context.status(line)
    return {
        "id": line.pk,
        "person_id": line.person_id,
        "person_name": line.person.full_name,
        "insurance": INSURANCE_CODES[line.insurance],
        "base": format_yuan(line.base),
        "base_reason": base_reason(line),
        "employer_rate": format_rate(line.employer_rate),
        "employee_rate": format_rate(line.employee_rate),
        "employer_amount": format_yuan(line.employer_amount),
        "employee_amount": format_yuan(line.employee_amount),
        "exempt": bool(line.flags & BillLine.FLAG_EXEMPT),
        "merged": bool(line.flags & BillLine.FLAG_MERGED),
        "default_work_injury_rate": bool(line.flags & 16) and line.insurance == 3,
        "note": line.note,
        "explanation": context.explanation(line),
        "status": status,
        "status_text": provenance.status_label(status),
    }


def _payment(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "employer_id": p.employer_id,
        "employer_name": p.employer.name,
        "amount": format_yuan(p.amount),
        "received_on": p.received_on,
        "reference": p.reference,
        "source": p.source,
        "external_id": p.external_id,
        "recorded_by": p.recorded_by,
        "recorded_at": p.recorded_at,
        "allocations": [
            {
                "bill_id": a.bill_id,
                "bill_number": a.bill.number,
                "principal": format_yuan(a.principal),
                "late_fee": format_yuan(a.late_fee),
            }
            for a in selectors.payment_allocations(p)
        ],
    }


def _job(request: HttpRequest, key: str) -> dict[str, Any]:
    job = selectors.job_get(actor=request_actor(request), key=key)
    progress = tasks.job_progress(job)
    return {
        "job": key,
        "status": progress.status,
        "resumable": progress.resumable,
        "attempt": job.attempt,
        "percent": progress.percent,
        "employers_total": progress.employers_total,
        "employers_done": progress.employers_done,
        "people": progress.people,
        "lines_written": progress.lines_written,
        "error": progress.error,
        "runs": progress.runs,
        "progress_url": reverse("api-v1:billing_job", kwargs={"key": key}),
        "resume_url": reverse("api-v1:billing_job_resume", kwargs={"key": key}),
    }


def _upload(file: UploadedFile) -> tuple[str, bytes]:
    data = file.read(10 * 1024 * 1024 + 1)
    if len(data) > 10 * 1024 * 1024:
        raise RuleError("too_large", "the file is larger than 10 MB", "file")
    return file.name or "upload.csv", data


# --- declarations ------------------------------------------------------------------------------


@router.get("/declarations", response=list[DeclarationOut])
@paginate(Pagination)
def declaration_list(request: HttpRequest, employer_id: Id, period: str) -> list[dict[str, Any]]:
    """Every employee of the employer in the contribution year covering ``period`` (YYYY-MM), with
    the base the billing run will use: the declaration, else the contract wage, after the limits."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=employer_id)
    views = declarations.declaration_views(
        actor=actor, employer=employer, period_start=Month.parse(period, field="period")
    )
    return [_declaration(v) for v in views]


@router.post("/declarations", response={201: DeclarationOut})
@idempotent()
def declaration_create(request: HttpRequest, payload: DeclarationIn) -> Status[dict[str, Any]]:
    """Declare or correct one employee's base for a contribution year (the employer's HR or agency)."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=payload.employer_id)
    declarations.may_declare(actor, employer)
    person = person_get(actor=actor, person_id=payload.person_id, audit=False)
    month = Month.parse(payload.period_start, field="period_start")
    declarations.declaration_set(
        actor=actor,
        person=person,
        employer=employer,
        period_start=month,
        wage=parse_yuan(payload.wage, field="wage", allow_negative=True),
        source="api",
    )
    view = declarations.declaration_view(
        actor=actor, person=person, employer=employer, period_start=month
    )
    return Status(201, _declaration(view))


@router.post(
    "/declarations/import", response={200: DeclarationImportOut, 201: DeclarationImportOut}
)
@idempotent()
def declaration_import(
    request: HttpRequest,
    employer_id: Form[int],
    file: File[UploadedFile],
    dry_run: Form[bool] = True,
) -> Status[dict[str, Any]]:
    """CSV or XLSX with ``passport_country,passport_number,period_start,wage``. Every row is checked;
    with ``dry_run`` (the default) or any row error nothing is written (200); else all rows are
    declared at once (201). Sending the same file again declares nothing twice."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=employer_id)
    name, data = _upload(file)
    report = declarations.declarations_import(
        actor=actor, employer=employer, filename=name, data=data, dry_run=dry_run
    )
    body = {
        "dry_run": report.dry_run,
        "committed": report.committed,
        "declared": report.declared,
        "unchanged": report.unchanged,
        "rows": [
            {
                "row": r.row,
                "status": r.status,
                "person_id": r.person_id,
                "name": r.name,
                "period_start": r.period_start,
                "wage": format_yuan(r.wage),
                "base": format_yuan(r.base),
                "base_reason": r.reason,
            }
            for r in report.results
        ],
        "errors": [asdict(e) for e in report.errors],
    }
    return Status(201 if report.committed else 200, body)


# --- bills -----------------------------------------------------------------------------------


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
) -> list[dict[str, Any]]:
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
    rows = [_bill(b, day) for b in qs.prefetch_related("allocations")]
    return [r for r in rows if r["state"]["status"] == status] if status else rows


@router.get("/bills/{bill_id}", response=BillDetailOut)
def bill_detail(request: HttpRequest, bill_id: int, on: date | None = None) -> dict[str, Any]:
    """One bill with its lines (base, reason, rates, amounts, exemption, explanation, notes)."""
    bill = selectors.bill_get(actor=request_actor(request), bill_id=bill_id)
    body = _bill(bill, on or timezone.localdate())
    context = exports.bill_context(bill)
    body["lines"] = [_line(line, context) for line in selectors.bill_lines(bill)]
    body["earlier_policies"] = [
        {
            "bill_number": old.number,
            "period": old.span,
            "status": old.status,
            "status_text": old.label,
            "figures": [_source(f) for f in old.figures],
        }
        for old in provenance.bill_policy(bill).earlier
    ]
    return body


@router.get("/arrears", response=list[BillOut])
@paginate(Pagination)
def arrears_list(request: HttpRequest, on: date | None = None) -> list[dict[str, Any]]:
    """Bills past their due date with principal outstanding, oldest first."""
    day = on or timezone.localdate()
    return [_bill(r.bill, day) for r in selectors.arrears(request_actor(request), day)]


@router.get("/employers/{employer_id}/balance", response=BalanceOut)
def balance(request: HttpRequest, employer_id: int, on: date | None = None) -> dict[str, Any]:
    """What the employer owes on ``on``: principal and late fees outstanding, less its credit."""
    employer = employer_get(actor=request_actor(request), employer_id=employer_id)
    actor = request_actor(request)
    if not (actor.kind == "hr" or actor.covers_region(employer.region_code)):
        raise NotFound("not_found", f"no balance of employer {employer_id} that you may see", "")
    day = on or timezone.localdate()
    b = employer_balance(employer, day)
    return {
        "employer_id": employer.pk,
        "on": day,
        "billed": format_yuan(b.billed),
        "paid": format_yuan(b.paid),
        "principal_outstanding": format_yuan(b.principal_outstanding),
        "late_fees_outstanding": format_yuan(b.late_fees_outstanding),
        "credit": format_yuan(b.credit),
        "total_due": format_yuan(b.total_due),
    }


@router.get("/collection", response=list[CollectionOut])
@paginate(Pagination)
def collection_list(
    request: HttpRequest, region_code: str = "", month: str = "", on: date | None = None
) -> list[dict[str, Any]]:
    """Agency staff: billed, paid, outstanding and late fees per region and month."""
    rows = selectors.collection(request_actor(request), region_code=region_code, month=month, on=on)
    return [
        {
            "region_code": c.region_code,
            "month": c.month,
            "bills": c.bills,
            "billed": format_yuan(c.billed),
            "paid": format_yuan(c.paid),
            "outstanding": format_yuan(c.outstanding),
            "late_fees": format_yuan(c.late_fees),
            "late_fees_paid": format_yuan(c.late_fees_paid),
        }
        for c in rows
    ]


# --- payments --------------------------------------------------------------------------------


@router.get("/payments", response=list[PaymentOut])
@paginate(Pagination)
def payment_list(request: HttpRequest, employer_id: Id | None = None) -> list[dict[str, Any]]:
    qs = selectors.payments_visible(request_actor(request))
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    return [_payment(p) for p in qs[:2000]]


@router.post("/payments", response={201: PaymentOut})
@idempotent()
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status[dict[str, Any]]:
    """Record a payment (agency staff of the employer's region): by ``bill_number``, or for
    ``employer_id`` matched by reference, then amount, then oldest bill; the rest stays as credit.
    ``external_id`` (a bank transaction id) makes it idempotent."""
    actor = request_actor(request)
    amount = parse_yuan(payload.amount, field="amount")
    if payload.bill_number:
        visible = selectors.bills_visible(actor).filter(number=payload.bill_number.strip())
        if not visible.exists():
            raise RuleError(
                "unknown_bill", f"no bill numbered {payload.bill_number!r}", "bill_number"
            )
        payment = payment_for_bill(
            actor=actor,
            bill_number=payload.bill_number.strip(),
            amount=amount,
            received_on=payload.received_on,
            external_id=payload.external_id,
        )
    elif payload.employer_id is not None:
        employer = employer_get(actor=actor, employer_id=payload.employer_id)
        payment = payment_record(
            actor=actor,
            employer=employer,
            amount=amount,
            received_on=payload.received_on,
            reference=payload.reference,
            source="api",
            external_id=payload.external_id,
        )
    else:
        raise RuleError("required", "give employer_id or bill_number", "employer_id")
    return Status(201, _payment(payment))


@router.post("/bank-statements", response={200: BankImportOut, 201: BankImportOut})
@idempotent()
def bank_statement(
    request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = True
) -> Status[dict[str, Any]]:
    """Agency staff: a bank statement CSV (``transaction_id,date,amount,payer_uscc,reference``).
    Every row is checked first; one bad row and nothing is recorded. Idempotent per transaction."""
    actor = request_actor(request)
    if not actor.is_agency:
        raise Forbidden("forbidden", "bank statements are imported by the agency", "")
    _name, data = _upload(file)
    text = tabular.csv_text(_name, data)
    report = bank_statement_import(actor=actor, text=text, dry_run=dry_run)
    committed = not dry_run and not report.errors
    return Status(
        201 if committed and report.recorded else 200,
        {
            "dry_run": dry_run,
            "rows": report.rows,
            "recorded": report.recorded,
            "already_recorded": report.already_recorded,
            "errors": [asdict(e) for e in report.errors],
        },
    )


# --- billing runs ------------------------------------------------------------------------------


@router.post("/runs", response={202: JobOut})
@idempotent()
def run_start(request: HttpRequest, payload: RunIn) -> Status[dict[str, Any]]:
    """Agency staff: start a billing run for a region and month, or a recalculation from a month,
    as a background job. Follow it at ``progress_url``."""
    key = tasks.billing_job_start(
        actor=request_actor(request),
        kind=payload.kind,
        region_code=payload.region_code,
        month=Month.parse(payload.month),
        to_month=Month.parse(payload.to_month, field="to_month") if payload.to_month else None,
    )
    return Status(202, _job(request, key))


@router.get("/runs", response=list[RunOut])
@paginate(Pagination)
def run_list(request: HttpRequest) -> QuerySet[BillingRun]:
    return selectors.runs_visible(request_actor(request))


@router.get("/runs/{run_id}", response=RunOut)
def run_detail(request: HttpRequest, run_id: int) -> BillingRun:
    return selectors.run_get(actor=request_actor(request), run_id=run_id)


@router.get("/jobs/{key}", response=JobOut, url_name="billing_job")
def job_detail(request: HttpRequest, key: str) -> dict[str, Any]:
    """Progress of a started job: queued, running (employers done of total), done, failed, or
    interrupted (its worker stopped: resume it). A key that names no job of a region the caller
    covers is a 404."""
    return _job(request, key)


@router.post("/jobs/{key}/resume", response={202: JobOut}, url_name="billing_job_resume")
@idempotent()
def job_resume(request: HttpRequest, key: str) -> Status[dict[str, Any]]:
    """Start an interrupted job again (agency staff of its region); 409 unless it is interrupted.
    The new attempt writes only what the stopped one had not: the job ends as if never stopped."""
    tasks.billing_job_resume(actor=request_actor(request), key=key)
    return Status(202, _job(request, key))


# --- the employee's own record ---------------------------------------------------------------


@router.get("/me/contributions", response=list[ContributionOut])
@paginate(Pagination)
def my_contributions(request: HttpRequest) -> list[dict[str, Any]]:
    """The signed-in employee's contributions per month and employer, newest first."""
    rows = selectors.my_contributions(request_actor(request))
    return [
        {
            "month": r.month,
            "employer_id": r.employer_id,
            "employer_name": r.employer_name,
            "pension_base": format_yuan(r.pension_base),
            "pension_employer": format_yuan(r.pension_employer),
            "pension_employee": format_yuan(r.pension_employee),
            "employer_total": format_yuan(r.employer_total),
            "employee_total": format_yuan(r.employee_total),
            "adjusted": r.adjusted,
            "exempt": r.exempt,
            "status": r.status,
            "status_text": r.status_label,
            "sources": [_source(f) for f in r.sources],
        }
        for r in rows
    ]


@router.get("/me/account", response=AccountOut)
def my_account(request: HttpRequest, on: date | None = None) -> dict[str, Any]:
    """Months counted and the individual account statement by year on ``on`` (default today)."""
    actor = request_actor(request)
    day = on or timezone.localdate()
    st = selectors.my_statement(actor, day)
    return {
        "person_id": actor.person_id or 0,
        "on": day,
        "months_counted": selectors.my_months_counted(actor),
        "balance": format_yuan(st.balance),
        "provisional": st.provisional,
        "status": st.status.value,
        "status_text": provenance.status_label(st.status.value),
        "sources": [_source(f) for f in provenance.statement_sources(st)],
        "years": [
            {**y.as_dict(), "status_text": provenance.status_label(y.status.value)}
            for y in st.years
        ],
        "explanation": list(st.explanation),
    }


@router.get("/me/pension", response=PensionOut)
def my_pension(request: HttpRequest, on: date | None = None) -> dict[str, Any]:
    """Retirement month and age, contribution months so far and still needed, and the projected
    monthly pension (basic + individual account) on ``on`` (default today), every figure with its
    status and its arithmetic. The signed-in employee's own only; anyone else gets 404."""
    actor = request_actor(request)
    if actor.kind != "employee":
        raise NotFound("not_found", "no pension outlook that you may see", "person_id")
    p = retirement.projection(actor, on)
    award = p.award
    return {
        "person_id": p.person_id,
        "on": p.on,
        "retirement_month": str(p.retirement.retirement_month),
        "retirement_age": p.retirement.age_text,
        "min_contribution_months": p.retirement.min_contribution_months,
        "months_so_far": p.months_so_far,
        "months_still_needed": p.months_still_needed,
        "projected_months": p.projected_months,
        "index": str(p.index),
        "projected_balance": format_yuan(p.projected_balance),
        "basic_pension": _y(award.basic_pension if award else None),
        "account_pension": _y(award.account_pension if award else None),
        "total": _y(award.total if award else None),
        "note": p.note,
        "status": p.status.value,
        "status_text": p.status_text,
        "lines": [
            {
                "key": line.key,
                "label": line.label,
                "value": line.value,
                "money": line.amount is not None,
                "status": line.status.value,
                "status_text": line.status_text,
                "explanation": list(line.explanation),
            }
            for line in p.lines
        ],
    }
