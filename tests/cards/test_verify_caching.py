"""What the online check keeps in memory instead of asking the database every time, and the bounds
it promises (cards/revocations.py, cards/verification_log.py): a revocation counts at once in the
process that made it and within the documented seconds elsewhere; every check's log row reaches
the database, with the time of its check, once the buffer is written."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from expatsi.cards import keys, revocations, services, verification_log
from expatsi.cards.models import CardToken, VerificationLog
from tests.api.conftest import World

from .helpers import active_card, expired_code, flip_byte

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(revocations, "_clock", c)
    return c


@pytest.fixture
def card(world: World) -> Any:
    return active_card(world.a, world.pa)


def check(text: str) -> str:
    r = Client().post("/api/v1/verify", json.dumps({"text": text}), content_type="application/json")
    assert r.status_code == 200, r.content
    return str(r.json()["result"])


def revoke_elsewhere(card: Any, at: Any = None) -> None:
    """As another app server would: straight in the database, nothing in this process told."""
    CardToken.objects.filter(card=card).update(revoked_at=at or timezone.now(), revoked_reason="x")


def test_a_revocation_elsewhere_counts_within_the_documented_seconds(
    card: Any, clock: Clock, settings: Any
) -> None:
    settings.EXPATSI_VERIFY_REVOCATION_SECONDS = 5
    text = card.tokens.get().text
    assert check(text) == "valid"
    revoke_elsewhere(card)
    clock.now += 4.9
    assert check(text) == "valid"  # the documented lag: the set is up to 5 s old
    clock.now += 0.2
    assert check(text) == "revoked"


def test_a_revocation_in_this_process_counts_at_once(
    card: Any, clock: Clock, django_capture_on_commit_callbacks: Any
) -> None:
    text = card.tokens.get().text
    assert check(text) == "valid"
    with django_capture_on_commit_callbacks(execute=True):
        services.tokens_revoke(card, "changed")
    assert check(text) == "revoked"  # no time passed


def test_a_revocation_committed_late_is_still_caught(card: Any, clock: Clock) -> None:
    """``revoked_at`` stamped a minute before its transaction committed (or by a server whose
    clock is behind) is within the incremental look's overlap."""
    text = card.tokens.get().text
    assert check(text) == "valid"
    revoke_elsewhere(card, timezone.now() - timedelta(minutes=1))
    clock.now += revocations.fresh_seconds()
    assert check(text) == "revoked"


def test_the_full_reload_catches_what_the_overlap_missed(card: Any, clock: Clock) -> None:
    text = card.tokens.get().text
    assert check(text) == "valid"
    revoke_elsewhere(card, timezone.now() - timedelta(hours=1))
    clock.now += revocations.fresh_seconds()
    assert check(text) == "valid"  # older than the overlap: not in the incremental look
    clock.now += revocations.FULL_RELOAD_SECONDS
    assert check(text) == "revoked"


def test_a_check_asks_the_database_nothing_between_refreshes(
    card: Any, clock: Clock, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.EXPATSI_VERIFY_LOG_BUFFER = True
    monkeypatch.setattr(verification_log, "_writer", _writer_without_thread())
    text = card.tokens.get().text
    assert check(text) == "valid"
    with CaptureQueriesContext(connection) as queries:
        assert check(text) == "valid"
    assert queries.captured_queries == []


def test_expired_and_forged_codes_are_still_refused(card: Any, clock: Clock) -> None:
    assert check(flip_byte(card.tokens.get().text)) == "tampered"
    assert check(expired_code()) == "expired"


# --- the log, in batches ----------------------------------------------------------------------


def _writer_without_thread() -> verification_log.Writer:
    """A buffer whose rows this test writes itself (the background thread would use a
    connection of its own, outside the test's transaction)."""
    writer = verification_log.Writer()
    writer._ensure_thread = lambda: None  # type: ignore[method-assign]
    return writer


@pytest.fixture
def buffered(settings: Any, monkeypatch: pytest.MonkeyPatch) -> verification_log.Writer:
    settings.EXPATSI_VERIFY_LOG_BUFFER = True
    writer = _writer_without_thread()
    monkeypatch.setattr(verification_log, "_writer", writer)
    return writer


def test_every_check_is_logged_once_the_buffer_is_written(
    card: Any, buffered: verification_log.Writer
) -> None:
    text = card.tokens.get().text
    before = timezone.now()
    results = [check(text), check("hello"), check(text)]
    after = timezone.now()
    assert VerificationLog.objects.count() == 0  # buffered, not yet written
    assert verification_log.flush() == 3
    rows = list(VerificationLog.objects.order_by("id"))
    assert [r.result for r in rows] == results == ["valid", "malformed", "valid"]
    assert rows[0].card_number == card.card_number and rows[0].via == "api"
    # the time of the check, not of the write
    assert all(before <= r.at <= after for r in rows)
    assert verification_log.flush() == 0  # nothing twice


def test_a_full_buffer_wakes_the_writer_and_a_backlog_is_written_by_the_checks(
    buffered: verification_log.Writer,
) -> None:
    def one() -> None:
        verification_log.record(ip="10.0.0.1", result="valid", kid="k", card_number="c", via="api")

    for _ in range(verification_log.FLUSH_ROWS - 1):
        one()
    assert not buffered.wake.is_set()
    one()
    assert buffered.wake.is_set()  # the thread writes them; the check did not wait
    assert VerificationLog.objects.count() == 0
    for _ in range(verification_log.BACKLOG_ROWS - verification_log.FLUSH_ROWS):
        one()
    assert (
        VerificationLog.objects.count() == verification_log.BACKLOG_ROWS
    )  # the thread fell behind
    assert buffered.rows == []


def test_a_failed_write_keeps_the_rows_for_the_next(
    buffered: verification_log.Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    verification_log.record(ip="10.0.0.1", result="valid", kid="k", card_number="c", via="api")
    real = verification_log._insert

    def refuse(rows: list[verification_log.Row]) -> None:
        raise RuntimeError("database away")

    monkeypatch.setattr(verification_log, "_insert", refuse)
    assert verification_log.flush() == 0
    verification_log.record(ip="10.0.0.2", result="valid", kid="k", card_number="c", via="api")
    monkeypatch.setattr(verification_log, "_insert", real)
    assert verification_log.flush() == 2
    assert list(VerificationLog.objects.order_by("id").values_list("ip", flat=True)) == [
        "10.0.0.1",
        "10.0.0.2",
    ]


# --- the signed lists, loaded once per document --------------------------------------------


def test_the_trust_list_is_loaded_once_and_again_after_a_key_rotation() -> None:
    first = keys.trust_list()
    assert keys.trust_list() is first  # its signature not checked again on every check
    new = keys.key_rotate()
    after = keys.trust_list()
    assert after is not first and new.kid in after.entries
