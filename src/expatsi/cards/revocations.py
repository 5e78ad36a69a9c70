"""Which card codes are revoked, as an online check asks it: a set of revocation handles held in
each app server process and brought up to date every few seconds, instead of one database query
per check.

How fresh, documented and tested (tests/cards/test_verify_caching.py):

* A revocation made **in this process** (``services.tokens_revoke``) is seen by the next check
  after its transaction commits: the commit marks the set stale.
* A revocation made **elsewhere** (another app server process, a job, a script) is seen within
  :func:`fresh_seconds` (``EXPATSI_VERIFY_REVOCATION_SECONDS``, default 5 s) of its commit: the
  first check after that interval asks the database for the handles revoked since the last look.
* That incremental look reads ``revoked_at >= (the previous look) − OVERLAP`` (two minutes), so a
  revocation whose transaction commits up to two minutes after it stamped ``revoked_at`` (or an
  app server whose clock is up to two minutes behind) is still caught on time. Anything slower
  still is caught by the full reload every :data:`FULL_RELOAD_SECONDS` (10 minutes): the worst
  case, never the usual one.

Revocation is never undone (a revoked token stays revoked; a new token is issued instead), so the
set only grows between reloads. Memory: one 32-character handle per revoked token, as the signed
revocation list (``keys.revocation_list_document``) already holds them all. The check that finds
the set stale refreshes it; concurrent checks meanwhile answer from the set as it was (never
waiting on another thread's query), so a refresh costs one query per process per interval.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from expatsi.cards.models import CardToken

FRESH_SECONDS = 5.0
OVERLAP = timedelta(minutes=2)
FULL_RELOAD_SECONDS = 600.0


def fresh_seconds() -> float:
    """At most this many seconds pass between a revocation's commit elsewhere and its effect."""
    return float(getattr(settings, "EXPATSI_VERIFY_REVOCATION_SECONDS", FRESH_SECONDS))


def _clock() -> float:
    return time.monotonic()


class _Revoked:
    def __init__(self) -> None:
        self.handles: set[str] = set()
        self.checked = float("-inf")  # monotonic time of the last look (-inf: never, or stale)
        self.reloaded = float("-inf")  # of the last full reload
        self.since: datetime | None = None  # the next incremental look reads from here
        self.lock = threading.Lock()

    def refresh(self, now: float) -> None:
        started = timezone.now()
        if self.since is None or now - self.reloaded >= FULL_RELOAD_SECONDS:
            handles = set(
                CardToken.objects.filter(revoked_at__isnull=False)
                .values_list("revocation_hash", flat=True)
                .iterator(chunk_size=10_000)
            )
            self.handles = handles
            self.reloaded = now
        else:
            self.handles.update(
                CardToken.objects.filter(revoked_at__gte=self.since).values_list(
                    "revocation_hash", flat=True
                )
            )
        self.since = started - OVERLAP
        self.checked = now


_state = _Revoked()


def is_revoked(handle: str) -> bool:
    """Whether the token with this revocation handle (hex) is revoked, as of at most
    :func:`fresh_seconds` ago (at once for revocations this process made)."""
    state = _state
    now = _clock()
    if now - state.checked >= fresh_seconds() and state.lock.acquire(blocking=state.since is None):
        try:
            if now - state.checked >= fresh_seconds():  # not refreshed meanwhile
                state.refresh(now)
        finally:
            state.lock.release()
    return handle in state.handles


def mark_stale() -> None:
    """The next check asks the database again (after a revocation committed in this process)."""
    _state.checked = float("-inf")


def reset() -> None:
    """Forget everything (tests; a restore of the database)."""
    global _state
    _state = _Revoked()
