"""REST API of benefit programmes (subsidies), under ``/api/v1/benefits``: the programmes with
whether the caller qualifies, the card holder's applications, the agency's review. Approved
applications are paid by the payment run (``/payment-runs``) like a lump sum.

Thin: every operation calls one function of benefits/programmes.py; a RuleError becomes ``{code,
message, field}``. Employer HR and API tokens have nothing here (403).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from expatsi.access.actors import Actor
from expatsi.access.auth import api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Identifier, Text
from expatsi.benefits import permissions, programmes, services
from expatsi.benefits.models import Payout, ProgrammeApplication
from expatsi.people.models import Person
from expatsi.rules.errors import Forbidden
from expatsi.rules.money import format_yuan

router = Router(tags=["benefits"], auth=api_auth)


def _caller(request: HttpRequest) -> Actor:
    actor = request_actor(request)
    if not permissions.may_use_programmes(actor):
        raise Forbidden(
            "forbidden", "benefit programmes are the card holder's and the agency's", ""
        )
    return actor


class ProgrammeOut(Schema):
    code: str
    name: str
    name_zh: str
    description: str
    description_zh: str
    min_months: int
    regions: list[str]
    effective_from: date
    effective_to: date | None
    amount: str  # yuan
    status: str  # how sure the programme's source is
    source: str
    eligible: bool | None  # for the card holder: whether they qualify today
    reasons: list[str]  # the codes of what stands in the way


class ProgrammeBankIn(Schema):
    holder: Annotated[str, Text(140)]
    country: Annotated[str, Text(3)]
    iban: Annotated[str, Identifier(42)] = ""
    account_number: Annotated[str, Identifier(40)] = ""
    bank_code: Annotated[str, Identifier(20)] = ""
    bic: Annotated[str, Identifier(11)]
    currency: Annotated[str, Identifier(3)]


class ProgrammeApplicationIn(Schema):
    programme: Annotated[str, Identifier(40)]
    bank: ProgrammeBankIn


class ProgrammePayoutOut(Schema):
    end_to_end_id: str
    kind: str
    amount: str
    status: str
    payment_run_id: int | None
    settled_on: date | None

    @staticmethod
    def resolve_amount(obj: Payout) -> str:
        return format_yuan(obj.amount)

    @staticmethod
    def resolve_payment_run_id(obj: Payout) -> int | None:
        return obj.run_id


class ProgrammeApplicationOut(Schema):
    id: int
    person_id: int
    name: str
    programme: str
    region_code: str
    amount: str
    months_counted: int
    account: str  # masked
    currency: str
    status: str
    reviewed_by: str
    second_by: str  # four eyes: the second approver above the threshold
    rejection_reason: str
    payouts: list[ProgrammePayoutOut]

    @staticmethod
    def resolve_name(obj: ProgrammeApplication) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_amount(obj: ProgrammeApplication) -> str:
        return format_yuan(obj.amount)

    @staticmethod
    def resolve_account(obj: ProgrammeApplication) -> str:
        return obj.bank_account.masked_number

    @staticmethod
    def resolve_currency(obj: ProgrammeApplication) -> str:
        return obj.bank_account.currency

    @staticmethod
    def resolve_reviewed_by(obj: ProgrammeApplication) -> str:
        return obj.reviewed_by_label

    @staticmethod
    def resolve_second_by(obj: ProgrammeApplication) -> str:
        return obj.second_by_label

    @staticmethod
    def resolve_payouts(obj: ProgrammeApplication) -> list[Payout]:
        return list(obj.payouts.order_by("pk"))


class ProgrammeDecisionIn(Schema):
    decision: Literal["approve", "reject"]
    note: Annotated[str, Text(500)] = ""
    reason: Annotated[str, Text(500)] = ""


@router.get("/programmes", response=list[ProgrammeOut])
def programme_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every programme; for the card holder, whether they qualify today and what stands in the way."""
    actor = _caller(request)
    person = (
        Person.objects.filter(pk=actor.person_id).first()
        if permissions.may_apply_programmes(actor) and actor.person_id is not None
        else None
    )
    today = timezone.localdate()
    out = []
    for prog in programmes.programmes().values():
        found = programmes.eligibility(person, prog, today) if person else None
        out.append(
            {
                "code": prog.code,
                "name": prog.name,
                "name_zh": prog.name_zh,
                "description": prog.description,
                "description_zh": prog.description_zh,
                "min_months": prog.min_months,
                "regions": list(prog.regions),
                "effective_from": prog.effective_from,
                "effective_to": prog.effective_to,
                "amount": format_yuan(prog.amount),
                "status": prog.status,
                "source": prog.source,
                "eligible": found.eligible if found else None,
                "reasons": [r.code for r in found.reasons] if found else [],
            }
        )
    return out


@router.get("/programme-applications", response=list[ProgrammeApplicationOut])
def programme_application_list(request: HttpRequest) -> list[ProgrammeApplication]:
    """Agency staff: applications awaiting review; the card holder: their own."""
    actor = _caller(request)
    if permissions.may_review_programmes(actor):
        return list(programmes.applications_queue(actor)[:500])
    return list(programmes.applications_visible(actor).order_by("-applied_at")[:100])


@router.post("/programme-applications", response={201: ProgrammeApplicationOut})
@idempotent()
def programme_application_create(
    request: HttpRequest, payload: ProgrammeApplicationIn
) -> Status[Any]:
    """The card holder applies (they must qualify today): 400 with the reason's code when not,
    409 ``programme_applied`` for a second application."""
    app = programmes.programme_apply(
        actor=_caller(request),
        programme=payload.programme,
        bank_details=services.BankDetails(**payload.bank.model_dump()),
    )
    return Status(201, app)


@router.get("/programme-applications/{programme_application_id}", response=ProgrammeApplicationOut)
def programme_application_get(
    request: HttpRequest, programme_application_id: int
) -> ProgrammeApplication:
    return programmes.application_get(
        actor=_caller(request), programme_application_id=programme_application_id
    )


@router.post(
    "/programme-applications/{programme_application_id}/decision",
    response=ProgrammeApplicationOut,
)
def programme_application_decision(
    request: HttpRequest, programme_application_id: int, payload: ProgrammeDecisionIn
) -> ProgrammeApplication:
    """Agency staff of the holder's region: approve (paid in the next payment run) or reject.
    Above the four-eyes threshold the first approval gives ``second_approval``; a second,
    different agency user decides then (403 ``four_eyes`` for the first one)."""
    return programmes.programme_decide(
        actor=_caller(request),
        programme_application_id=programme_application_id,
        **payload.model_dump(),
    )
