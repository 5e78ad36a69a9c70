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


def _walk(after_id: int, prev: str) -> tuple[bool, int | None, int, str]:
    last_id = after_id
    for event in (
        AuditEvent.objects.filter(id__gt=after_id).order_by("id").iterator(chunk_size=2000)
    ):
        if event.prev_hash != prev or _digest(prev, _fields(event)) != event.hash:
            return False, event.pk, last_id, prev
        prev, last_id = event.hash, event.pk
    return True, None, last_id, prev


def audit_verify(*, full: bool = True) -> tuple[bool, int | None]:
    """Check the chain; return (intact, id of the first event that does not match).

    ``full`` walks every event from the start (run it nightly: ``expatsi audit verify``); otherwise
    the walk starts at the last checkpoint, so a page view costs only the events since then. The
    checkpoint itself is only ever moved forward over events that matched.
    """
    from expatsi.audit.models import AuditCheckpoint

    checkpoint = AuditCheckpoint.objects.filter(pk=1).first()
    start_id, start_hash = (0, GENESIS)
    if not full and checkpoint is not None:
        start_id, start_hash = checkpoint.event_id, checkpoint.hash
    intact, bad, last_id, last_hash = _walk(start_id, start_hash)
    if intact:
        now = timezone.now()
        defaults = {"event_id": last_id, "hash": last_hash, "verified_at": now}
        if full:
            defaults["full_verified_at"] = now
        AuditCheckpoint.objects.update_or_create(pk=1, defaults=defaults)
    return intact, bad


def audit_last_full_verification() -> object:
    from expatsi.audit.models import AuditCheckpoint

    checkpoint = AuditCheckpoint.objects.filter(pk=1).first()
    return checkpoint.full_verified_at if checkpoint else None
