"""Two-step sign-in (TOTP) with django-otp: who must use it, which devices a user has, and the
throttled check of a code.

Policy (README "Who uses what", docs/operations.md "Two-step sign-in"):

* **agency staff, superusers and anyone with ``is_staff``** (the Django admin) must use a second
  factor: after the password they type a code from an authenticator app, and without an
  authenticator they are sent to enrol one before they can reach any page;
* **employer HR and employees** may turn it on (the "Two-step sign-in" page); once on, the code is
  asked at every sign-in in the same way.

A session is *verified* when django-otp's ``OTPMiddleware`` finds the device that verified it
(``request.user.is_verified()``). Recovery codes are django-otp's static tokens: ten one-time codes
shown once when the authenticator is confirmed, accepted in place of a code.

Wrong codes are throttled twice over: 5 within 15–30 minutes lock the second step of that account
for 15 minutes (Django's cache, like the password throttle), and django-otp's own per-device
back-off (stored in the database, so it holds across app servers) makes the n-th consecutive wrong
code wait 2ⁿ⁻¹ seconds before the next one is checked.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any, Literal

import segno
from django.conf import settings
from django.utils import timezone
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access import throttle

RECOVERY_CODES = 10
TOTP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
_TOTP_CODE = re.compile(r"\d{6}")
_RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")


def second_factor_required(user: Any) -> bool:
    """Agency staff, superusers and admin users must have one; everybody else may."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    # hasattr: a missing reverse one-to-one raises an AttributeError subclass (and is cached).
    return bool(user.is_superuser or user.is_staff or hasattr(user, "agency_staff"))


def totp_device(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()
        if getattr(user, "pk", None)
        else None
    )


def has_second_factor(user: Any) -> bool:
    """A confirmed authenticator: the code is then asked at every sign-in (a TOTP device is always
    confirmed before recovery codes exist, so the one query suffices)."""
    return bool(getattr(user, "pk", None)) and (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )


def is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False


def verification_missing(user: Any) -> Literal["", "code", "enrol"]:
    """What a signed-in session still lacks: nothing, the code (``code``), or an authenticator
    (``enrol``, only for users who must have one)."""
    if user is None or not getattr(user, "is_authenticated", False) or is_verified(user):
        return ""
    if has_second_factor(user):
        return "code"
    return "enrol" if second_factor_required(user) else ""


def recovery_codes_left(user: Any) -> int:
    device = StaticDevice.objects.filter(user=user).first()
    return device.token_set.count() if device is not None else 0


# --- enrolment: the secret, as a QR code and written out ----------------------------------------


def enrolment_device(user: Any) -> TOTPDevice:
    """The not yet confirmed authenticator of this user, made once, so that reloading the page
    shows the same secret (a second scan would not match otherwise)."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def key_from_base32(secret: str) -> str:
    """A key typed as authenticator apps show it (base32, spaces and case ignored) → django-otp's
    hex form; ValueError when it is not base32 or shorter than 80 bits."""
    text = re.sub(r"\s", "", secret).upper()
    if not text or not re.fullmatch(r"[A-Z2-7]+=*", text):
        raise ValueError("use base32: the letters A-Z and the digits 2-7")
    raw = base64.b32decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 8))
    if not 10 <= len(raw) <= 40:
        raise ValueError("use 16 to 64 base32 characters (80 to 320 bits)")
    return raw.hex()


def secret_base32(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed: base32 without padding."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def secret_groups(device: TOTPDevice) -> str:
    secret = secret_base32(device)
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(device: TOTPDevice) -> str:
    """``otpauth://totp/expatsi:<user>?secret=…&issuer=expatsi`` (OTP_TOTP_ISSUER in settings)."""
    return str(device.config_url)


def account_label(user: Any) -> str:
    """How authenticator apps list the account: issuer and user name."""
    return f"{getattr(settings, 'OTP_TOTP_ISSUER', 'expatsi')} ({user.get_username()})"


def qr_data_uri(device: TOTPDevice) -> str:
    """The provisioning URI as an SVG QR code in a ``data:`` URL: drawn here, no outside service,
    and allowed by the Content-Security-Policy (``img-src 'self' data:``)."""
    code = segno.make(provisioning_uri(device), error="m", micro=False)
    return str(code.svg_data_uri(scale=5, border=4))


# --- checking a code ----------------------------------------------------------------------------


def normalise(code: str) -> str:
    """Spaces and hyphens are for reading only; recovery codes are shown in lower case."""
    return re.sub(r"[\s\-]", "", code or "").lower()


def format_recovery_code(token: str) -> str:
    return f"{token[:4]}-{token[4:]}"


@dataclass(frozen=True, slots=True)
class CodeResult:
    """The outcome of one code: ``device`` on success; else why not and, if throttled, how long."""

    outcome: Literal["ok", "wrong", "locked", "wait", "no_device"]
    device: Any = None
    retry_after: int = 0
    recovery: bool = False


def check_code(user: Any, code: str, *, device: TOTPDevice | None = None) -> CodeResult:
    """Check a code from the authenticator (6 digits) or a recovery code (8 letters and digits)
    against the user's confirmed devices, or against ``device`` (enrolment).

    Throttled (except enrolment, where the user is shown the key): a locked second step checks
    nothing; a device still in django-otp's back-off checks
    nothing and counts nothing (like the password throttle's refusals); every checked wrong code
    counts towards the lock.
    """
    enrolling = device is not None  # the user sees the key: only the device's back-off applies
    refusal = None if enrolling else throttle.second_step_check(user.pk)
    if refusal is not None:
        return CodeResult("locked", retry_after=refusal.retry_after)
    value = normalise(code)
    recovery = device is None and bool(_RECOVERY_CODE.fullmatch(value))
    candidate: Any
    if device is not None:
        candidate = device
    elif recovery:
        candidate = StaticDevice.objects.filter(user=user, confirmed=True).first()
    else:
        candidate = totp_device(user)
    if candidate is None:
        if not recovery:
            return CodeResult("no_device")
        throttle.second_step_failure(user.pk)  # no recovery codes left: a wrong code all the same
        return CodeResult("wrong", recovery=True)
    allowed, info = candidate.verify_is_allowed()
    if not allowed:
        until = (info or {}).get("locked_until")
        wait = int((until - timezone.now()).total_seconds()) + 1 if until else 1
        return CodeResult("wait", retry_after=max(1, wait), recovery=recovery)
    if not (recovery or _TOTP_CODE.fullmatch(value)):
        if not enrolling:
            throttle.second_step_failure(user.pk)
        return CodeResult("wrong", recovery=recovery)
    # In a transaction with the device row locked: two requests cannot both use one code.
    verified = verify_token(user, candidate.persistent_id, value)
    if verified is None:
        if not enrolling:
            throttle.second_step_failure(user.pk)
        return CodeResult("wrong", recovery=recovery)
    throttle.second_step_clear(user.pk)
    return CodeResult("ok", device=verified, recovery=recovery)
