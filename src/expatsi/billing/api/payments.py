"""Payments: the ones received, one recorded by agency staff, and a bank statement imported."""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# through a wrapper living in another module, where string annotations would not resolve.
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from expatsi import tabular
from expatsi.access.auth import Pagination, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Id
from expatsi.billing import permissions, selectors
from expatsi.billing.api.schemas import Yuan
from expatsi.billing.models import Allocation, Payment
from expatsi.billing.payments import BankImport
from expatsi.billing.services import bank_statement_import, payment_for_bill, payment_record
from expatsi.employers.selectors import employer_get
from expatsi.rules.errors import Forbidden, RuleError
from expatsi.rules.money import parse_yuan
from expatsi.web.uploads import upload_read

router = Router()


class PaymentIn(Schema):
    employer_id: int | None = None
    bill_number: str = ""
    amount: str
    received_on: Day
    reference: str = ""
    external_id: str | None = None


class AllocationOut(Schema):
    # from expatsi.billing.models.Allocation.
    bill_id: int
    bill_number: str = Field(alias="bill.number")
    principal: Yuan
    late_fee: Yuan


class PaymentOut(Schema):
    # from expatsi.billing.models.Payment.
    id: int
    employer_id: int
    employer_name: str = Field(alias="employer.name")
    amount: Yuan
    received_on: date
    reference: str
    source: str
    external_id: str | None
    recorded_by: str
    recorded_at: datetime
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(payment: Payment) -> QuerySet[Allocation]:
        return selectors.payment_allocations(payment)


class BankRowErrorOut(Schema):
    # from expatsi.rules.errors.RowError.
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class BankImportAnswer:
    dry_run: bool
    report: BankImport


class BankImportOut(Schema):
    # from BankImportAnswer.
    dry_run: bool
    rows: int = Field(alias="report.rows")
    recorded: int = Field(alias="report.recorded")
    already_recorded: int = Field(alias="report.already_recorded")
    errors: list[BankRowErrorOut] = Field(alias="report.errors")


@router.get("/payments", response=list[PaymentOut])
@paginate(Pagination)
def payment_list(request: HttpRequest, employer_id: Id | None = None) -> list[Payment]:
    return list(selectors.payments_visible(request_actor(request), employer_id=employer_id)[:2000])


@router.post("/payments", response={201: PaymentOut})
@idempotent()
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status[Payment]:
    """Record a payment (agency staff of the employer's region): by ``bill_number``, or for
    ``employer_id`` matched by reference, then amount, then oldest bill; the rest stays as credit.
    ``external_id`` (a bank transaction id) makes it idempotent."""
    actor = request_actor(request)
    amount = parse_yuan(payload.amount, field="amount")
    if payload.bill_number:
        if not selectors.bill_number_visible(actor, payload.bill_number):
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
    return Status(201, payment)


@router.post("/bank-statements", response={200: BankImportOut, 201: BankImportOut})
@idempotent()
def bank_statement(
    request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = True
) -> Status[BankImportAnswer]:
    """Agency staff: a bank statement CSV (``transaction_id,date,amount,payer_uscc,reference``).
    Every row is checked first; one bad row and nothing is recorded. Idempotent per transaction."""
    actor = request_actor(request)
    if not permissions.may_import_bank_statement(actor):
        raise Forbidden("forbidden", "bank statements are imported by the agency", "")
    upload = upload_read(file)
    text = tabular.csv_text(upload.name, upload.data)
    report = bank_statement_import(actor=actor, text=text, dry_run=dry_run)
    committed = not dry_run and not report.errors
    return Status(201 if committed and report.recorded else 200, BankImportAnswer(dry_run, report))
