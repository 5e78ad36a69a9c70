"""The audit key: an Ed25519 key that signs audit checkpoints, kept apart from the card keys.

The hash chain alone shows an edited or removed event in the middle, but not a chain cut short at
the end or rewritten from the start with every hash recomputed: anyone who can write to the
database can do either. A checkpoint signed with a key the database never sees can be neither moved
back nor forged. The key is a PEM file ``audit-<UTC timestamp>.pem`` beside the card keys in the
one key directory (``expatsi.access.keystore``: ``EXPATSI_KEY_DIR``, encrypted with
``EXPATSI_KEY_PASSWORD`` when set); the newest file signs. A rotation adds a newer file; older ones
stay so that the checkpoints they signed keep verifying.
``expatsi card keys init`` (or ``expatsi audit keys init``) creates the first one; in debug mode it
is created on first use, in production a missing key stops verification with a clear message.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from functools import cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from expatsi.access.keystore import key_dir, store
from expatsi.credentials.keys import LocalSigner

PREFIX = "audit-"
_lock = threading.Lock()


def audit_key_names() -> list[str]:
    """Oldest first: names carry their UTC creation time, so the last one is the newest."""
    return [n for n in store().names() if n.startswith(PREFIX)]


@cache
def _load(directory: str, name: str) -> LocalSigner:
    del (
        directory
    )  # part of the cache key only: tests and tools may point the key directory elsewhere
    return store().load(name)


def _signers() -> list[tuple[str, LocalSigner]]:
    directory = str(key_dir())
    return [(name, _load(directory, name)) for name in audit_key_names()]


def audit_key_init() -> LocalSigner:
    """Create the audit key if there is none (idempotent); return the key that signs."""
    with _lock:
        if not audit_key_names():
            return _create()
    return audit_signer()


def audit_key_rotate() -> LocalSigner:
    """A new audit key signs from now on; the old ones keep verifying what they signed."""
    with _lock:
        return _create()


def _create() -> LocalSigner:
    name = f"{PREFIX}{datetime.now(UTC):%Y%m%d%H%M%S%f}"
    signer = store().create(name)
    _load.cache_clear()
    return signer


def audit_signer() -> LocalSigner:
    """The newest audit key. Debug mode creates one when missing; production refuses to go on."""
    signers = _signers()
    if signers:
        return signers[-1][1]
    if not settings.DEBUG:
        raise ImproperlyConfigured(
            f"no audit signing key in {key_dir()}: run `expatsi card keys init` "
            "(or `expatsi audit keys init`), or set EXPATSI_KEY_DIR"
        )
    return audit_key_init()


def audit_public_keys() -> dict[str, Ed25519PublicKey]:
    """Every audit key's public half by key id (hex), old ones included."""
    return {signer.kid.hex(): signer.public_key() for _, signer in _signers()}


def audit_keys_listing() -> list[dict[str, object]]:
    signers = _signers()
    return [
        {"name": name, "kid": signer.kid.hex(), "current": i == len(signers) - 1}
        for i, (name, signer) in enumerate(signers)
    ]
