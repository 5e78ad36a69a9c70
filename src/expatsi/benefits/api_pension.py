"""REST API of pensions paid abroad: the application and its award (explained line by line), the
annual proof of life by its four routes, and the monthly pension payment run. Mounted under
``/api/v1/benefits`` by benefits/api.py.

Thin: every operation calls one service or selector; a RuleError becomes ``{code, message,
field}``. Employer HR and API tokens have nothing here (403): a pension is the person's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from expatsi.access.actors import Actor
from expatsi.access.auth import api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Id, Identifier, Text
from expatsi.benefits import pensions, permissions, proof_of_life, services
from expatsi.benefits.models import Pension, ProofOfLife
from expatsi.insurance.selectors import persons_visible
from expatsi.people.models import Person
from expatsi.rules.dates import Month
from expatsi.rules.errors import NotFound, RuleError
from expatsi.rules.money import format_yuan

router = Router(tags=["pensions"], auth=api_auth)

CERTIFICATE_MAX_BYTES = services.SIGNED_FORM_MAX_BYTES


def _caller(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    permissions.require_use_pensions(actor)
    return actor


def _person_id(actor: Actor, named: int | None) -> int:
    """The person themself; agency staff name the person."""
    if actor.kind == "employee":
        if actor.person_id is None:
            raise NotFound("not_found", "no person record is linked to this account", "person_id")
        return actor.person_id
    if named is None:
        raise RuleError("required", "name the person", "person_id")
    return named


# --- schemas ------------------------------------------------------------------------------------


class PensionAwardLineOut(Schema):
    key: str
    value: str
    explanation: list[str]
    status: str


class PensionBankOut(Schema):
    holder: str
    country: str
    account: str  # masked
    bic: str
    currency: str


class PensionAwardOut(Schema):
    id: int
    person_id: int
    name: str
    region_code: str
    status: str
    applied_on: date
    by_agency: bool
    first_month: str
    basic: str
    account: str
    total: str
    figures_status: str
    lines: list[PensionAwardLineOut]
    bank_account: PensionBankOut
    verified_on: date | None
    proof_due: date | None
    suspended_on: date | None
    died_on: date | None
    rejection_reason: str

    @staticmethod
    def resolve_name(obj: Pension) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_basic(obj: Pension) -> str:
        return format_yuan(obj.basic)

    @staticmethod
    def resolve_account(obj: Pension) -> str:
        return format_yuan(obj.account)

    @staticmethod
    def resolve_total(obj: Pension) -> str:
        return format_yuan(obj.total)

    @staticmethod
    def resolve_bank_account(obj: Pension) -> dict[str, str]:
        a = obj.bank_account
        return {
            "holder": a.holder,
            "country": a.country,
            "account": a.masked_number,
            "bic": a.bic,
            "currency": a.currency,
        }


class PensionBankIn(Schema):
    holder: Annotated[str, Text(140)]
    country: Annotated[str, Text(3)]
    iban: Annotated[str, Identifier(42)] = ""
    account_number: Annotated[str, Identifier(40)] = ""
    bank_code: Annotated[str, Identifier(20)] = ""
    bic: Annotated[str, Identifier(11)]
    currency: Annotated[str, Identifier(3)]


class PensionApplyIn(Schema):
    bank: PensionBankIn
    password: Annotated[str, Text(200)] = ""  # the person signs with it; staff leave it empty
    person_id: Id | None = None  # agency staff: the person at the counter


class PensionEligibilityOut(Schema):
    person_id: int
    retirement_month: str
    statutory_age: str
    at_age: bool
    months: int
    minimum: int
    missing: int
    refusal: str | None
    refusal_code: str | None


class PensionDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    identity_checked: bool = False
    note: Annotated[str, Text(500)] = ""
    reason: Annotated[str, Text(500)] = ""


class ProofOfLifeOut(Schema):
    id: int
    pension_id: int
    person_id: int
    route: str
    status: str
    verified_on: date
    document_type: str
    submitted_by: str
    reviewed_by: str
    rejection_reason: str

    @staticmethod
    def resolve_reviewed_by(obj: ProofOfLife) -> str:
        return obj.reviewed_by_label


class ProofOfLifeOnlineIn(Schema):
    password: Annotated[str, Text(200)]


class ProofOfLifeInPersonIn(Schema):
    note: Annotated[str, Text(500)] = ""


class ProofOfLifeDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, Text(500)] = ""


class PensionMonthRunIn(Schema):
    region_code: Annotated[str, Identifier(6)]
    month: Annotated[str, Identifier(7)]  # YYYY-MM
    execution_date: Day | None = None


class PensionMonthRunOut(Schema):
    month: str
    created: int
    amount: str
    payment_run_id: int | None
    message_id: str | None


# --- the application and the award ----------------------------------------------------------------


@router.get("/pensions", response=list[PensionAwardOut])
def pension_list(request: HttpRequest) -> list[Pension]:
    """Pensions the caller may see: their own, or (agency staff) their regions', newest first."""
    return list(pensions.pensions_visible(_caller(request)).order_by("-pk")[:500])


@router.get("/pensions/eligibility", response=PensionEligibilityOut)
def pension_eligibility(request: HttpRequest, person_id: Id | None = None) -> dict[str, Any]:
    """Where the person stands today: statutory age, contribution months and months missing."""
    actor = _caller(request)
    pid = _person_id(actor, person_id)
    person = persons_visible(actor).filter(pk=pid).first()
    if person is None:
        raise NotFound("not_found", f"no person {pid} that you may see", "person_id")
    return _eligibility(person)


def _eligibility(person: Person) -> dict[str, Any]:
    e = pensions.eligibility(person, timezone.localdate())
    refusal: RuleError | None = None
    try:
        pensions.refuse_unless_eligible(e)
    except RuleError as exc:
        refusal = exc
    return {
        "person_id": person.pk,
        "retirement_month": str(e.retirement_month),
        "statutory_age": e.age_text,
        "at_age": e.at_age,
        "months": e.months,
        "minimum": e.minimum,
        "missing": e.missing,
        "refusal": refusal.message if refusal else None,
        "refusal_code": refusal.code if refusal else None,
    }


@router.post("/pensions", response={201: PensionAwardOut})
@idempotent(redact=())
def pension_apply(request: HttpRequest, payload: PensionApplyIn) -> Status[Any]:
    """Apply for a monthly pension (the person with their password; agency staff naming the
    person). Refused before the statutory age and short of the minimum contribution months
    (``below_minimum_contribution``, with the months missing)."""
    actor = _caller(request)
    pension = pensions.pension_apply(
        actor=actor,
        person_id=_person_id(actor, payload.person_id),
        bank_details=services.BankDetails(**payload.bank.model_dump()),
        password=payload.password,
    )
    return Status(201, pension)


@router.get("/pensions/{pension_id}", response=PensionAwardOut)
def pension_get(request: HttpRequest, pension_id: int) -> Pension:
    return pensions.pension_get(actor=_caller(request), pension_id=pension_id)


@router.post("/pensions/{pension_id}/decision", response=PensionAwardOut)
def pension_decision(request: HttpRequest, pension_id: int, payload: PensionDecisionIn) -> Pension:
    """Award (after the identity check) or reject: agency staff of the pension's region."""
    return pensions.pension_decide(
        actor=_caller(request),
        pension_id=pension_id,
        decision=payload.decision,
        identity_checked=payload.identity_checked,
        note=payload.note,
        reason=payload.reason,
    )


# --- the proof of life ------------------------------------------------------------------------------


@router.get("/pensions/{pension_id}/proofs-of-life", response=list[ProofOfLifeOut])
def proof_list(request: HttpRequest, pension_id: int) -> list[ProofOfLife]:
    pension = pensions.pension_get(actor=_caller(request), pension_id=pension_id, audit=False)
    return list(pension.proofs.order_by("-pk")[:100])


@router.post("/pensions/{pension_id}/proofs-of-life/online", response={201: ProofOfLifeOut})
@idempotent()
def proof_online(
    request: HttpRequest, pension_id: int, payload: ProofOfLifeOnlineIn
) -> Status[Any]:
    """The person proves online that they are alive by typing their password again."""
    proof = proof_of_life.proof_online(
        actor=_caller(request), pension_id=pension_id, password=payload.password
    )
    return Status(201, proof)


@router.post("/pensions/{pension_id}/proofs-of-life/in-person", response={201: ProofOfLifeOut})
@idempotent()
def proof_in_person(
    request: HttpRequest, pension_id: int, payload: ProofOfLifeInPersonIn
) -> Status[Any]:
    """Agency staff record that the person came to the agency."""
    proof = proof_of_life.proof_in_person(
        actor=_caller(request), pension_id=pension_id, note=payload.note
    )
    return Status(201, proof)


@router.post("/pensions/{pension_id}/proofs-of-life/certificate", response={201: ProofOfLifeOut})
@idempotent()
def proof_certificate(
    request: HttpRequest,
    pension_id: int,
    route: Form[Literal["embassy", "notarised"]],
    verified_on: Form[date],
    file: File[UploadedFile],
) -> Status[Any]:
    """A life certificate (``embassy``) or a notarised and apostilled certificate
    (``notarised``): PDF, JPEG or PNG, at most 2 MB; it waits for an agency review."""
    actor = _caller(request)
    proof = proof_of_life.proof_upload(
        actor=actor,
        pension_id=pension_id,
        route=route,
        document=file.read(CERTIFICATE_MAX_BYTES + 1),
        verified_on=verified_on,
    )
    return Status(201, proof)


@router.get("/proofs-of-life", response=list[ProofOfLifeOut])
def proof_queue(request: HttpRequest) -> list[ProofOfLife]:
    """Certificates awaiting review (agency staff; empty for anyone else)."""
    return list(proof_of_life.proofs_to_review(_caller(request))[:500])


@router.post("/proofs-of-life/{proof_id}/decision", response=ProofOfLifeOut)
def proof_decision(
    request: HttpRequest, proof_id: int, payload: ProofOfLifeDecisionIn
) -> ProofOfLife:
    return proof_of_life.proof_review(
        actor=_caller(request),
        proof_id=proof_id,
        decision=payload.decision,
        reason=payload.reason,
    )


# --- the monthly run ---------------------------------------------------------------------------------


@router.post("/pension-runs", response={201: PensionMonthRunOut})
@idempotent()
def pension_run(request: HttpRequest, payload: PensionMonthRunIn) -> Status[Any]:
    """One payout per awarded pension for every month owed up to ``month`` (back pay included),
    written into the region's payment run (pain.001). Run twice: nothing new."""
    actor = _caller(request)
    permissions.require_handle_payouts(actor)
    month = Month.parse(payload.month)
    made = pensions.pension_month_run(
        actor=actor,
        region_code=payload.region_code,
        month=month,
        execution_date=payload.execution_date,
    )
    return Status(
        201,
        {
            "month": str(made.month),
            "created": made.created,
            "amount": format_yuan(made.amount),
            "payment_run_id": made.run.pk if made.run else None,
            "message_id": made.run.message_id if made.run else None,
        },
    )
