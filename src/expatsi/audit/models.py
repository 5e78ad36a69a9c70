"""Append-only, hash-chained audit of writes and of reads of personal data."""

from __future__ import annotations

from typing import Any

from django.db import models


class AuditEvent(models.Model):
    at = models.DateTimeField(db_index=True)
    actor_user_id = models.BigIntegerField(null=True, db_index=True)
    actor_label = models.CharField(max_length=200)
    actor_kind = models.CharField(max_length=20)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    person_id = models.BigIntegerField(null=True, db_index=True)
    ip = models.CharField(max_length=45, blank=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit events are append-only")


class AuditHead(models.Model):
    """One row holding the last hash: locking it serialises appends so the chain never forks."""

    last_hash = models.CharField(max_length=64)


class AuditCheckpoint(models.Model):
    """A signed statement "the chain's head was event ``event_id`` with hash ``hash`` at
    ``verified_at``", written by each verification that found the chain intact.

    Later verifications start their walk at the newest one and check that the chain still holds
    that event with that hash: a chain cut short (the event is gone) or rewritten with recomputed
    hashes (its hash differs) is reported. The signature (audit key, see ``expatsi.audit.keys``)
    stops a forged checkpoint; the newest one is also kept in a file outside the database
    (``EXPATSI_AUDIT_CHECKPOINT_FILE``), so deleting checkpoint rows does not move it back.
    Append-only like the events (on PostgreSQL a trigger refuses UPDATE and DELETE).
    """

    event_id = models.BigIntegerField()  # the head's sequence number (event id; 0: empty chain)
    hash = models.CharField(max_length=64)
    verified_at = models.DateTimeField()
    whole_chain = models.BooleanField(default=False)  # walked from the start, not a checkpoint
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("audit checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit checkpoints are append-only")
