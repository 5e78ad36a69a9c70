"""Two-step sign-in in tests: an authenticator with a known key, its current code, and a signed-in
session that counts as verified (what the second step leaves behind), for tests about other things.

``verified_login(client, user)`` replaces ``client.force_login(user)``: for a user who must use a
second factor (agency staff, superusers) or has one, the session is also marked as verified by the
user's authenticator, as ``django_otp.login`` does after a right code.
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from expatsi.access.twofactor import has_second_factor, second_factor_required

# RFC 6238's test secret "12345678901234567890", as django-otp stores keys: hex.
TEST_KEY = "3132333435363738393031323334353637383930"


def enrol(user: Any, key: str = TEST_KEY) -> TOTPDevice:
    """The user's confirmed authenticator (made with ``key`` if there is none yet)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", key=key, confirmed=True)
    return device


def code_at(device: TOTPDevice, step_offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + step_offset)
    return f"{totp.token():0{device.digits}d}"


def current_code(device: TOTPDevice) -> str:
    """A code the device accepts now. One code is accepted once: a test that signs the same user
    in again within 30 seconds gets the next step's code (within the tolerance of one step), and a
    third time the device forgets the last use, as if the clock had moved on."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = totp.t()
    if device.last_t >= now + device.tolerance:
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=now - 1)
        device.refresh_from_db()
    return code_at(device, max(0, device.last_t + 1 - now))


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that no step within the tolerance accepts."""
    valid = {code_at(device, k) for k in range(-device.tolerance - 1, device.tolerance + 2)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 1_000_000, 7)) if c not in valid)


def mark_verified(client: Client, device: TOTPDevice) -> None:
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def verified_login(client: Client, user: Any) -> Client:
    client.force_login(user)
    if second_factor_required(user) or has_second_factor(user):
        mark_verified(client, enrol(user))
    return client
