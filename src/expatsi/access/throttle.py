"""Sign-in throttling: after repeated failures from one address or for one user name, further
attempts are refused for a while, so passwords cannot be guessed at speed.

Counts live in Django's cache. One process needs nothing more; several app servers need a shared
cache (set ``EXPATSI_CACHE=database`` and run ``manage.py createcachetable``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from expatsi.access.actors import client_ip

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60


def _keys(ip: str, username: str) -> list[str]:
    return [f"signin-fail:ip:{ip}", f"signin-fail:user:{username.strip().lower()}"]


def blocked(ip: str, username: str) -> bool:
    return any((cache.get(k) or 0) >= MAX_FAILURES for k in _keys(ip, username))


def record_failure(ip: str, username: str) -> None:
    for key in _keys(ip, username):
        if not cache.add(key, 1, WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, WINDOW_SECONDS)


def clear(ip: str, username: str) -> None:
    cache.delete_many(_keys(ip, username))


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing attempts once an address or a user name failed too often."""

    throttled = False

    def clean(self) -> dict[str, Any]:
        ip = client_ip(self.request) if self.request is not None else ""
        username = str(self.data.get("username", ""))
        if blocked(ip, username):
            self.throttled = True
            raise forms.ValidationError(
                _("Too many failed sign-ins. Wait 15 minutes and try again."), code="throttled"
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_failure(ip, username)
            raise
        clear(ip, username)
        return cleaned
