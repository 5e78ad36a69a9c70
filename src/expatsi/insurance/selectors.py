"""Reads for employment and registration, in the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.insurance.models import Employment, Registration, RegistrationStatus
from expatsi.rules.deadlines import clock

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
