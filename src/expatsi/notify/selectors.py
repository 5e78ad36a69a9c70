"""Reads of the inbox, within ``notify.permissions``: one's own notifications only."""

from __future__ import annotations

from django.db.models import F, QuerySet

from expatsi.access.actors import Actor
from expatsi.notify.models import Notification
from expatsi.notify.permissions import notification_scope
from expatsi.rules.errors import NotFound


def notifications_visible(actor: Actor) -> QuerySet[Notification]:
    return Notification.objects.filter(notification_scope(actor))


def inbox(*, actor: Actor) -> QuerySet[Notification]:
    """The actor's notifications, unread first, then the newest."""
    return notifications_visible(actor).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-id"
    )


def unread_count(*, actor: Actor) -> int:
    return notifications_visible(actor).filter(read_at__isnull=True).count()


def notification_get(*, actor: Actor, notification_id: int) -> Notification:
    note = notifications_visible(actor).filter(pk=notification_id).first()
    if note is None:
        raise NotFound(
            "not_found", f"no notification {notification_id} of yours", "notification_id"
        )
    return note
