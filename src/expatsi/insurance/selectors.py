"""Reads of people, employment and registration, in the actor's scope.

Which people, employments and registrations an actor may see is decided in
``insurance.permissions`` (who sees which people needs employment, which lives in this context);
every read here applies it. What the actor may not see is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.audit.services import audit_record
from expatsi.employers.models import Employer
from expatsi.employers.permissions import may_act_in_region
from expatsi.insurance import permissions
from expatsi.insurance.models import (
    CoverageCertificate,
    Employment,
    Registration,
    RegistrationStatus,
)
from expatsi.people.models import Person
from expatsi.rules.deadlines import clock
from expatsi.rules.errors import NotFound
from expatsi.rules.regions import regions

# "Due soon" on pages and in the API: the registration clock's due_soon_days in deadlines.toml.
DUE_SOON_DAYS = clock("registration").due_soon_days


@dataclass(frozen=True, slots=True)
class DeadlineView:
    """Where a registration stands against its 30-day clock."""

    status: str  # on_time, due_soon, overdue, registered_on_time, registered_late, rejected
    days_left: int | None
    days_late: int | None


def registration_deadline_status(reg: Registration, today: date | None = None) -> DeadlineView:
    today = today or timezone.localdate()
    if reg.status == RegistrationStatus.ACCEPTED and reg.registered_on is not None:
        late = (reg.registered_on - reg.deadline).days
        return DeadlineView(
            "registered_late" if late > 0 else "registered_on_time", None, max(late, 0) or None
        )
    if reg.status == RegistrationStatus.REJECTED:
        return DeadlineView("rejected", None, None)
    left = (reg.deadline - today).days
    if left < 0:
        return DeadlineView("overdue", left, -left)
    return DeadlineView("due_soon" if left <= DUE_SOON_DAYS else "on_time", left, None)


def registrations_visible(actor: Actor) -> QuerySet[Registration]:
    qs = Registration.objects.select_related("person", "employer")
    scope = permissions.registration_scope(actor)
    return qs if scope is None else qs.filter(scope)


def employments_visible(actor: Actor) -> QuerySet[Employment]:
    qs = Employment.objects.select_related("person", "employer")
    scope = permissions.employment_scope(actor)
    return qs if scope is None else qs.filter(scope)


def persons_visible(actor: Actor) -> QuerySet[Person]:
    """Agency: its regions; HR: people its employers employ now (or will); employee: themself."""
    scope = permissions.person_scope(actor)
    qs = Person.objects.all()
    return qs if scope is None else qs.filter(scope)


def person_get(*, actor: Actor, person_id: int, audit: bool = True) -> Person:
    """One person the actor may see; the read is audited."""
    person = persons_visible(actor).filter(pk=person_id).first()
    if person is None:
        raise NotFound("not_found", f"no person {person_id} that you may see", "person_id")
    if audit:
        audit_record(
            actor=actor,
            action="person.read",
            object_type="person",
            object_id=person.pk,
            person_id=person.pk,
        )
    return person


def person_search(*, actor: Actor, query: str = "", limit: int | None = 50) -> QuerySet[Person]:
    """Search by name, passport number or social security number within the actor's scope."""
    qs = persons_visible(actor)
    q = (query or "").strip()
    if q:
        token = q.replace(" ", "").upper()
        qs = qs.filter(
            Q(family_name__icontains=q)
            | Q(given_names__icontains=q)
            | Q(chinese_name__icontains=q)
            | Q(ssn=token)
            | Q(passports__number_hash__in=search_hashes(token))
        ).distinct()
    qs = qs.order_by("family_name", "given_names", "pk")
    return qs if limit is None else qs[:limit]


def certificates_of(person: Person) -> QuerySet[CoverageCertificate]:
    """The person's certificates of coverage, latest ending first (the caller found the person
    through :func:`person_get`)."""
    return person.coverage_certificates.order_by("-valid_to", "-pk")


# --- employments ----------------------------------------------------------------------------------


def employment_get(*, actor: Actor, employment_id: int) -> Employment:
    found = employments_visible(actor).filter(pk=employment_id).first()
    if found is None:
        raise NotFound(
            "not_found", f"no employment {employment_id} that you may see", "employment_id"
        )
    return found


def employment_list(
    *,
    actor: Actor,
    person_id: int | None = None,
    employer_id: int | None = None,
    current: bool = False,
) -> QuerySet[Employment]:
    """Employment rows (every version) the actor may see, latest start first; ``current`` keeps
    those not yet ended."""
    qs = employments_visible(actor)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    if current:
        qs = qs.filter(Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate()))
    return qs.order_by("-start_date", "-pk")


# --- registrations --------------------------------------------------------------------------------

# The HR home page's sort orders: by deadline or by name, either way round.
REGISTRATION_SORTS: dict[str, tuple[str, ...]] = {
    "deadline": ("deadline", "person__family_name"),
    "-deadline": ("-deadline", "person__family_name"),
    "name": ("person__family_name", "person__given_names"),
    "-name": ("-person__family_name", "-person__given_names"),
}


def deadline_status_q(status: str, today: date) -> Q:
    """The database filter equal to :func:`registration_deadline_status` giving ``status``."""
    submitted = Q(status=RegistrationStatus.SUBMITTED)
    accepted = Q(status=RegistrationStatus.ACCEPTED, registered_on__isnull=False)
    soon = today + timedelta(days=DUE_SOON_DAYS)
    return {
        "overdue": submitted & Q(deadline__lt=today),
        "due_soon": submitted & Q(deadline__gte=today, deadline__lte=soon),
        "on_time": submitted & Q(deadline__gt=soon),
        "registered_on_time": accepted & Q(registered_on__lte=F("deadline")),
        "registered_late": accepted & Q(registered_on__gt=F("deadline")),
        "rejected": Q(status=RegistrationStatus.REJECTED),
    }[status]


def registration_get(*, actor: Actor, registration_id: int) -> Registration:
    """One registration the actor may see, with its employment and permit."""
    found = (
        registrations_visible(actor)
        .select_related("employment", "permit")
        .filter(pk=registration_id)
        .first()
    )
    if found is None:
        raise NotFound(
            "not_found", f"no registration {registration_id} that you may see", "registration_id"
        )
    return found


def registration_list(
    *,
    actor: Actor,
    status: str | None = None,
    deadline_status: str | None = None,
    employer_id: int | None = None,
    person_id: int | None = None,
    today: date | None = None,
) -> QuerySet[Registration]:
    """Registrations the actor may see, soonest deadline first."""
    qs = registrations_visible(actor)
    if status is not None:
        qs = qs.filter(status=status)
    if deadline_status is not None:
        qs = qs.filter(deadline_status_q(deadline_status, today or timezone.localdate()))
    if employer_id is not None:
        qs = qs.filter(employer_id=employer_id)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    return qs.order_by("deadline", "pk")


def registrations_awaiting_decision(*, actor: Actor) -> QuerySet[Registration]:
    """Submitted registrations in the actor's scope, the most urgent first (the agency's queue)."""
    return registration_list(actor=actor, status=RegistrationStatus.SUBMITTED)


def registrations_of_employer(
    *, actor: Actor, employer: Employer, sort: str = "deadline"
) -> QuerySet[Registration]:
    """The employer's registrations in the actor's scope, in one of ``REGISTRATION_SORTS``."""
    order = REGISTRATION_SORTS.get(sort, REGISTRATION_SORTS["deadline"])
    return registrations_visible(actor).filter(employer=employer).order_by(*order, "pk")


def registrations_of_person(
    *, actor: Actor, person: Person, newest: str = "deadline"
) -> QuerySet[Registration]:
    """The person's registrations the actor may see, newest first by ``deadline`` or by
    ``submitted`` (the person page)."""
    field = "-submitted_at" if newest == "submitted" else "-deadline"
    return registrations_visible(actor).filter(person=person).order_by(field, "-pk")


def employments_of_person(*, actor: Actor, person: Person) -> QuerySet[Employment]:
    """The person's employments the actor may see (HR: with their own employer), latest first."""
    return employments_visible(actor).filter(person=person).order_by("-start_date", "-pk")


@dataclass(frozen=True, slots=True)
class RegionLoad:
    """Submitted registrations of one region, and how many of them are overdue."""

    code: str
    submitted: int
    overdue: int


def registration_load_by_region(*, actor: Actor, today: date | None = None) -> list[RegionLoad]:
    """Every region the actor works in (and any other where it sees a registration), with its
    submitted and overdue registrations: the agency home page's table."""
    today = today or timezone.localdate()
    open_regs = registrations_visible(actor).filter(status=RegistrationStatus.SUBMITTED)
    by_region = {
        str(row["employer__region_code"]): (row["submitted"], row["overdue"])
        for row in open_regs.values("employer__region_code").annotate(
            overdue=Count("id", filter=Q(deadline__lt=today)),
            submitted=Count("id"),
        )
    }
    codes = {c for c in regions() if may_act_in_region(actor, c)} | set(by_region)
    return [RegionLoad(code, *by_region.get(code, (0, 0))) for code in sorted(codes)]


# --- lists (web.lists) ------------------------------------------------------------------------------


def registration_table(*, actor: Actor) -> QuerySet[Registration]:
    """Every registration the actor may see, whatever its status, with what a list row shows
    (person, employer, employment) joined in: one query per page however many rows."""
    return registrations_visible(actor).select_related("employment")


def registration_search(qs: QuerySet[Registration], query: str) -> QuerySet[Registration]:
    """Narrow registrations by the person's name, Chinese name, social security number or
    passport number (exact, through its search hash), or the employer's name or USCC."""
    q = query.strip()
    if not q:
        return qs
    token = q.replace(" ", "").upper()
    people = Person.objects.filter(passports__number_hash__in=search_hashes(token)).values("pk")
    return qs.filter(
        Q(person__family_name__icontains=q)
        | Q(person__given_names__icontains=q)
        | Q(person__chinese_name__icontains=q)
        | Q(person__ssn=token)
        | Q(person_id__in=people)
        | Q(employer__name__icontains=q)
        | Q(employer__name_zh__icontains=q)
        | Q(employer__uscc=token)
    )


def registration_filter_deadline(
    qs: QuerySet[Registration], deadline_status: str, today: date | None = None
) -> QuerySet[Registration]:
    """Registrations whose deadline status (:func:`registration_deadline_status`) is this one."""
    return qs.filter(deadline_status_q(deadline_status, today or timezone.localdate()))


def registrations_by_ids(*, actor: Actor, ids: list[int]) -> QuerySet[Registration]:
    """The registrations among ``ids`` that the actor may see (a bulk action's selection)."""
    return registrations_visible(actor).filter(pk__in=ids).order_by("deadline", "pk")


def registration_table_of_employer(*, actor: Actor, employer: Employer) -> QuerySet[Registration]:
    """The employer's registrations in the actor's scope, each marked ``open_first`` (0 while
    awaiting a decision, 1 once decided): the HR home list sorts the open ones — overdue first —
    before the decided ones."""
    return (
        registration_table(actor=actor)
        .filter(employer=employer)
        .annotate(
            open_first=Case(
                When(status=RegistrationStatus.SUBMITTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
    )


def registration_deadline_counts(
    qs: QuerySet[Registration], today: date | None = None
) -> dict[str, int]:
    """How many of ``qs`` are overdue, due soon, on time and registered: one query."""
    today = today or timezone.localdate()
    return qs.order_by().aggregate(
        overdue=Count("id", filter=deadline_status_q("overdue", today)),
        due_soon=Count("id", filter=deadline_status_q("due_soon", today)),
        on_time=Count("id", filter=deadline_status_q("on_time", today)),
        registered=Count("id", filter=Q(status=RegistrationStatus.ACCEPTED)),
    )
