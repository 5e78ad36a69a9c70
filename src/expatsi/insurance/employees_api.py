"""REST API for foreign employees (their full record, documents, passports, certificates of
coverage) and the entry/exit import from the exit-entry authority.

Every read of a person's record goes through :func:`person_get`, which audits it; writes are
audited by the services. A person the caller may not see is a 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from expatsi.access.actors import Actor
from expatsi.access.auth import Pagination, api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import Day, Identifier, Text
from expatsi.insurance import selectors
from expatsi.insurance.api import (
    CertificateOut,
    EmploymentOut,
    HireIn,
    HireWarningOut,
    RegistrationOut,
    hire,
)
from expatsi.insurance.cardlink import CARD_KINDS
from expatsi.insurance.models import CoverageCertificate, Employment, Registration
from expatsi.insurance.services import certificate_add
from expatsi.people import imports, services
from expatsi.people import selectors as people_selectors
from expatsi.people.models import Document, Passport, Person
from expatsi.people.permissions import own_person_id, passport_number_for
from expatsi.rules.eligibility import eligibility
from expatsi.rules.errors import NotFound, RuleError

router = Router(tags=["employees"], auth=api_auth)
entry_exit_router = Router(tags=["entry-exit"], auth=api_auth)

MAX_IMPORT_BYTES = 50 * 1024 * 1024


# --- schemas ---------------------------------------------------------------------------------


class PassportOut(Schema):
    id: int
    country: str
    number: str  # whole or ``****1234`` by the caller's role (people/permissions.py)
    issued_on: date | None
    expires_on: date | None
    is_current: bool

    @staticmethod
    def resolve_number(obj: Passport, context: dict[str, Any]) -> str:
        return passport_number_for(_actor_of(context), obj)


class DocumentOut(Schema):
    id: int
    kind: str
    number: str
    issued_on: date
    valid_from: date
    valid_to: date | None
    authority: str


class EligibilityOut(Schema):
    on: date
    eligible: bool
    basis: str
    failing: list[str]
    since: date | None
    explanation: str
    legal_basis: str


def _current_passport(obj: Person) -> Passport | None:
    cached = getattr(obj, "current_passports", None)
    if cached is not None:
        return cached[0] if cached else None
    return people_selectors.current_passport(obj)


def _actor_of(context: dict[str, Any] | None) -> Actor:
    return request_actor((context or {})["request"])


class PersonSummaryOut(Schema):
    id: int
    family_name: str
    given_names: str
    chinese_name: str
    full_name: str
    sex: str
    birth_date: date
    nationality: str
    ssn: str | None
    passport_country: str | None
    passport_number: str | None

    @staticmethod
    def resolve_passport_country(obj: Person) -> str | None:
        passport = _current_passport(obj)
        return passport.country if passport else None

    @staticmethod
    def resolve_passport_number(obj: Person, context: dict[str, Any]) -> str | None:
        passport = _current_passport(obj)
        return passport_number_for(_actor_of(context), passport) if passport else None


class PersonOut(PersonSummaryOut):
    """The full record: what the caller may see of it (HR: only its own employments)."""

    email: str
    phone: str
    address_abroad: str
    preferred_language: str
    ssn_assigned_at: datetime | None
    passports: list[PassportOut]
    documents: list[DocumentOut]
    employments: list[EmploymentOut]
    registrations: list[RegistrationOut]
    certificates: list[CertificateOut]
    eligibility: EligibilityOut

    @staticmethod
    def resolve_passports(obj: Person) -> QuerySet[Passport]:
        return people_selectors.passports_of(obj)

    @staticmethod
    def resolve_documents(obj: Person) -> QuerySet[Document]:
        return people_selectors.documents_of(obj)

    @staticmethod
    def resolve_employments(obj: Person, context: dict[str, Any]) -> QuerySet[Employment]:
        return selectors.employments_of_person(actor=_actor_of(context), person=obj)

    @staticmethod
    def resolve_registrations(obj: Person, context: dict[str, Any]) -> QuerySet[Registration]:
        return selectors.registrations_of_person(actor=_actor_of(context), person=obj)

    @staticmethod
    def resolve_certificates(obj: Person) -> QuerySet[CoverageCertificate]:
        return selectors.certificates_of(obj)

    @staticmethod
    def resolve_eligibility(obj: Person) -> dict[str, Any]:
        today = timezone.localdate()
        result = eligibility(people_selectors.document_spans(obj), today)
        return {
            "on": today,
            "eligible": result.eligible,
            "basis": result.basis,
            "failing": list(result.failing),
            "since": result.since,
            "explanation": result.explanation,
            "legal_basis": result.legal_basis,
        }


class DocumentIn(Schema):
    kind: str
    number: Annotated[str, Identifier(40)]
    issued_on: Day
    valid_from: Day | None = None
    valid_to: Day | None = None
    authority: Annotated[str, Text(200)] = ""


class PassportIn(Schema):
    country: str
    number: Annotated[str, Identifier(20)]
    issued_on: Day | None = None
    expires_on: Day | None = None


class CertificateIn(Schema):
    number: Annotated[str, Identifier(60)]
    country: str
    valid_from: Day
    valid_to: Day


class ImportOut(Schema):
    batch: str
    rows: int
    created: int
    skipped: int


class CrossingRowErrorOut(Schema):
    row: int
    column: str
    message: str


class ImportErrorOut(Schema):
    code: str
    message: str
    field: str
    errors: list[CrossingRowErrorOut]


# --- employees -------------------------------------------------------------------------------


def _person(request: HttpRequest, person_id: int, *, audit: bool) -> Person:
    return selectors.person_get(actor=request_actor(request), person_id=person_id, audit=audit)


@router.get("", response=list[PersonSummaryOut])
@paginate(Pagination)
def employee_list(request: HttpRequest, q: str = "") -> QuerySet[Person]:
    """People the caller may see; ``q`` matches a name, a passport number (any, also earlier ones)
    or a social security number."""
    current = Prefetch(
        "passports", queryset=people_selectors.current_passports(), to_attr="current_passports"
    )
    return selectors.person_search(
        actor=request_actor(request), query=q, limit=None
    ).prefetch_related(current)


class HiredPersonOut(PersonOut):
    """The person's record after a hire, with the hire's warnings (a late hire: overdue days,
    months owed back and late-fee exposure), as ``POST /registrations/hire`` answers them."""

    warnings: list[HireWarningOut] = Field(default_factory=list)


@router.post("", response={201: HiredPersonOut})
@idempotent()
def employee_hire(request: HttpRequest, payload: HireIn) -> Status[Person]:
    """A new hire in one flow (as ``POST /registrations/hire``), answered with the person's record.
    A passport already on file finds the same person again: they keep their social security number."""
    registration = hire(request, payload)
    person = _person(request, registration.person_id, audit=True)
    person.warnings = registration.warnings  # type: ignore[attr-defined]
    return Status(201, person)


@router.get("/me", response=PersonOut)
def employee_me(request: HttpRequest) -> Person:
    """The signed-in foreign employee's own record."""
    person_id = own_person_id(request_actor(request))
    if person_id is None:
        raise NotFound("not_found", "you are not signed in as a foreign employee", "")
    return _person(request, person_id, audit=True)


@router.get("/{person_id}", response=PersonOut)
def employee_detail(request: HttpRequest, person_id: int) -> Person:
    """The full record: passports, documents, employments, registrations with their deadline
    status, certificates of coverage, social security number and eligibility today. Audited."""
    return _person(request, person_id, audit=True)


@router.post("/{person_id}/documents", response={201: DocumentOut})
@idempotent()
def document_add(request: HttpRequest, person_id: int, payload: DocumentIn) -> Status[Document]:
    """File a press card, residence permit or permanent resident ID card.

    Not an Integrated Card or work permit: the person has one card number, the cards register's
    (issue #10) — the card is applied for at /api/v1/cards, or the agency imports an older permit;
    a typed second number here would stand beside it and drift from it."""
    person = _person(request, person_id, audit=False)
    if payload.kind in CARD_KINDS:
        raise RuleError(
            "card_kind_by_register",
            "an Integrated Card or work permit is recorded by the cards register: apply for the "
            "card at /api/v1/cards, or the agency imports an older work permit",
            "kind",
        )
    return Status(
        201,
        services.document_add(actor=request_actor(request), person=person, **payload.model_dump()),
    )


@router.post("/{person_id}/passports", response={201: PassportOut})
@idempotent()
def passport_replace(request: HttpRequest, person_id: int, payload: PassportIn) -> Status[Passport]:
    """A new passport becomes current; earlier ones stay on file."""
    person = _person(request, person_id, audit=False)
    return Status(
        201,
        services.passport_replace(
            actor=request_actor(request), person=person, **payload.model_dump()
        ),
    )


@router.get("/{person_id}/certificates", response=list[CertificateOut])
@paginate(Pagination)
def certificate_list(request: HttpRequest, person_id: int) -> QuerySet[CoverageCertificate]:
    return selectors.certificates_of(_person(request, person_id, audit=True))


@router.post("/{person_id}/certificates", response={201: CertificateOut})
@idempotent()
def certificate_create(request: HttpRequest, person_id: int, payload: CertificateIn) -> Status[Any]:
    """File a home country's certificate of coverage (agreement countries only)."""
    person = _person(request, person_id, audit=False)
    return Status(
        201, certificate_add(actor=request_actor(request), person=person, **payload.model_dump())
    )


# --- entry/exit import -----------------------------------------------------------------------


@entry_exit_router.post("/imports", response={200: ImportOut, 400: ImportErrorOut})
@idempotent()
def entry_exit_import(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Import a border-authority CSV (agency staff). Columns ``passport_country, passport_number,
    date, direction, port``. All or nothing: any bad row → 400 listing every row's errors (row, column,
    message) and nothing written. Importing the same rows again adds nothing."""
    if file.size is not None and file.size > MAX_IMPORT_BYTES:
        raise RuleError(
            "file_too_large", f"at most {MAX_IMPORT_BYTES // (1024 * 1024)} MB per file", "file"
        )
    try:
        actor = request_actor(request)
        result = imports.entry_exit_import(
            actor=actor, content=file.read(), visible=selectors.persons_visible(actor)
        )
    except imports.ImportRejectedError as exc:
        return Status(
            400,
            {"code": exc.code, "message": exc.message, "field": exc.field, "errors": exc.errors},
        )
    return Status(200, result)
