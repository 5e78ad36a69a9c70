"""REST API of departures: the person's choice and written application, the agency's decision,
payment runs and the bank's return file. Under ``/api/v1/benefits``.

Thin: every operation calls one selector or service; a RuleError becomes ``{code, message,
field}``. Employer HR and API tokens have nothing here (403): the lump sum is the person's.
Account numbers are never answered whole, only masked (``****3000``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from expatsi.access.actors import Actor
from expatsi.access.auth import api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Id, Identifier, Text
from expatsi.benefits import downloads, permissions, selectors, services
from expatsi.benefits.api_death import router as death_router
from expatsi.benefits.api_pension import router as pension_router
from expatsi.benefits.api_programmes import router as programmes_router
from expatsi.benefits.models import (
    BankAccount,
    DepartureCase,
    PaymentRun,
    Payout,
    TerminationApplication,
)
from expatsi.rules.errors import Conflict, RowError, RuleError
from expatsi.rules.money import format_yuan

router = Router(tags=["benefits"], auth=api_auth)

RETURN_FILE_MAX_BYTES = 2_000_000


def _caller(request: HttpRequest) -> Actor:
    """The caller, once the policy lets them use departures at all (HR and tokens: 403)."""
    actor = request_actor(request)
    permissions.require_use_departures(actor)
    return actor


# --- schemas ------------------------------------------------------------------------------------


class DepartureOut(Schema):
    id: int
    person_id: int
    name: str
    region_code: str
    trigger: str
    departure_date: date
    status: str
    termination_id: int | None

    @staticmethod
    def resolve_name(obj: DepartureCase) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_termination_id(obj: DepartureCase) -> int | None:
        app = obj.applications.order_by("-pk").first()
        return app.pk if app else None


class DepartureIn(Schema):
    departure_date: Day
    person_id: Id | None = None  # agency staff: the person declaring at the counter


class YearOut(Schema):
    year: int
    opening: str
    credits: str
    interest: str
    closing: str
    rate: str
    provisional: bool


class UnsettledOut(Schema):
    unbilled: list[str]
    unpaid: list[str]


class LumpSumOut(Schema):
    closing_date: date
    amount: str | None  # yuan; null when the statement cannot be computed
    years: list[YearOut]
    explanation: list[str]
    status: str | None
    refusal: str | None  # why a termination would be refused (pension age reached)
    unsettled: UnsettledOut


class BankIn(Schema):
    holder: Annotated[str, Text(140)]
    country: Annotated[str, Text(3)]
    iban: Annotated[str, Identifier(42)] = ""
    account_number: Annotated[str, Identifier(40)] = ""
    bank_code: Annotated[str, Identifier(20)] = ""
    bic: Annotated[str, Identifier(11)]
    currency: Annotated[str, Identifier(3)]


class TerminationIn(Schema):
    bank: BankIn
    declaration: bool
    password: Annotated[str, Text(200)]
    closing_date: Day | None = None


class BankOut(Schema):
    holder: str
    country: str
    account: str  # masked
    bank_code: str
    bic: str
    currency: str

    @staticmethod
    def resolve_account(obj: BankAccount) -> str:
        return obj.masked_number


class PayoutOut(Schema):
    id: int
    termination_id: int | None  # a lump sum's application
    pension_id: int | None  # a monthly pension's (kind "pension")
    month: str
    heir_id: int | None  # an heir's share (kind "inherit")
    programme_application_id: int | None  # a benefit programme's (kind "subsidy")
    end_to_end_id: str
    kind: str
    amount: str
    currency: str
    status: str
    region_code: str
    payment_run_id: int | None
    settled_on: date | None
    bank_reason: str

    @staticmethod
    def resolve_termination_id(obj: Payout) -> int | None:
        return obj.application_id

    @staticmethod
    def resolve_amount(obj: Payout) -> str:
        return format_yuan(obj.amount)

    @staticmethod
    def resolve_payment_run_id(obj: Payout) -> int | None:
        return obj.run_id


class TerminationOut(Schema):
    id: int
    case_id: int
    person_id: int
    name: str
    status: str
    closing_date: date
    amount: str
    statement: dict[str, Any]
    bank_account: BankOut
    signed_via: str
    identity_checked: bool
    reviewed_by: str
    second_by: str
    rejection_reason: str
    payouts: list[PayoutOut]

    @staticmethod
    def resolve_name(obj: TerminationApplication) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_amount(obj: TerminationApplication) -> str:
        return format_yuan(obj.amount)

    @staticmethod
    def resolve_reviewed_by(obj: TerminationApplication) -> str:
        return obj.reviewed_by_label

    @staticmethod
    def resolve_second_by(obj: TerminationApplication) -> str:
        return obj.second_by_label

    @staticmethod
    def resolve_payouts(obj: TerminationApplication) -> list[Payout]:
        return list(obj.payouts.order_by("pk"))


class TerminationDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    identity_checked: bool = False
    note: Annotated[str, Text(500)] = ""
    reason: Annotated[str, Text(500)] = ""


class PaymentRunIn(Schema):
    region_code: Annotated[str, Identifier(6)]
    execution_date: Day | None = None


class PaymentRunOut(Schema):
    id: int
    region_code: str
    message_id: str
    execution_date: date
    count: int
    total: str
    sha256: str

    @staticmethod
    def resolve_total(obj: PaymentRun) -> str:
        return format_yuan(obj.total)


class RowErrorOut(Schema):
    row: int
    column: str
    message: str
    code: str


class ReturnOut(Schema):
    rows: int
    paid: int
    rejected: int
    unchanged: int


class ReturnErrorOut(Schema):
    code: str
    message: str
    field: str
    errors: list[RowErrorOut]


# --- the person's departure ----------------------------------------------------------------------


@router.get("/departures", response=list[DepartureOut])
def departure_list(request: HttpRequest) -> list[DepartureCase]:
    """Departures the caller may see: their own, or (agency staff) their regions', newest first."""
    return list(selectors.my_cases(_caller(request))[:500])


@router.post("/departures", response={200: DepartureOut, 201: DepartureOut})
@idempotent()
def departure_declare(request: HttpRequest, payload: DepartureIn) -> Status[Any]:
    """Declare a departure (the person for themself; agency staff for a person at the counter).
    An open departure is answered as it is (200)."""
    actor = _caller(request)
    person_id = actor.person_id if permissions.declares_own_departure(actor) else payload.person_id
    if person_id is None:
        raise RuleError("required", "name the person who leaves", "person_id")
    case, created = services.departure_open(
        actor=actor, person_id=person_id, departure_date=payload.departure_date
    )
    return Status(201 if created else 200, case)


@router.get("/departures/{departure_id}", response=DepartureOut)
def departure_get(request: HttpRequest, departure_id: int) -> DepartureCase:
    return selectors.case_get(actor=_caller(request), case_id=departure_id)


@router.post("/departures/{departure_id}/keep", response=DepartureOut)
def departure_keep(request: HttpRequest, departure_id: int) -> DepartureCase:
    """The person keeps the individual account (periods add up if they work in China again)."""
    return services.departure_keep(actor=_caller(request), case_id=departure_id)


@router.get("/departures/{departure_id}/lump-sum", response=LumpSumOut)
def departure_lump_sum(
    request: HttpRequest, departure_id: int, closing_date: Day | None = None
) -> dict[str, Any]:
    """The lump sum up to the closing date (default today) with the statement behind it, and what
    would stand in the way of a termination."""
    case = selectors.case_get(actor=_caller(request), case_id=departure_id)
    view = selectors.preview(case.person, closing_date or timezone.localdate())
    refusal = None
    if view.pension_age is not None:
        try:
            services.refuse_at_pension_age(case.person, view.closing_date)
        except RuleError as exc:
            refusal = exc.message
    lump = view.lump
    return {
        "closing_date": view.closing_date,
        "amount": format_yuan(lump.amount) if lump else None,
        "years": [y.as_dict() for y in lump.statement.years] if lump else [],
        "explanation": list(lump.explanation)
        if lump
        else [view.error.message if view.error else ""],
        "status": lump.status.value if lump else None,
        "refusal": refusal,
        "unsettled": {
            "unbilled": list(view.unsettled.unbilled),
            "unpaid": list(view.unsettled.unpaid),
        },
    }


@router.post("/departures/{departure_id}/termination", response={201: TerminationOut})
@idempotent(redact=())
def departure_terminate(
    request: HttpRequest, departure_id: int, payload: TerminationIn
) -> Status[Any]:
    """The written application, signed by the person with their password: the lump sum and its
    statement are fixed on the closing date (default today)."""
    bank = payload.bank
    app = services.termination_apply(
        actor=_caller(request),
        case_id=departure_id,
        bank_details=services.BankDetails(**bank.model_dump()),
        declaration=payload.declaration,
        password=payload.password,
        closing_date=payload.closing_date,
    )
    return Status(201, app)


# --- applications and the agency's decision ------------------------------------------------------


@router.get("/terminations", response=list[TerminationOut])
def termination_list(request: HttpRequest) -> list[TerminationApplication]:
    """Agency staff: applications awaiting a decision; the person: their own applications."""
    actor = _caller(request)
    if permissions.may_decide_applications(actor):
        return list(selectors.applications_queue(actor)[:500])
    return list(selectors.applications_visible(actor).order_by("-signed_at")[:100])


@router.get("/terminations/{termination_id}", response=TerminationOut)
def termination_get(request: HttpRequest, termination_id: int) -> TerminationApplication:
    return selectors.application_get(actor=_caller(request), termination_id=termination_id)


@router.post("/terminations/{termination_id}/decision", response=TerminationOut)
def termination_decision(
    request: HttpRequest, termination_id: int, payload: TerminationDecisionIn
) -> TerminationApplication:
    """Approve (identity checked; a second agency user above the threshold) or reject."""
    return services.termination_decide(
        actor=_caller(request), termination_id=termination_id, **payload.model_dump()
    )


@router.post("/terminations/{termination_id}/reissue", response={201: PayoutOut})
@idempotent()
def termination_reissue(request: HttpRequest, termination_id: int) -> Status[Any]:
    """A new payout after the bank rejected the last one."""
    return Status(
        201, services.payout_reissue(actor=_caller(request), termination_id=termination_id)
    )


# --- payouts and payment runs ---------------------------------------------------------------------


def _staff(request: HttpRequest) -> Actor:
    actor = _caller(request)
    permissions.require_handle_payouts(actor)
    return actor


@router.get("/payouts", response=list[PayoutOut])
def payout_list(request: HttpRequest, status: Annotated[str, Identifier(10)] = "") -> list[Payout]:
    qs = selectors.payouts_visible(_staff(request))
    return list((qs.filter(status=status) if status else qs).order_by("-pk")[:500])


@router.get("/payment-runs", response=list[PaymentRunOut])
def run_list(request: HttpRequest) -> list[PaymentRun]:
    return list(selectors.runs_visible(_staff(request))[:100])


@router.post("/payment-runs", response={201: PaymentRunOut})
@idempotent()
def run_create(request: HttpRequest, payload: PaymentRunIn) -> Status[Any]:
    """Write the region's approved payouts into one pain.001 file. Nothing waiting → 409
    ``nothing_to_pay_run`` (a second run right after the first pays nothing twice)."""
    run = services.payment_run(
        actor=_staff(request),
        region_code=payload.region_code,
        execution_date=payload.execution_date,
    )
    if run is None:
        raise Conflict(
            "nothing_to_pay_run", "no approved payout is waiting for a payment run", "region_code"
        )
    return Status(201, run)


@router.get("/payment-runs/{payment_run_id}", response=PaymentRunOut)
def run_get(request: HttpRequest, payment_run_id: int) -> PaymentRun:
    return selectors.run_get(actor=_staff(request), payment_run_id=payment_run_id)


@router.get(
    "/payment-runs/{payment_run_id}/pain001",
    response={200: str},
    openapi_extra={
        "responses": {200: {"content": {"application/xml": {"schema": {"type": "string"}}}}}
    },
)
def run_file(request: HttpRequest, payment_run_id: int) -> HttpResponse:
    """The bank instruction file (ISO 20022 pain.001.001.09) as written."""
    run = selectors.run_get(actor=_staff(request), payment_run_id=payment_run_id)
    response = HttpResponse(run.xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{run.message_id}.xml"'
    return response


@router.post("/payment-returns", response={200: ReturnOut, 400: ReturnErrorOut})
def run_return(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Apply the bank's return file: CSV ``end_to_end_id,status,date[,reason]``, status ACSC
    (paid) or RJCT (rejected). All or nothing: any bad row → 400 listing every row's error.
    Applying the same file again changes nothing."""
    actor = _staff(request)
    if file.size is not None and file.size > RETURN_FILE_MAX_BYTES:
        raise RuleError("file_too_large", "at most 2 MB per file", "file")
    try:
        text = file.read(RETURN_FILE_MAX_BYTES + 1).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RuleError("not_utf8", "the CSV file must be saved as UTF-8", "file") from None
    report = services.payments_reconcile(actor=actor, text=text)
    if report.errors:
        return Status(
            400,
            {
                "code": "invalid_rows",
                "message": f"{len(report.errors)} row(s) refused: nothing was applied",
                "field": "file",
                "errors": [_row(e) for e in report.errors],
            },
        )
    return Status(
        200,
        {
            "rows": report.rows,
            "paid": report.paid,
            "rejected": report.rejected,
            "unchanged": report.unchanged,
        },
    )


def _row(e: RowError) -> dict[str, Any]:
    return {"row": e.row, "column": e.column, "message": e.message, "code": e.code}


@router.get(
    "/terminations/{termination_id}/signed-form",
    response={200: str},
    openapi_extra={
        "responses": {
            200: {
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in ("application/pdf", "image/jpeg", "image/png")
                }
            }
        }
    },
)
def termination_signed_form(request: HttpRequest, termination_id: int) -> HttpResponse:
    """The uploaded signed application form (agency staff who may review it; audited)."""
    form = selectors.signed_form_get(actor=_caller(request), termination_id=termination_id)
    return downloads.signed_form_response(form)


@router.post("/terminations/{termination_id}/bank", response={201: PayoutOut})
@idempotent()
def termination_bank_correct(
    request: HttpRequest, termination_id: int, payload: BankIn
) -> Status[Any]:
    """Corrected bank details after the bank returned the payout (RJCT), by the person or agency
    staff of the region: a new payout to the new account waits for the next payment run. Nothing
    returned → 409 ``no_returned_payout``."""
    payout = services.payout_bank_correct(
        actor=_caller(request),
        termination_id=termination_id,
        bank_details=services.BankDetails(**payload.model_dump()),
    )
    return Status(201, payout)


router.add_router("", pension_router)  # pensions paid abroad and the annual proof of life
router.add_router("/deaths", death_router)  # deaths and inheritance
router.add_router("", programmes_router)  # benefit programmes (subsidies)
