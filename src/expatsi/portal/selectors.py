"""Reads the portal composes from several contexts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from expatsi.access.actors import Actor
from expatsi.audit.selectors import AuditScope
from expatsi.employers.selectors import employers_visible
from expatsi.insurance.selectors import person_search, persons_visible
from expatsi.people.models import Person


def audit_scope(actor: Actor) -> AuditScope:
    """The people and employers whose audit events a region's staff may read: those they may see
    (decided by ``insurance.permissions`` and ``employers.permissions``, above the audit trail)."""
    return AuditScope(
        person_ids=persons_visible(actor).values("pk"),
        employer_ids=employers_visible(actor).values_list("pk", flat=True),
    )


def audit_people(actor: Actor, person_ids: Iterable[int | None]) -> dict[int, Person]:
    """The people a page of audit events names, that the reader may see: one query for the page."""
    ids = {pk for pk in person_ids if pk is not None}
    if not ids:
        return {}
    return {p.pk: p for p in persons_visible(actor).filter(pk__in=ids)}


def audit_person_ids(actor: Actor, query: str) -> QuerySet[Any]:
    """The people the reader may see whose name, passport number or social security number
    matches ``query``, as a subquery for the audit filter."""
    return person_search(actor=actor, query=query, limit=None).order_by().values("pk")
