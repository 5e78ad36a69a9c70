"""Writes to a user's second factor: confirm an authenticator, renew recovery codes, reset. Each is
one transaction with an audit event; codes themselves never enter the audit trail."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access import throttle
from expatsi.access.actors import Actor
from expatsi.access.twofactor import RECOVERY_CODES, RECOVERY_NAME
from expatsi.accounts.permissions import may_manage_second_factor
from expatsi.audit.services import audit_record
from expatsi.rules.errors import Forbidden


def _may_manage(actor: Actor, user: Any) -> None:
    """One's own second factor, or an administrator at the command line (``expatsi access
    reset-2fa``); nobody else's from a web session."""
    if not may_manage_second_factor(actor, user):
        raise Forbidden("forbidden", "only the user or an administrator may change a second factor")


def _new_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    device.throttle_reset(commit=True)
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODES:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in sorted(codes))
    return sorted(codes)


def second_factor_confirm(*, actor: Actor, user: Any, device: TOTPDevice) -> list[str]:
    """The authenticator answered with a right code: it becomes the user's second factor (any other
    is removed) and ten new recovery codes are made, returned to be shown once."""
    _may_manage(actor, user)
    if device.user_id != user.pk:
        raise Forbidden("forbidden", "this authenticator belongs to another user")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        device.confirmed = True
        codes = _new_recovery_codes(user)
        audit_record(
            actor=actor,
            action="access.second_factor_enrolled",
            object_type="user",
            object_id=user.pk,
            detail={"username": user.get_username(), "recovery_codes": len(codes)},
        )
    return codes


def recovery_codes_renew(*, actor: Actor, user: Any) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    _may_manage(actor, user)
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(
            actor=actor,
            action="access.recovery_codes_renewed",
            object_type="user",
            object_id=user.pk,
            detail={"username": user.get_username(), "recovery_codes": len(codes)},
        )
    return codes


def recovery_code_used(*, actor: Actor, user: Any) -> int:
    """Recorded when a recovery code signs someone in (a lost phone, or someone else's use);
    returns how many are left."""
    left: int = StaticToken.objects.filter(device__user=user).count()
    audit_record(
        actor=actor,
        action="access.recovery_code_used",
        object_type="user",
        object_id=user.pk,
        detail={"username": user.get_username(), "recovery_codes_left": left},
    )
    return left


def second_factor_reset(*, actor: Actor, user: Any, reason: str = "") -> dict[str, int]:
    """Remove the authenticator and recovery codes, and lift a lock of the second step. Whoever
    must have a second factor is asked to enrol again at the next sign-in (or page)."""
    _may_manage(actor, user)
    with transaction.atomic():
        totp, _ = TOTPDevice.objects.filter(user=user).delete()
        static = StaticDevice.objects.filter(user=user).count()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            action="access.second_factor_reset",
            object_type="user",
            object_id=user.pk,
            detail={
                "username": user.get_username(),
                "authenticators": totp,
                "recovery_devices": static,
                "reason": reason[:200],
            },
        )
    throttle.second_step_clear(user.pk)
    return {"authenticators": totp, "recovery_devices": static}
