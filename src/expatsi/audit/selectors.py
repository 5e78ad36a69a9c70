"""Reads of the audit trail, for agency staff only, within their regions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from expatsi.access.actors import Actor
from expatsi.audit import permissions
from expatsi.audit.models import AuditEvent
from expatsi.rules.errors import Forbidden


@dataclass(frozen=True, slots=True)
class AuditFilter:
    person_id: int | None = None
    actor: str = ""  # a user id, or part of the actor's label
    action: str = ""  # an action ("person.read") or a group of them ("registration")
    date_from: date | None = None
    date_to: date | None = None
    # The people a search by name, passport or SSN found (decided above the audit trail); None:
    # no such search.
    person_ids: QuerySet[Any] | Iterable[int] | None = None


@dataclass(frozen=True, slots=True)
class AuditScope:
    """The people and employers a region's staff may see. Both are decided by contexts above the
    audit trail (employment, employers' regions), so the caller passes them in."""

    person_ids: QuerySet[Any] | Iterable[int]
    employer_ids: Iterable[int]


def audit_events_visible(actor: Actor, scope: AuditScope | None = None) -> QuerySet[AuditEvent]:
    """Agency staff of every region see every event; staff of some regions see events about the
    people and employers of ``scope`` (those regions), and their own actions. Nobody else sees any."""
    if permissions.reads_whole_audit_trail(actor):
        return AuditEvent.objects.all()
    if not permissions.may_read_audit_trail(actor):
        raise Forbidden("forbidden", "only agency staff may read the audit trail", "")
    if scope is None:
        return AuditEvent.objects.filter(actor_user_id=actor.user_id)
    employer_ids = [str(pk) for pk in scope.employer_ids]
    return AuditEvent.objects.filter(
        Q(person_id__in=scope.person_ids)
        | Q(object_type="employer", object_id__in=employer_ids)
        | Q(actor_user_id=actor.user_id)
    )


def audit_events(
    *, actor: Actor, filters: AuditFilter, scope: AuditScope | None = None
) -> QuerySet[AuditEvent]:
    """The events the actor may see that match ``filters``, newest first."""
    qs = audit_events_visible(actor, scope)
    if filters.person_id is not None:
        qs = qs.filter(person_id=filters.person_id)
    if filters.person_ids is not None:
        qs = qs.filter(person_id__in=filters.person_ids)
    if filters.actor:
        text = filters.actor.strip()
        match = Q(actor_label__icontains=text)
        if text.isdigit():
            match |= Q(actor_user_id=int(text))
        qs = qs.filter(match)
    if filters.action:
        action = filters.action.strip().rstrip(".")
        qs = qs.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if filters.date_from is not None:
        qs = qs.filter(at__date__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(at__date__lte=filters.date_to)
    return qs.order_by("-id")


def audit_actions() -> list[str]:
    """Every action recorded so far (for the filter's choices)."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())
