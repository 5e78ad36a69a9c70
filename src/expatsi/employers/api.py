"""REST API for employers: registration, HR users, work-injury ratings, API tokens.

Thin: schema in → one service or selector call → schema out. Permissions live in the services and
selectors; an employer the caller may not see is a 404, never a hint that it exists.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from expatsi.access.auth import Pagination, api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Email, Text
from expatsi.employers import selectors, services
from expatsi.employers.models import (
    ApiToken,
    Employer,
    EmployerKind,
    HrInvitation,
    WorkInjuryRating,
)
from expatsi.rules.errors import RuleError
from expatsi.rules.money import format_rate

router = Router(tags=["employers"], auth=api_auth)


class EmployerIn(Schema):
    name: Annotated[str, Text(200)]
    uscc: str
    region_code: str
    kind: str = EmployerKind.DOMESTIC
    name_zh: Annotated[str, Text(200)] = ""
    overseas_company: Annotated[str, Text(200)] = ""
    overseas_country: str = ""
    address: Annotated[str, Text(300)] = ""
    email: Email = ""


class EmployerOut(Schema):
    id: int
    name: str
    name_zh: str
    uscc: str
    region_code: str
    kind: str
    overseas_company: str
    overseas_country: str
    address: str
    email: str
    created_at: datetime


class HrInviteIn(Schema):
    """A new person to invite as HR. ``username`` is not accepted: the invitee chooses it."""

    email: Email
    first_name: Annotated[str, Text(150)] = ""
    last_name: Annotated[str, Text(150)] = ""
    language: str = ""  # of the e-mail and the page it links to: en or zh-hans (default: request's)
    username: str | None = None


class HrInvitationOut(Schema):
    id: int
    employer_id: int
    email: str
    first_name: str
    last_name: str
    language: str
    status: str
    created_at: datetime
    expires_at: datetime

    @staticmethod
    def resolve_status(obj: HrInvitation) -> str:
        return "accepted" if obj.accepted_at else "invited"


class RatingIn(Schema):
    industry_class: str
    grade: str  # "100%", "120%" … or "1.2"
    effective_from: Day


class RatingOut(Schema):
    id: int
    employer_id: int
    industry_class: str
    grade: str
    rate: str
    effective_from: date
    effective_to: date | None

    @staticmethod
    def resolve_grade(obj: WorkInjuryRating) -> str:
        return format_rate(obj.grade_ppm)

    @staticmethod
    def resolve_rate(obj: WorkInjuryRating) -> str:
        return format_rate(obj.rate_ppm)


class TokenIn(Schema):
    name: Annotated[str, Text(100)]


class TokenOut(Schema):
    id: int
    employer_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    secret: str | None  # shown once; a replayed (Idempotency-Key) answer carries null


@router.get("", response=list[EmployerOut])
@paginate(Pagination)
def employer_list(request: HttpRequest, q: str = "") -> QuerySet[Employer]:
    """Employers the caller may see (agency: its regions; HR: its own; employee: theirs)."""
    return selectors.employer_search(actor=request_actor(request), query=q)


@router.get("/{employer_id}", response=EmployerOut)
def employer_detail(request: HttpRequest, employer_id: int) -> Employer:
    return selectors.employer_get(actor=request_actor(request), employer_id=employer_id)


@router.post("", response={201: EmployerOut})
@idempotent()
def employer_create(request: HttpRequest, payload: EmployerIn) -> Status[Employer]:
    """Register an employer (agency staff of its region)."""
    return Status(
        201, services.employer_create(actor=request_actor(request), **payload.model_dump())
    )


@router.post("/{employer_id}/hr-users", response={201: HrInvitationOut})
@idempotent()
def hr_user_invite(
    request: HttpRequest, employer_id: int, payload: HrInviteIn
) -> Status[HrInvitation]:
    """Invite a new person as HR (agency staff, or the employer's signed-in HR): an e-mail with a
    one-time link goes to ``email``, where they choose their user name and password. An existing
    account is never given HR access, and the answer never depends on who has which user name
    or address."""
    actor = request_actor(request)
    employer = selectors.employer_get(actor=actor, employer_id=employer_id)
    if payload.username is not None:  # whoever it names: never looked up, never attached
        raise RuleError(
            "username_not_accepted",
            "the person invited chooses their own user name when accepting; send email, "
            "first_name and last_name",
            "username",
        )
    invitation = services.hr_invite(
        actor=actor,
        employer=employer,
        email=payload.email,
        first_name=payload.first_name,
        last_name=payload.last_name,
        language=payload.language,
        site=request.build_absolute_uri("/"),
    )
    return Status(201, invitation)


@router.get("/{employer_id}/work-injury-ratings", response=list[RatingOut])
@paginate(Pagination)
def rating_list(request: HttpRequest, employer_id: int) -> QuerySet[WorkInjuryRating]:
    return selectors.work_injury_ratings(actor=request_actor(request), employer_id=employer_id)


@router.post("/{employer_id}/work-injury-ratings", response={201: RatingOut})
@idempotent()
def rating_set(
    request: HttpRequest, employer_id: int, payload: RatingIn
) -> Status[WorkInjuryRating]:
    """Rate the employer from a date on (agency staff of its region); the open rating closes."""
    actor = request_actor(request)
    employer = selectors.employer_get(actor=actor, employer_id=employer_id)
    return Status(
        201, services.work_injury_rating_set(actor=actor, employer=employer, **payload.model_dump())
    )


@router.get("/{employer_id}/api-tokens", response=list[TokenOut])
@paginate(Pagination)
def token_list(request: HttpRequest, employer_id: int) -> QuerySet[ApiToken]:
    """The employer's tokens, without secrets (its HR and agency staff)."""
    return selectors.api_tokens_visible(actor=request_actor(request), employer_id=employer_id)


@router.post("/{employer_id}/api-tokens", response={201: TokenCreatedOut})
@idempotent(redact=("secret",))
def token_create(
    request: HttpRequest, employer_id: int, payload: TokenIn
) -> Status[dict[str, Any]]:
    """A new token for the employer's HR system. The secret is in this answer only."""
    token, secret = services.api_token_create(
        actor=request_actor(request), employer_id=employer_id, name=payload.name
    )
    return Status(201, {**TokenOut.model_validate(token).model_dump(), "secret": secret})


@router.post("/{employer_id}/api-tokens/{token_id}/revoke", response=TokenOut)
def token_revoke(request: HttpRequest, employer_id: int, token_id: int) -> ApiToken:
    """Revoke a token (its employer's HR, or agency staff); revoking twice changes nothing."""
    actor = request_actor(request)
    selectors.api_token_get(actor=actor, employer_id=employer_id, token_id=token_id)
    return services.api_token_revoke(actor=actor, token_id=token_id)
