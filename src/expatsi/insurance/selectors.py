"""Reads for employment and registration, in the actor's scope.

Which people an actor may see is decided here, not in ``people``: HR see the people their
employers employ and region staff the people employed in their regions, so the answer needs
employment, which lives in this context. An invisible person is simply not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.audit.services import audit_record
from expatsi.insurance.models import Employment, Registration, RegistrationStatus
from expatsi.people.models import Person
from expatsi.rules.deadlines import clock
from expatsi.rules.errors import NotFound

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
    if actor.kind == "system" or (actor.kind == "agency" and actor.regions is None):
        return qs
    if actor.kind == "agency":
        return qs.filter(employer__region_code__in=actor.regions or ())
    if actor.kind == "hr":
        today = timezone.localdate()
        return qs.filter(employer_id__in=actor.employer_ids).filter(
            Q(employment__end_date__isnull=True) | Q(employment__end_date__gte=today)
        )
    if actor.kind == "employee" and actor.person_id is not None:
        return qs.filter(person_id=actor.person_id)
    return qs.none()


def employments_visible(actor: Actor) -> QuerySet[Employment]:
    qs = Employment.objects.select_related("person", "employer")
    if actor.kind == "system" or (actor.kind == "agency" and actor.regions is None):
        return qs
    if actor.kind == "agency":
        return qs.filter(employer__region_code__in=actor.regions or ())
    if actor.kind == "hr":
        today = timezone.localdate()
        engaged = (
            Employment.objects.filter(employer_id__in=actor.employer_ids)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
            .values("person_id")
        )
        return qs.filter(employer_id__in=actor.employer_ids, person_id__in=engaged)
    if actor.kind == "employee" and actor.person_id is not None:
        return qs.filter(person_id=actor.person_id)
    return qs.none()


# --- people, in the actor's scope ---------------------------------------------------------


def current_employment_q(employer_ids: frozenset[int]) -> Exists:
    today = timezone.localdate()
    return Exists(
        Employment.objects.filter(person=OuterRef("pk"), employer_id__in=employer_ids).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )
    )


def persons_visible(actor: Actor) -> QuerySet[Person]:
    """Agency: its regions; HR: people its employers employ now (or will); employee: themself."""
    qs = Person.objects.all()
    if actor.kind == "system" or (actor.kind == "agency" and actor.regions is None):
        return qs
    if actor.kind == "agency":
        return qs.filter(
            Exists(
                Employment.objects.filter(
                    person=OuterRef("pk"), employer__region_code__in=actor.regions or ()
                )
            )
        )
    if actor.kind == "hr":
        return qs.filter(current_employment_q(actor.employer_ids))
    if actor.kind == "employee" and actor.person_id is not None:
        return qs.filter(pk=actor.person_id)
    return qs.none()


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
