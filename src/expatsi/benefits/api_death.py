"""REST API of deaths and inheritance, under ``/api/v1/benefits/deaths`` (mounted by api.py).

Employer HR (and their API token) report a death of their staff with evidence and see their
reports; agency staff record reports (a family member's at the counter), see the evidence and the
balance on the date of death, file the heirs' claim, decide the shares and re-issue a payout the
bank rejected. Everyone else: 403. Thin: one selector or service per operation; a RuleError
becomes ``{code, message, field}``; account numbers are answered masked only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from expatsi.access.actors import Actor
from expatsi.access.auth import api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Id, Identifier, Text
from expatsi.benefits import death, permissions, selectors_death
from expatsi.benefits.models import (
    DeathDocument,
    DeathReport,
    Heir,
    InheritanceClaim,
    Payout,
)
from expatsi.benefits.services import BankDetails
from expatsi.rules.errors import NotFound
from expatsi.rules.money import format_yuan
from expatsi.web.uploads import upload_read

router = Router(tags=["benefits"], auth=api_auth)


def _caller(request: HttpRequest) -> Actor:
    """HR and agency staff; anyone else 403."""
    actor = request_actor(request)
    permissions.require_use_deaths(actor)
    return actor


def _staff(request: HttpRequest) -> Actor:
    actor = _caller(request)
    permissions.require_examine_deaths(actor)
    return actor


# --- schemas --------------------------------------------------------------------------------------


class DeathIn(Schema):
    person_id: Id
    died_on: Day
    reporter: Literal["employer", "family", "agency"] = "agency"
    reporter_name: Annotated[str, Text(140)] = ""
    relationship: Annotated[str, Text(80)] = ""
    note: Annotated[str, Text(500)] = ""


class DeathOut(Schema):
    id: int
    person_id: int
    name: str
    region_code: str
    died_on: date
    reporter: str
    reporter_name: str
    relationship: str
    recorded_by: str
    recorded_at: datetime

    @staticmethod
    def resolve_name(obj: DeathReport) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_recorded_by(obj: DeathReport) -> str:
        return obj.recorded_by_label


class DeathDocumentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    claim_id: int | None
    uploaded_by: str
    uploaded_at: datetime

    @staticmethod
    def resolve_uploaded_by(obj: DeathDocument) -> str:
        return obj.uploaded_by_label


class DeathYearOut(Schema):
    year: int
    opening: str
    credits: str
    interest: str
    closing: str
    rate: str
    provisional: bool


class DeathBalanceOut(Schema):
    died_on: date
    amount: str | None  # yuan; null when the statement cannot be computed
    years: list[DeathYearOut]
    explanation: list[str]
    unbilled: list[str]  # months up to the month of death not yet billed
    unpaid: list[str]  # billed but not fully paid
    documents: list[DeathDocumentOut]


class HeirBankIn(Schema):
    holder: Annotated[str, Text(140)]
    country: Annotated[str, Text(3)]
    iban: Annotated[str, Identifier(42)] = ""
    account_number: Annotated[str, Identifier(40)] = ""
    bank_code: Annotated[str, Identifier(20)] = ""
    bic: Annotated[str, Identifier(11)]
    currency: Annotated[str, Identifier(3)]


class HeirIn(Schema):
    name: Annotated[str, Text(140)]
    relationship: Annotated[str, Text(80)]
    bank: HeirBankIn


class InheritanceClaimIn(Schema):
    heirs: list[HeirIn]


class HeirPayoutOut(Schema):
    id: int
    end_to_end_id: str
    kind: str
    amount: str
    currency: str
    status: str
    payment_run_id: int | None
    settled_on: date | None
    bank_reason: str

    @staticmethod
    def resolve_amount(obj: Payout) -> str:
        return format_yuan(obj.amount)

    @staticmethod
    def resolve_payment_run_id(obj: Payout) -> int | None:
        return obj.run_id


class HeirOut(Schema):
    id: int
    position: int
    name: str
    relationship: str
    holder: str
    country: str
    account: str  # masked
    bic: str
    currency: str
    share: str  # "1/3"; "" until decided
    amount: str | None  # yuan; null until decided
    payouts: list[HeirPayoutOut]

    @staticmethod
    def resolve_holder(obj: Heir) -> str:
        return obj.bank_account.holder

    @staticmethod
    def resolve_country(obj: Heir) -> str:
        return obj.bank_account.country

    @staticmethod
    def resolve_account(obj: Heir) -> str:
        return obj.bank_account.masked_number

    @staticmethod
    def resolve_bic(obj: Heir) -> str:
        return obj.bank_account.bic

    @staticmethod
    def resolve_currency(obj: Heir) -> str:
        return obj.bank_account.currency

    @staticmethod
    def resolve_share(obj: Heir) -> str:
        return obj.share_text

    @staticmethod
    def resolve_amount(obj: Heir) -> str | None:
        return None if obj.amount is None else format_yuan(obj.amount)

    @staticmethod
    def resolve_payouts(obj: Heir) -> list[Payout]:
        return list(obj.payouts.order_by("pk"))


class InheritanceClaimOut(Schema):
    id: int
    death_id: int
    person_id: int
    name: str
    died_on: date
    status: str
    balance: str | None  # yuan, fixed by the first approval
    statement: dict[str, Any]
    heirs: list[HeirOut]
    documents: list[DeathDocumentOut]
    reviewed_by: str
    second_by: str
    rejection_reason: str

    @staticmethod
    def resolve_name(obj: InheritanceClaim) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_died_on(obj: InheritanceClaim) -> date:
        return obj.death.died_on

    @staticmethod
    def resolve_balance(obj: InheritanceClaim) -> str | None:
        return None if obj.balance is None else format_yuan(obj.balance)

    @staticmethod
    def resolve_heirs(obj: InheritanceClaim) -> list[Heir]:
        return list(obj.heirs.select_related("bank_account").order_by("position"))

    @staticmethod
    def resolve_documents(obj: InheritanceClaim) -> list[DeathDocument]:
        return list(obj.documents.order_by("pk").defer("content"))

    @staticmethod
    def resolve_reviewed_by(obj: InheritanceClaim) -> str:
        return obj.reviewed_by_label

    @staticmethod
    def resolve_second_by(obj: InheritanceClaim) -> str:
        return obj.second_by_label


class ShareIn(Schema):
    heir_id: Id
    share: Annotated[str, Text(20)]  # "1/3", "0.5"


class InheritanceDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    shares: list[ShareIn] = Field(default_factory=list)
    note: Annotated[str, Text(500)] = ""
    reason: Annotated[str, Text(500)] = ""


# --- reports --------------------------------------------------------------------------------------


@router.get("", response=list[DeathOut])
def death_list(request: HttpRequest) -> list[DeathReport]:
    """Reports the caller may see: HR their employers' staff's; agency staff their regions'."""
    return list(selectors_death.deaths_list(_caller(request))[:500])


@router.post("", response={201: DeathOut})
@idempotent()
def death_create(
    request: HttpRequest, payload: Form[DeathIn], evidence: File[UploadedFile]
) -> Status[Any]:
    """Report a death with its evidence (PDF, JPEG or PNG: a death certificate, a hospital's or
    police notice). HR: a person their employer employed on the date of death (the report is the
    employer's). Agency staff: ``reporter`` family (with the family member's name and
    relationship), employer or agency. The account is frozen; a second report → 409."""
    actor = _caller(request)
    made = death.death_report(
        actor=actor,
        evidence=upload_read(evidence, field="evidence", default_name="evidence"),
        **payload.model_dump(),
    )
    return Status(201, made)


# --- claims (routed before ``/{death_id}``: ``/claims`` is not a death's id) -------------------


@router.get("/claims", response=list[InheritanceClaimOut])
def claim_list(request: HttpRequest) -> list[InheritanceClaim]:
    """Agency staff: claims awaiting a first or second decision, oldest first."""
    return list(selectors_death.claims_queue(_staff(request))[:200])


@router.get("/claims/{claim_id}", response=InheritanceClaimOut)
def claim_get(request: HttpRequest, claim_id: int) -> InheritanceClaim:
    return selectors_death.claim_get(actor=_staff(request), claim_id=claim_id)


@router.post("/claims/{claim_id}/documents", response={201: DeathDocumentOut})
@idempotent()
def claim_document(request: HttpRequest, claim_id: int, file: File[UploadedFile]) -> Status[Any]:
    """A document of the claim (PDF, JPEG or PNG): a notarised certificate of inheritance, a
    will, proof of kinship."""
    actor = _staff(request)
    doc = death.claim_document_add(
        actor=actor, claim_id=claim_id, upload=upload_read(file, default_name="document")
    )
    return Status(201, doc)


@router.post("/claims/{claim_id}/decision", response=InheritanceClaimOut)
def claim_decision(
    request: HttpRequest, claim_id: int, payload: InheritanceDecisionIn
) -> InheritanceClaim:
    """Approve with one share per heir adding up to the whole (a second agency user above the
    threshold approves them as they are), or reject with a reason. Waits (409
    ``months_not_settled``) while months up to the month of death are unbilled or unpaid."""
    return death.inheritance_decide(
        actor=_staff(request),
        claim_id=claim_id,
        decision=payload.decision,
        shares={s.heir_id: s.share for s in payload.shares},
        note=payload.note,
        reason=payload.reason,
    )


@router.post("/claims/{claim_id}/reissue", response={201: list[HeirPayoutOut]})
@idempotent()
def claim_reissue(request: HttpRequest, claim_id: int) -> Status[Any]:
    """A new payout for every heir whose last payout the bank rejected."""
    return Status(201, death.inheritance_reissue(actor=_staff(request), claim_id=claim_id))


__all__ = ["router"]


@router.get("/{death_id}", response=DeathOut)
def death_get(request: HttpRequest, death_id: int) -> DeathReport:
    return selectors_death.death_get(actor=_caller(request), death_id=death_id)


@router.get("/{death_id}/balance", response=DeathBalanceOut)
def death_balance(request: HttpRequest, death_id: int) -> dict[str, Any]:
    """Agency staff: the balance on the date of death with the statement behind it, the months
    that would make a claim wait, and the documents on file."""
    report = selectors_death.death_get(actor=_staff(request), death_id=death_id)
    view = selectors_death.balance_on_death(report)
    lump = view.lump
    return {
        "died_on": report.died_on,
        "amount": format_yuan(lump.amount) if lump else None,
        "years": [y.as_dict() for y in lump.statement.years] if lump else [],
        "explanation": list(lump.explanation)
        if lump
        else [view.error.message if view.error else ""],
        "unbilled": list(view.unsettled.unbilled),
        "unpaid": list(view.unsettled.unpaid),
        "documents": list(report.documents.order_by("pk").defer("content")),
    }


@router.get(
    "/{death_id}/documents/{death_document_id}",
    response={200: str},
    openapi_extra={
        "responses": {
            200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}
        }
    },
)
def death_document(request: HttpRequest, death_id: int, death_document_id: int) -> HttpResponse:
    """Agency staff: one document as uploaded (the read is audited)."""
    doc = selectors_death.document_get(actor=_staff(request), document_id=death_document_id)
    if doc.death_id != death_id:
        raise NotFound(
            "not_found", f"no document {death_document_id} that you may see", "death_document_id"
        )
    response = HttpResponse(bytes(doc.content), content_type=doc.content_type)
    response["Content-Disposition"] = f'attachment; filename="document-{doc.pk}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- filing a claim on a report ---------------------------------------------------------------------


@router.post("/{death_id}/claims", response={201: InheritanceClaimOut})
@idempotent()
def claim_file(request: HttpRequest, death_id: int, payload: InheritanceClaimIn) -> Status[Any]:
    """Agency staff file the heirs' claim: every heir's name, relationship and bank account
    (abroad or in China). Its documents follow (``…/claims/{id}/documents``); the shares are
    decided only once they are on file."""
    claim = death.inheritance_claim_file(
        actor=_staff(request),
        death_id=death_id,
        heirs=[
            death.HeirDetails(h.name, h.relationship, BankDetails(**h.bank.model_dump()))
            for h in payload.heirs
        ],
        documents=[],
    )
    return Status(201, claim)
