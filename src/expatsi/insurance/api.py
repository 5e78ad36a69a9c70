"""REST API for employment and social insurance registration (the 30-day clock).

Two routers: ``/employments`` (start, effective-dated change, end) and ``/registrations`` (submit,
accept, reject, and ``/registrations/hire`` — the one-flow new hire). Amounts are yuan strings.
An employment or registration the caller may not see is a 404, whatever the reason.
"""

# No ``from __future__ import annotations``: ninja reads the query parameters of paginated views
# through a wrapper living in another module, where string annotations would not resolve.
from datetime import date, datetime
from typing import Annotated, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from expatsi.access.auth import Pagination, api_auth, request_actor
from expatsi.access.idempotency import idempotent
from expatsi.access.validation import BirthDate, Day, Email, Id, Identifier, Text
from expatsi.employers.selectors import employer_get
from expatsi.insurance import selectors, services
from expatsi.insurance.models import Employment, Registration
from expatsi.insurance.selectors import person_get
from expatsi.people.selectors import document_of_person
from expatsi.people.services import PersonData
from expatsi.rules.money import format_yuan, parse_yuan

employments_router = Router(tags=["employments"], auth=api_auth)
registrations_router = Router(tags=["registrations"], auth=api_auth)

StatusName = Literal["submitted", "accepted", "rejected"]
DeadlineStatus = Literal[
    "on_time", "due_soon", "overdue", "registered_on_time", "registered_late", "rejected"
]


# --- schemas ---------------------------------------------------------------------------------


class EmploymentOut(Schema):
    id: int
    person_id: int
    employer_id: int
    employer_name: str
    engagement_id: int | None
    start_date: date
    end_date: date | None
    end_reason: str
    position: str
    contract_wage: str  # yuan a month
    seconded_by: str
    seconded_by_country: str

    @staticmethod
    def resolve_employer_name(obj: Employment) -> str:
        return obj.employer.name

    @staticmethod
    def resolve_contract_wage(obj: Employment) -> str:
        return format_yuan(obj.contract_wage)


class DeadlineOut(Schema):
    status: str
    days_left: int | None
    days_late: int | None


class RegistrationOut(Schema):
    id: int
    person_id: int
    person_name: str
    employer_id: int
    employer_name: str
    employment_id: int
    permit_id: int | None
    permit_issued_on: date
    deadline: date
    deadline_status: DeadlineOut
    insurance_start: date
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    registered_on: date | None
    rejection_reason: str

    @staticmethod
    def resolve_person_name(obj: Registration) -> str:
        return obj.person.full_name

    @staticmethod
    def resolve_employer_name(obj: Registration) -> str:
        return obj.employer.name

    @staticmethod
    def resolve_deadline_status(obj: Registration) -> DeadlineOut:
        view = selectors.registration_deadline_status(obj, timezone.localdate())
        return DeadlineOut(status=view.status, days_left=view.days_left, days_late=view.days_late)


class HireWarningOut(Schema):
    """A consequence of a hire accepted anyway (``late_registration``): amounts in yuan."""

    code: str
    message: str
    field: str
    overdue_days: int
    months_owed: int
    owed_amount: str
    late_fee_exposure: str
    basis: str


class HireOut(RegistrationOut):
    warnings: list[HireWarningOut] = Field(default_factory=list)


class CertificateOut(Schema):
    id: int
    person_id: int
    number: str
    country: str
    valid_from: date
    valid_to: date


class EmploymentStartIn(Schema):
    person_id: int
    employer_id: int
    start_date: Day
    end_date: Day | None = None
    position: Annotated[str, Text(200)]
    contract_wage: Annotated[str, Text(30)]
    seconded_by: Annotated[str, Text(200)] = ""
    seconded_by_country: str = ""


class EmploymentChangeIn(Schema):
    on: Day
    position: Annotated[str, Text(200)] | None = None
    contract_wage: Annotated[str, Text(30)] | None = None


class EmploymentEndIn(Schema):
    end_date: Day


class RegistrationSubmitIn(Schema):
    employment_id: int
    permit_id: int | None = None


class RegistrationAcceptIn(Schema):
    registered_on: Day | None = None


class RegistrationRejectIn(Schema):
    reason: Annotated[str, Text(300, multiline=True)]


class PersonIn(Schema):
    """Lengths are the model's; names and contact details are single lines (they reach e-mail
    headers), the e-mail address is checked as one."""

    family_name: Annotated[str, Text(100)]
    given_names: Annotated[str, Text(150)] = ""
    chinese_name: Annotated[str, Text(50)] = ""
    sex: str
    birth_date: BirthDate
    nationality: str
    passport_number: Annotated[str, Identifier(20)]
    passport_country: str = ""
    email: Email = ""
    phone: Annotated[str, Text(30)] = ""
    address_abroad: Annotated[str, Text(300)] = ""
    preferred_language: str = "en"


class HireIn(Schema):
    """A new hire in one go: the person (found again by passport), documents, employment, registration.

    ``permit_number``: for ``integrated_card`` or ``work_permit``, the person's card on file — its
    card number, its 18-digit work permit number, or ``A`` and the number of its application while
    the card awaits a decision; the dates are the card's (``permit_issued_on`` and
    ``permit_valid_to`` are then ignored). An unknown number, another person's card or a card no
    longer in force is a 400 on ``permit_number``. For ``press_card`` or ``permanent_resident_id``,
    the document's own number, with its ``permit_issued_on``.
    """

    employer_id: int
    person: PersonIn
    permit_kind: str = "integrated_card"
    permit_number: Annotated[str, Identifier(40)]
    permit_issued_on: Day | None = None
    permit_valid_to: Day | None = None
    residence_permit_number: Annotated[str, Identifier(40)] = ""
    residence_permit_issued_on: Day | None = None
    residence_permit_valid_to: Day | None = None
    start_date: Day
    end_date: Day | None = None
    position: Annotated[str, Text(200)]
    contract_wage: Annotated[str, Text(30)]
    seconded_by: Annotated[str, Text(200)] = ""
    seconded_by_country: str = ""

    def to_data(self) -> services.HireData:
        fields = self.model_dump(exclude={"employer_id", "person", "contract_wage"})
        return services.HireData(
            person=PersonData(**self.person.model_dump()),
            contract_wage=parse_yuan(self.contract_wage, field="contract_wage"),
            **fields,
        )


def hire(request: HttpRequest, payload: HireIn) -> Registration:
    """The one-flow hire, shared by ``POST /registrations/hire`` and ``POST /employees``."""
    actor = request_actor(request)
    employer = employer_get(actor=actor, employer_id=payload.employer_id)
    data = payload.to_data()
    reg = services.hire_register(actor=actor, employer=employer, data=data)
    warnings = services.hire_warnings_for(registration=reg, data=data, today=timezone.localdate())
    reg.warnings = [  # type: ignore[attr-defined]
        HireWarningOut(
            code=w.code,
            message=w.message,
            field=w.field,
            overdue_days=w.overdue_days,
            months_owed=w.months_owed,
            owed_amount=format_yuan(w.owed_amount),
            late_fee_exposure=format_yuan(w.late_fee_exposure),
            basis=w.basis,
        )
        for w in warnings
    ]
    return reg


# --- employments -----------------------------------------------------------------------------


def _employment(request: HttpRequest, employment_id: int) -> Employment:
    return selectors.employment_get(actor=request_actor(request), employment_id=employment_id)


@employments_router.get("", response=list[EmploymentOut])
@paginate(Pagination)
def employment_list(
    request: HttpRequest,
    person_id: Id | None = None,
    employer_id: Id | None = None,
    current: bool = False,
) -> QuerySet[Employment]:
    """Employment rows (every version) the caller may see; ``current`` keeps those not yet ended."""
    return selectors.employment_list(
        actor=request_actor(request), person_id=person_id, employer_id=employer_id, current=current
    )


@employments_router.get("/{employment_id}", response=EmploymentOut)
def employment_detail(request: HttpRequest, employment_id: int) -> Employment:
    return _employment(request, employment_id)


@employments_router.post("", response={201: EmploymentOut})
@idempotent()
def employment_start(request: HttpRequest, payload: EmploymentStartIn) -> Status[Employment]:
    """Start an employment of a person the caller already sees (a new person: use the hire flow)."""
    actor = request_actor(request)
    person = person_get(actor=actor, person_id=payload.person_id, audit=False)
    employer = employer_get(actor=actor, employer_id=payload.employer_id)
    return Status(
        201,
        services.employment_start(
            actor=actor,
            person=person,
            employer=employer,
            start_date=payload.start_date,
            end_date=payload.end_date,
            position=payload.position,
            contract_wage=parse_yuan(payload.contract_wage, field="contract_wage"),
            seconded_by=payload.seconded_by,
            seconded_by_country=payload.seconded_by_country,
        ),
    )


@employments_router.post("/{employment_id}/change", response={201: EmploymentOut})
@idempotent()
def employment_change(
    request: HttpRequest, employment_id: int, payload: EmploymentChangeIn
) -> Status[Employment]:
    """New terms from ``on``: this version closes the day before and the answer is the new version."""
    _employment(request, employment_id)
    wage = (
        None
        if payload.contract_wage is None
        else parse_yuan(payload.contract_wage, field="contract_wage")
    )
    return Status(
        201,
        services.employment_change(
            actor=request_actor(request),
            employment_id=employment_id,
            on=payload.on,
            position=payload.position,
            contract_wage=wage,
        ),
    )


@employments_router.post("/{employment_id}/end", response=EmploymentOut)
@idempotent()
def employment_end(
    request: HttpRequest, employment_id: int, payload: EmploymentEndIn
) -> Employment:
    """The employment ends on ``end_date`` (the last day worked)."""
    _employment(request, employment_id)
    return services.employment_end(
        actor=request_actor(request), employment_id=employment_id, on=payload.end_date
    )


# --- registrations ---------------------------------------------------------------------------


@registrations_router.get("", response=list[RegistrationOut])
@paginate(Pagination)
def registration_list(
    request: HttpRequest,
    status: StatusName | None = None,
    deadline_status: DeadlineStatus | None = None,
    employer_id: Id | None = None,
    person_id: Id | None = None,
) -> QuerySet[Registration]:
    """Registrations the caller may see, soonest deadline first; filter by status and deadline status."""
    return selectors.registration_list(
        actor=request_actor(request),
        status=status,
        deadline_status=deadline_status,
        employer_id=employer_id,
        person_id=person_id,
    )


# Declared before "/{registration_id}" so that "hire" is not taken for an id.
@registrations_router.post("/hire", response={201: HireOut})
@idempotent()
def registration_hire(request: HttpRequest, payload: HireIn) -> Status[Registration]:
    """Register a new hire in one flow: person, documents, employment and registration — all or nothing."""
    return Status(201, hire(request, payload))


@registrations_router.get("/{registration_id}", response=RegistrationOut)
def registration_detail(request: HttpRequest, registration_id: int) -> Registration:
    return selectors.registration_get(actor=request_actor(request), registration_id=registration_id)


@registrations_router.post("", response={201: RegistrationOut})
@idempotent()
def registration_submit(
    request: HttpRequest, payload: RegistrationSubmitIn
) -> Status[Registration]:
    """Apply to register an employment; the permit defaults to the person's latest employment document."""
    employment = _employment(request, payload.employment_id)
    permit = None
    if payload.permit_id is not None:
        permit = document_of_person(
            person_id=employment.person_id, document_id=payload.permit_id, field="permit_id"
        )
    return Status(
        201,
        services.registration_submit(
            actor=request_actor(request), employment=employment, permit=permit
        ),
    )


@registrations_router.post("/{registration_id}/accept", response=RegistrationOut)
@idempotent()
def registration_accept(
    request: HttpRequest, registration_id: int, payload: RegistrationAcceptIn | None = None
) -> Registration:
    """Agency staff accept; a person without a social security number gets one (kept for life)."""
    registered_on = payload.registered_on if payload is not None else None
    return services.registration_accept(
        actor=request_actor(request), registration_id=registration_id, registered_on=registered_on
    )


@registrations_router.post("/{registration_id}/reject", response=RegistrationOut)
@idempotent()
def registration_reject(
    request: HttpRequest, registration_id: int, payload: RegistrationRejectIn
) -> Registration:
    """Agency staff reject, with the reason the employer will read."""
    return services.registration_reject(
        actor=request_actor(request), registration_id=registration_id, reason=payload.reason
    )


__all__ = [
    "CertificateOut",
    "EmploymentOut",
    "HireIn",
    "RegistrationOut",
    "employments_router",
    "hire",
    "registrations_router",
]
