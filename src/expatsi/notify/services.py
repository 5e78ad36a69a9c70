"""Send notifications: an inbox entry for each recipient and an e-mail in their language.

``dedupe_key`` makes a notification idempotent: the same key is never delivered twice, which is
what lets the daily reminder job run again on the same day without sending anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from expatsi.employers.models import Employer
from expatsi.notify.messages import render
from expatsi.notify.models import Notification

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
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
            Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
        except OSError:
            log.exception("e-mail to user %s failed; the inbox entry stands", user.pk)
    return note


def notify_employer_hr(
    *, employer: Employer, kind: str, params: Mapping[str, Any], dedupe_key: str | None = None
) -> list[Notification]:
    sent = []
    for membership in employer.hr_members.filter(active=True).select_related("user"):
        note = notify_user(user=membership.user, kind=kind, params=params, dedupe_key=dedupe_key)
        if note is not None:
            sent.append(note)
    return sent
