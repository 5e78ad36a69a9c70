"""Reads of people, always through the actor's scope. An invisible person is simply not found."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.access.crypto import search_hashes
from expatsi.audit.services import audit_record
from expatsi.insurance.models import Employment
from expatsi.people.models import Person
from expatsi.rules.errors import NotFound


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
