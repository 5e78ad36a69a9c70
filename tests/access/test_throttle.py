"""The sign-in throttle's counting (access/throttle.py), driven directly with a clock of the test's
own: how a user name is recognised, what a success resets and what it must not, and the lock of
the second step. Sign-in through the pages and ``authenticate()`` is in
tests/security/test_signin_throttle.py and tests/security/test_two_factor.py."""

from __future__ import annotations

import pytest

from expatsi.access import throttle

GUESSER = "203.0.113.9"
HOME = "198.51.100.7"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1_800_000_000.0]
    monkeypatch.setattr(throttle, "_now", lambda: now[0])
    return now


def fail(address: str, username: str, times: int) -> None:
    for _ in range(times):
        assert throttle.check(address, username) is None
        throttle.record_failure(address, username)


def test_a_user_name_counts_the_same_in_any_case_and_with_spaces(clock: list[float]) -> None:
    fail(GUESSER, "Hr-X ", throttle.PAIR_MAX_FAILURES - 1)
    fail(GUESSER, "hr-x", 1)
    refusal = throttle.check(GUESSER, " HR-X")
    assert refusal is not None and refusal.reason == "locked"
    assert 0 < refusal.retry_after <= throttle.LOCK_SECONDS + 1
    assert throttle.check(HOME, "hr-x") is None  # the owner elsewhere is not locked out


def test_after_the_lock_the_count_starts_afresh(clock: list[float]) -> None:
    fail(GUESSER, "hr-x", throttle.PAIR_MAX_FAILURES)
    assert throttle.check(GUESSER, "hr-x") is not None
    clock[0] += throttle.LOCK_SECONDS + 1
    fail(GUESSER, "hr-x", throttle.PAIR_MAX_FAILURES - 1)  # not locked again after one failure
    assert throttle.check(GUESSER, "hr-x") is None


def test_a_success_forgets_the_pair_but_not_the_guessers_address_budget(
    clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "ADDRESS_MAX_FAILURES", 6)
    fail(GUESSER, "victim", 5)
    throttle.record_success(GUESSER, "own-account")  # the guesser's own valid account
    throttle.record_success(GUESSER, "victim")
    fail(GUESSER, "someone-else", 1)  # the sixth failure from this address
    refusal = throttle.check(GUESSER, "victim")
    assert refusal is not None and refusal.reason == "locked"
    assert throttle.check(HOME, "victim") is None


def test_the_message_says_how_long_to_wait() -> None:
    assert "12 seconds" in throttle.Refusal("backoff", 12).message
    assert "15 minutes" in throttle.Refusal("locked", 900).message


def test_five_wrong_codes_lock_the_second_step_of_that_account_only(clock: list[float]) -> None:
    for _ in range(throttle.SECOND_STEP_MAX_FAILURES - 1):
        throttle.second_step_failure(41)
    assert throttle.second_step_check(41) is None
    throttle.second_step_failure(41)
    refusal = throttle.second_step_check(41)
    assert refusal is not None and refusal.reason == "locked"
    assert throttle.second_step_check(42) is None
    clock[0] += throttle.LOCK_SECONDS + 1
    assert throttle.second_step_check(41) is None


def test_a_right_code_or_a_reset_lifts_the_second_step_count_and_lock(clock: list[float]) -> None:
    for _ in range(throttle.SECOND_STEP_MAX_FAILURES - 1):
        throttle.second_step_failure(41)
    throttle.second_step_clear(41)  # a right code
    throttle.second_step_failure(41)
    assert throttle.second_step_check(41) is None  # the count started afresh
    for _ in range(throttle.SECOND_STEP_MAX_FAILURES):
        throttle.second_step_failure(41)
    assert throttle.second_step_check(41) is not None
    throttle.second_step_clear(41)  # expatsi access reset-2fa
    assert throttle.second_step_check(41) is None
