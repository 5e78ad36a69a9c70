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
    """The last event a verification walked to, and its hash: later checks start from there."""

    event_id = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    verified_at = models.DateTimeField()
    full_verified_at = models.DateTimeField(null=True)
