"""Append to the audit chain. Each event's hash covers the previous hash, so any edit shows."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _digest(prev: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256((prev + payload).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "actor_user_id": event.actor_user_id,
        "actor_label": event.actor_label,
        "actor_kind": event.actor_kind,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "person_id": event.person_id,
        "ip": event.ip,
        "detail": event.detail,
    }


def audit_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object,
    person_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one event (a write, or a read of personal data) in the same transaction as the work."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head, _ = AuditHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
            head = AuditHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            at=timezone.now(),
            actor_user_id=actor.user_id,
            actor_label=actor.label[:200],
            actor_kind=actor.kind,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            person_id=person_id,
            ip=actor.ip,
            detail=json.loads(json.dumps(detail or {}, default=str)),
            prev_hash=head.last_hash,
        )
        event.hash = _digest(head.last_hash, _fields(event))
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def audit_verify() -> tuple[bool, int | None]:
    """Walk the chain; return (intact, id of the first event that does not match)."""
    prev = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev or _digest(prev, _fields(event)) != event.hash:
            return False, event.pk
        prev = event.hash
    return True, None
