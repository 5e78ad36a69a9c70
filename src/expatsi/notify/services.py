"""Send notifications: an inbox entry for each recipient and an e-mail in their language.

``dedupe_key`` makes a notification idempotent: the same key is never delivered twice, which is
what lets the daily reminder job run again on the same day without sending anything twice.

The e-mail goes out only once the inbox entry is committed (``transaction.on_commit``): a request
that rolls back sends nothing, and a mail server that is down or an address that cannot be used
never turns a committed decision into a 500. A failed e-mail is logged and leaves ``emailed_at``
empty; the inbox entry stands.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from expatsi.access.actors import Actor
from expatsi.employers.models import Employer
from expatsi.notify.messages import render
from expatsi.notify.models import Notification
from expatsi.notify.selectors import notification_get, notifications_visible

log = logging.getLogger(__name__)


def user_language(user: User) -> str:
    """The user's chosen language: their portal switch, else their person record, else the default."""
    profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
    if profile is not None:
        return str(profile.language)
    person = getattr(user, "person", None) if hasattr(user, "person") else None
    if person is not None:
        return str(person.preferred_language)
    return str(settings.LANGUAGE_CODE)


def notify_user(
    *,
    user: User,
    kind: str,
    params: Mapping[str, Any],
    dedupe_key: str | None = None,
    language: str | None = None,
) -> Notification | None:
    """Deliver one message to one user; None when ``dedupe_key`` was already delivered."""
    lang = language or user_language(user)
    subject, body = render(kind, params, lang)
    key = f"{dedupe_key}:u{user.pk}" if dedupe_key else None
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user,
                kind=kind,
                params=dict(params),
                subject=subject[:300],
                body=body,
                language=lang,
                dedupe_key=key,
            )
    except IntegrityError:
        return None
    email = getattr(user, "email", "")
    if email:
        transaction.on_commit(lambda: send_email(note, email, subject, body))
    return note


# Line breaks and other control characters: a name stored before validation existed must not
# break the Subject header (Django refuses to send such a message at all).
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def send_email(note: Notification, address: str, subject: str, body: str) -> bool:
    """Send one notification's e-mail; on success stamp ``emailed_at``. Never raises: whatever
    goes wrong (a bad stored address, the mail server) is logged and answered False."""
    try:
        send_mail(
            _HEADER_UNSAFE.sub(" ", subject).strip(),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [address],
        )
        sent_at = timezone.now()
        Notification.objects.filter(pk=note.pk).update(emailed_at=sent_at)
    except Exception:
        log.exception(
            "e-mail for notification %s to user %s failed; the inbox entry stands",
            note.pk,
            note.user_id,
        )
        return False
    note.emailed_at = sent_at
    return True


def notify_employer_hr(
    *, employer: Employer, kind: str, params: Mapping[str, Any], dedupe_key: str | None = None
) -> list[Notification]:
    """Tell every active HR user of ``employer``. One recipient's failure is logged and does not
    keep the message from the others, nor fail the decision that prompted it."""
    sent = []
    for membership in employer.hr_members.filter(active=True).select_related("user"):
        try:
            note = notify_user(
                user=membership.user, kind=kind, params=params, dedupe_key=dedupe_key
            )
        except Exception:
            log.exception("notifying user %s of %s failed", membership.user_id, kind)
            continue
        if note is not None:
            sent.append(note)
    return sent


def notification_mark_read(*, actor: Actor, notification_id: int) -> Notification:
    """Mark one of the actor's own notifications read (again: no change); another's is not found."""
    note = notification_get(actor=actor, notification_id=notification_id)
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return note


def notifications_mark_all_read(*, actor: Actor) -> int:
    """Mark every unread notification of the actor read; the number marked."""
    return notifications_visible(actor).filter(read_at__isnull=True).update(read_at=timezone.now())
