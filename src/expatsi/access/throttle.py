"""Sign-in throttling, enforced in the authentication backend so that every way in shares it: the
portal's sign-in, the Django admin's, and anything else that calls ``authenticate()``.

The policy (docs/operations.md, "Sign-in throttling"), chosen so that guessing stays slow while an
outsider cannot lock a user out:

* **user name + client address**: 10 failures within 15–30 minutes lock that pair for 15 minutes.
  The lock is keyed on the address too, so an attacker elsewhere locks only themselves out.
* **client address alone**: 100 failures (any user names) lock the address for 15 minutes —
  against one machine trying many accounts.
* **user name alone**, across addresses (a botnet): after 50 failures within a day, attempts from
  addresses that never signed in to this account are allowed one at a time, at most one per
  5 seconds, doubling every further 25 failures up to one per 5 minutes. Addresses the account
  signed in from in the last 90 days are never slowed down, and the right password is never
  refused outright: the back-off delays, it does not lock.

IPv6 clients count per /64 network (one host usually owns one). Refused attempts check no password
and count as nothing. Counts live in Django's cache: one process needs nothing more; several app
servers need a shared cache (``EXPATSI_CACHE=database``, ``manage.py createcachetable``).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Literal, cast

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from expatsi.access.clientip import address_bucket, client_address

PAIR_MAX_FAILURES = 10
LOCK_SECONDS = 15 * 60
ADDRESS_MAX_FAILURES = 100
USER_BACKOFF_AFTER = 50
USER_WINDOW_SECONDS = 24 * 60 * 60
BACKOFF_BASE_SECONDS = 5
BACKOFF_STEP = 25
BACKOFF_MAX_SECONDS = 5 * 60
KNOWN_ADDRESS_SECONDS = 90 * 24 * 60 * 60

REQUEST_ATTRIBUTE = "expatsi_signin_refusal"


def _now() -> float:
    return time.time()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an attempt was refused before its password was checked, and for how long."""

    reason: Literal["locked", "backoff"]
    retry_after: int

    @property
    def message(self) -> str:
        if self.reason == "backoff":
            return _(
                "Too many failed sign-ins for this account. Try again in %(seconds)s seconds."
            ) % {"seconds": self.retry_after}
        return _("Too many failed sign-ins. Wait 15 minutes and try again.")


def _user(username: str) -> str:
    # Hashed: a typed user name may hold anything, and cache keys must not.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _keys(address: str, username: str) -> tuple[str, str, str]:
    bucket = address_bucket(address)
    user = _user(username)
    return f"signin:pair:{user}:{bucket}", f"signin:ip:{bucket}", f"signin:user:{user}"


def _windows(key: str, window: int) -> tuple[str, str]:
    current = int(_now()) // window
    return f"{key}:{current}", f"{key}:{current - 1}"


def _count(key: str, window: int) -> int:
    """Failures in the current and the previous window, this one included (a sliding-ish window
    that needs only cache.add/incr, which every cache backend has)."""
    current, previous = _windows(key, window)
    if cache.add(current, 1, 2 * window):
        count = 1
    else:
        try:
            count = cache.incr(current)
        except ValueError:  # expired between add and incr
            cache.set(current, 1, 2 * window)
            count = 1
        cache.touch(current, 2 * window)  # some backends' incr resets the expiry to the default
    return count + int(cache.get(previous) or 0)


def fixed_window(key: str, window: int) -> tuple[int, int]:
    """Count one use of ``key`` in the current fixed window of ``window`` seconds: (the uses in it,
    this one included; the seconds until the next window). The per-address limits of card checks
    and public reports count this way; a counter in Django's cache, shared by all app servers
    when the cache is."""
    now = int(_now())
    current = f"{key}:{now // window}"
    if cache.add(current, 1, 2 * window):
        count = 1
    else:
        try:
            count = cache.incr(current)
        except ValueError:  # evicted between add and incr
            cache.set(current, 1, 2 * window)
            count = 1
    return count, window - now % window


def _peek(key: str, window: int) -> int:
    return sum(int(v or 0) for v in cache.get_many(list(_windows(key, window))).values())


def _lock(key: str) -> None:
    cache.set(f"{key}:lock", _now() + LOCK_SECONDS, LOCK_SECONDS)
    cache.delete_many(list(_windows(key, LOCK_SECONDS)))  # after the lock, a fresh count


def _locked_for(key: str) -> int:
    until = cache.get(f"{key}:lock")
    return max(0, int(until - _now()) + 1) if until else 0


def backoff_seconds(failures: int) -> int:
    """Seconds between two attempts on an account with ``failures`` from many addresses."""
    if failures < USER_BACKOFF_AFTER:
        return 0
    doublings = min((failures - USER_BACKOFF_AFTER) // BACKOFF_STEP, 16)
    return int(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**doublings))


def _take_slot(user_key: str, delay: int) -> int:
    """Claim the account's next attempt; 0 when claimed, else the seconds until one is free."""
    key = f"{user_key}:slot"
    now = _now()
    if cache.add(key, now + delay, delay):
        return 0
    next_free = cache.get(key)
    if next_free is None or next_free <= now:
        cache.set(key, now + delay, delay)
        return 0
    return max(1, int(next_free - now) + 1)


def _known_key(address: str, username: str) -> str:
    return f"signin:known:{_user(username)}:{address_bucket(address)}"


def check(address: str, username: str) -> Refusal | None:
    """Whether an attempt may go ahead; claims the account's back-off slot when one applies."""
    pair, ip, user = _keys(address, username)
    locked = max(_locked_for(pair), _locked_for(ip))
    if locked:
        return Refusal("locked", locked)
    delay = backoff_seconds(_peek(user, USER_WINDOW_SECONDS))
    if delay and not cache.get(_known_key(address, username)):
        wait = _take_slot(user, delay)
        if wait:
            return Refusal("backoff", wait)
    return None


def record_failure(address: str, username: str) -> None:
    pair, ip, user = _keys(address, username)
    if _count(pair, LOCK_SECONDS) >= PAIR_MAX_FAILURES:
        _lock(pair)
    if _count(ip, LOCK_SECONDS) >= ADDRESS_MAX_FAILURES:
        _lock(ip)
    _count(user, USER_WINDOW_SECONDS)


def record_success(address: str, username: str) -> None:
    """The pair starts afresh and the address becomes a known one for the account. The address's
    and the account's counts stay: one valid account must not reset a guesser's budget."""
    pair, _ip, _user_key = _keys(address, username)
    cache.delete_many(list(_windows(pair, LOCK_SECONDS)))
    cache.set(_known_key(address, username), 1, KNOWN_ADDRESS_SECONDS)


# --- the second step (a one-time code after the password) --------------------------------------
# Counted per account only: whoever types here knows the password already, so there is no outsider
# to lock the user out, and guessing a 6-digit code must stay slow from any number of addresses.
SECOND_STEP_MAX_FAILURES = 5


def _second_step_key(user_id: int) -> str:
    return f"signin:second-step:{user_id}"


def second_step_check(user_id: int) -> Refusal | None:
    """Whether the account may try a code now (refused for 15 minutes after 5 wrong ones)."""
    locked = _locked_for(_second_step_key(user_id))
    return Refusal("locked", locked) if locked else None


def second_step_failure(user_id: int) -> None:
    key = _second_step_key(user_id)
    if _count(key, LOCK_SECONDS) >= SECOND_STEP_MAX_FAILURES:
        _lock(key)


def second_step_clear(user_id: int) -> None:
    """A right code starts the count afresh; a reset of the second factor lifts a lock too."""
    key = _second_step_key(user_id)
    cache.delete_many([*_windows(key, LOCK_SECONDS), f"{key}:lock"])


class ThrottledModelBackend(ModelBackend):
    """Django's user-name-and-password backend behind the sign-in throttle.

    A refusal raises ``PermissionDenied``, which makes ``authenticate()`` give up (no other backend
    is tried) and send ``user_login_failed``; the refusal is left on the request for the form.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = client_address(request) if request is not None else ""
        refusal = check(address, str(username))
        if refusal is not None:
            if request is not None:
                setattr(request, REQUEST_ATTRIBUTE, refusal)
            raise PermissionDenied(refusal.message)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(address, str(username))
        else:
            record_success(address, str(username))
        return user


class ThrottleMessage(forms.Form):
    """Says "too many failed sign-ins" instead of "wrong password" when the backend refused."""

    request: HttpRequest | None
    throttled = False

    def clean(self) -> dict[str, Any]:
        try:
            return cast(dict[str, Any], super().clean())
        except forms.ValidationError:
            refusal = getattr(self.request, REQUEST_ATTRIBUTE, None)
            if isinstance(refusal, Refusal):
                self.throttled = True
                raise forms.ValidationError(refusal.message, code="throttled") from None
            raise


class ThrottledAuthenticationForm(ThrottleMessage, AuthenticationForm):
    """The portal's sign-in form."""


class ThrottledAdminAuthenticationForm(ThrottleMessage, AdminAuthenticationForm):
    """The Django admin's sign-in form (``admin.site.login_form``)."""
