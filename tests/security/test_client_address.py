"""``client_address``: REMOTE_ADDR, or the right-most untrusted X-Forwarded-For hop behind a
trusted proxy — never an address the client wrote for itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from expatsi.access.actors import client_ip
from expatsi.access.clientip import address_bucket, client_address, parse_networks


def request(remote: str, forwarded: str | None = None) -> Any:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@pytest.fixture
def proxies(settings: Any) -> None:
    settings.EXPATSI_TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]


def test_without_trusted_proxies_the_header_is_ignored(settings: Any) -> None:
    settings.EXPATSI_TRUSTED_PROXIES = []
    assert client_address(request("203.0.113.1", "1.2.3.4")) == "203.0.113.1"


@pytest.mark.usefixtures("proxies")
@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("10.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.1", "198.51.100.9, 203.0.113.5", "203.0.113.5"),  # left part may be forged
        ("10.0.0.1", "198.51.100.9, 203.0.113.5, 10.2.2.2", "203.0.113.5"),  # two proxies
        ("10.0.0.1", "203.0.113.5:4711", "203.0.113.5"),
        ("10.0.0.1", "[2001:db8::5]:4711", "2001:db8::5"),
        ("10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", "not-an-address", "10.0.0.1"),
        ("10.0.0.1", "not-an-address, 10.3.3.3", "10.3.3.3"),
        ("10.0.0.1", "10.9.9.9, 10.8.8.8", "10.9.9.9"),  # all ours: the furthest one
        ("203.0.113.1", "198.51.100.9", "203.0.113.1"),  # not from a proxy of ours
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        ("::ffff:10.0.0.1", "203.0.113.5", "203.0.113.5"),
    ],
)
def test_behind_trusted_proxies(remote: str, forwarded: str, expected: str) -> None:
    assert client_address(request(remote, forwarded)) == expected


@pytest.mark.usefixtures("proxies")
def test_the_audit_trail_records_the_same_address() -> None:
    assert client_ip(request("10.0.0.1", "203.0.113.5")) == "203.0.113.5"


def test_no_address_is_empty() -> None:
    assert client_address(request("")) == ""


def test_bad_proxy_setting_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300'"):
        parse_networks(["10.0.0.300"])


def test_ipv6_clients_are_counted_per_64() -> None:
    assert address_bucket("2001:db8:1:2::5") == address_bucket("2001:db8:1:2:ffff::1")
    assert address_bucket("2001:db8:1:2::5") != address_bucket("2001:db8:1:3::5")
    assert address_bucket("203.0.113.5") == "203.0.113.5"
