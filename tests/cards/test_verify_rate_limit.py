"""The online card check's rate limit: per real client behind a trusted proxy, never per forged
``X-Forwarded-For``, and a 429 that says when to come back (``Retry-After``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from expatsi.access import throttle
from tests.api.conftest import World

from .helpers import active_card

pytestmark = pytest.mark.django_db

PROXY = "10.1.2.3"
NOW = 1_800_000_042.0  # 42 seconds into a minute: 18 seconds left of it


@pytest.fixture
def text(world: World) -> str:
    return active_card(world.a, world.pa).tokens.get().text


@pytest.fixture(autouse=True)
def _one_check_a_minute(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.EXPATSI_VERIFY_RATE_PER_MINUTE = 1
    monkeypatch.setattr(throttle, "_now", lambda: NOW)  # the limit's clock


def api_check(text: str, **meta: str) -> Any:
    return Client(**meta).post(
        "/api/v1/verify", json.dumps({"text": text}), content_type="application/json"
    )


def page_check(text: str, **meta: str) -> Any:
    return Client(**meta).post("/cards/verify/", {"text": text})


@pytest.mark.parametrize("check", [api_check, page_check])
def test_429_says_when_to_retry(text: str, check: Any) -> None:
    assert check(text).status_code == 200
    r = check(text)
    assert r.status_code == 429
    assert r["Retry-After"] == "18"


@pytest.mark.parametrize("check", [api_check, page_check])
def test_clients_behind_a_trusted_proxy_each_have_their_own_budget(
    text: str, check: Any, settings: Any
) -> None:
    settings.EXPATSI_TRUSTED_PROXIES = [PROXY, "192.168.0.0/16"]
    a = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5, 192.168.7.7"}
    b = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.6"}
    assert check(text, **a).status_code == 200
    assert check(text, **b).status_code == 200
    assert check(text, **a).status_code == 429
    # a client cannot pick a fresh address by writing one at the left of the header itself
    forged = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.5"}
    assert check(text, **forged).status_code == 429


@pytest.mark.parametrize("check", [api_check, page_check])
def test_forwarded_for_is_ignored_from_an_untrusted_peer(
    text: str, check: Any, settings: Any
) -> None:
    settings.EXPATSI_TRUSTED_PROXIES = [PROXY]
    assert check(text, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert check(text, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429
