"""One sign-in throttle for every way in (portal, Django admin, ``authenticate()`` itself), counted
per user name *and* client address, so that an outsider cannot lock a user out from elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client, RequestFactory

from expatsi.access import throttle

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-1"
ATTACKER = "203.0.113.9"
VICTIM = "198.51.100.7"


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_user() -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)


@pytest.fixture
def staff() -> Any:
    return get_user_model().objects.create_user("hr-x", password=PASSWORD)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def admin_login(client: Client, password: str) -> Any:
    return client.post(
        "/admin/login/?next=/admin/", {"username": "root", "password": password, "next": "/admin/"}
    )


def portal_login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def test_admin_login_is_locked_after_the_threshold(admin_user: Any) -> None:
    client = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(throttle.PAIR_MAX_FAILURES):
        assert admin_login(client, "wrong").status_code == 200
    r = admin_login(client, PASSWORD)
    assert not signed_in(client)
    assert "Too many failed sign-ins" in r.content.decode()


def test_portal_and_admin_share_the_counts(admin_user: Any) -> None:
    client = Client(REMOTE_ADDR=ATTACKER)
    half = throttle.PAIR_MAX_FAILURES // 2
    for _ in range(half):
        portal_login(client, "root", "wrong")
    for _ in range(throttle.PAIR_MAX_FAILURES - half):
        admin_login(client, "wrong")
    portal_login(client, "root", PASSWORD)
    assert not signed_in(client)
    admin_login(client, PASSWORD)
    assert not signed_in(client)


def test_authenticate_itself_is_throttled(staff: Any) -> None:
    """Any future way in that calls ``authenticate()`` (an API login, say) shares the throttle."""
    request = RequestFactory().post("/", REMOTE_ADDR=ATTACKER)
    for _ in range(throttle.PAIR_MAX_FAILURES):
        assert authenticate(request, username="hr-x", password="wrong") is None
    assert authenticate(request, username="hr-x", password=PASSWORD) is None
    other = RequestFactory().post("/", REMOTE_ADDR=VICTIM)
    assert authenticate(other, username="hr-x", password=PASSWORD) == staff


def test_an_outsider_cannot_lock_the_user_out_from_another_address(staff: Any) -> None:
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(throttle.PAIR_MAX_FAILURES):
        portal_login(attacker, "hr-x", "wrong")
    portal_login(attacker, "hr-x", PASSWORD)
    assert not signed_in(attacker)  # the attacker's own address stays locked for this user

    victim = Client(REMOTE_ADDR=VICTIM)
    r = portal_login(victim, "hr-x", PASSWORD)
    assert r.status_code == 302 and signed_in(victim)


def test_the_lock_ends_after_fifteen_minutes(staff: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(throttle, "_now", lambda: now[0])
    client = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(throttle.PAIR_MAX_FAILURES):
        portal_login(client, "hr-x", "wrong")
    now[0] += throttle.LOCK_SECONDS - 5
    portal_login(client, "hr-x", PASSWORD)
    assert not signed_in(client)
    now[0] += 10
    portal_login(client, "hr-x", PASSWORD)
    assert signed_in(client)


def test_one_address_guessing_many_user_names_is_locked(
    staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "ADDRESS_MAX_FAILURES", 6)
    client = Client(REMOTE_ADDR=ATTACKER)
    for n in range(6):
        portal_login(client, f"guess-{n}", "wrong")
    r = portal_login(client, "hr-x", PASSWORD)
    assert not signed_in(client) and "Too many failed sign-ins" in r.content.decode()
    assert portal_login(Client(REMOTE_ADDR=VICTIM), "hr-x", PASSWORD).status_code == 302


def test_ipv6_neighbours_in_one_64_count_as_one_address(staff: Any) -> None:
    for n in range(throttle.PAIR_MAX_FAILURES):
        portal_login(Client(REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}"), "hr-x", "wrong")
    client = Client(REMOTE_ADDR="2001:db8:1:2::ffff")
    portal_login(client, "hr-x", PASSWORD)
    assert not signed_in(client)
    elsewhere = Client(REMOTE_ADDR="2001:db8:1:3::1")
    portal_login(elsewhere, "hr-x", PASSWORD)
    assert signed_in(elsewhere)


def test_many_addresses_slow_the_account_down_but_never_lock_a_known_address(
    staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(throttle, "_now", lambda: now[0])
    monkeypatch.setattr(throttle, "USER_BACKOFF_AFTER", 6)
    home = Client(REMOTE_ADDR=VICTIM)
    portal_login(home, "hr-x", PASSWORD)
    assert signed_in(home)  # the victim's address is now a known one for this account

    for n in range(6):  # a botnet: one failure from each of many addresses
        portal_login(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), "hr-x", "wrong")

    bot = Client(REMOTE_ADDR="192.0.2.100")
    portal_login(bot, "hr-x", "wrong")  # takes the account's one attempt for now
    r = portal_login(Client(REMOTE_ADDR="192.0.2.101"), "hr-x", PASSWORD)
    assert "Too many failed sign-ins for this account" in r.content.decode()
    late = Client(REMOTE_ADDR="192.0.2.102")
    now[0] += throttle.BACKOFF_BASE_SECONDS + 1
    portal_login(late, "hr-x", PASSWORD)
    assert signed_in(late)  # slowed down, not locked

    again = Client(REMOTE_ADDR=VICTIM)
    for _ in range(3):
        portal_login(Client(REMOTE_ADDR="192.0.2.103"), "hr-x", "wrong")
    portal_login(again, "hr-x", PASSWORD)
    assert signed_in(again)  # the known address is never slowed down


def test_back_off_grows_with_the_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    after = throttle.USER_BACKOFF_AFTER
    delays = [throttle.backoff_seconds(after + n * throttle.BACKOFF_STEP) for n in range(12)]
    assert throttle.backoff_seconds(after - 1) == 0
    assert delays[0] == throttle.BACKOFF_BASE_SECONDS
    assert delays == sorted(delays) and delays[1] > delays[0]
    assert delays[-1] == throttle.BACKOFF_MAX_SECONDS
