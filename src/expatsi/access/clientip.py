"""The client's address, for sign-in throttling, rate limits and the audit trail.

``REMOTE_ADDR`` is the only address a client cannot choose. Behind a reverse proxy it is the
proxy's, so every client would share one sign-in and rate-limit budget; ``X-Forwarded-For`` fixes
that but is written by the client too. It is therefore read only when ``REMOTE_ADDR`` is one of
``EXPATSI_TRUSTED_PROXIES``, and only from the right: each trusted proxy appends the address it
received the request from, so the right-most address that is *not* a trusted proxy is the first
one no proxy of ours vouches for — everything left of it may be forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django.conf import settings

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address
type Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.1", "192.168.0.0/16", "fd00::/8"]`` → networks (``ValueError`` names a bad one)."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def parse_address(value: str) -> Address | None:
    """One address as proxies write it: ``1.2.3.4``, ``1.2.3.4:5678``, ``::1``, ``[::1]:5678``."""
    text = value.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def client_address(request: Any) -> str:
    """The address of the client that sent ``request`` (empty when there is none, as in a shell)."""
    remote = parse_address(str(request.META.get("REMOTE_ADDR", "")))
    if remote is None:
        return ""
    networks = _trusted(tuple(getattr(settings, "EXPATSI_TRUSTED_PROXIES", ())))
    if not networks or not _is_trusted(remote, networks):
        return str(remote)
    client = remote
    hops = str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:  # not written by a proxy of ours: stop at the last hop we trust
            break
        client = address
        if not _is_trusted(address, networks):
            break
    return str(client)


def address_bucket(address: str) -> str:
    """The unit one client controls: an IPv4 address, or the /64 network of an IPv6 address.

    One IPv6 host usually has a whole /64 to choose addresses from; counting per address would
    give it 2**64 budgets.
    """
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed) if parsed is not None else address
