"""Where the card signing keys live, and the signed trust and revocation lists built from them.

Keys are PEM files in the key directory (``expatsi.access.keystore``: ``EXPATSI_KEY_DIR``, default
``var/keys``, optionally encrypted with ``EXPATSI_KEY_PASSWORD``): never in the database.
``anchor.pem`` signs the two lists; ``sign-*.pem`` sign tokens, and the file ``current`` names the
one that signs new tokens. Rotation adds a key and
moves ``current``; old keys stay on the trust list so that what they signed keeps verifying.
In debug mode missing keys are created on first use; in production ``expatsi card keys init``
must have been run.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from expatsi.access.keystore import key_dir, store
from expatsi.credentials import trust
from expatsi.credentials.keys import LocalSigner

ANCHOR = "anchor"
REVOCATION_LIST_MAX_AGE = 60  # seconds a served revocation list may be reused


@dataclass(frozen=True)
class KeyRing:
    anchor: LocalSigner
    current: LocalSigner
    signers: tuple[LocalSigner, ...]


_lock = threading.Lock()


def keys_init() -> KeyRing:
    """Create the anchor and a first signing key if missing (idempotent)."""
    s = store()
    with _lock:
        if ANCHOR not in s.names():
            s.create(ANCHOR)
        if not [n for n in s.names() if n.startswith("sign-")]:
            key_rotate()
    _keyring.cache_clear()
    return keyring()


def key_rotate() -> LocalSigner:
    """A new signing key becomes current; the old ones keep verifying."""
    s = store()
    name = f"sign-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
    signer = s.create(name)
    (key_dir() / "current").write_text(name, encoding="utf-8")
    _keyring.cache_clear()
    trust_list_document.cache_clear()
    return signer


@cache
def _keyring() -> KeyRing:
    s = store()
    names = s.names()
    if ANCHOR not in names or not (key_dir() / "current").exists():
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                f"no card signing keys in {key_dir()}: run `expatsi card keys init` (or set EXPATSI_KEY_DIR)"
            )
        raise LookupError("keys missing")
    current_name = (key_dir() / "current").read_text(encoding="utf-8").strip()
    signers = tuple(s.load(n) for n in names if n.startswith("sign-"))
    return KeyRing(anchor=s.load(ANCHOR), current=s.load(current_name), signers=signers)


def keyring() -> KeyRing:
    try:
        return _keyring()
    except LookupError:
        return keys_init()


@cache
def trust_list_document() -> bytes:
    ring = keyring()
    return trust.sign_trust_list([(k.public_key(), 0, None) for k in ring.signers], ring.anchor)


# The lists as loaded (their signatures checked), by the very document they were loaded from: a
# check reuses them instead of verifying the anchor's signature again on every request.
_loaded: dict[str, tuple[bytes, object]] = {}


def trust_list() -> trust.TrustList:
    doc = trust_list_document()
    hit = _loaded.get("trust")
    if hit is not None and hit[0] is doc and isinstance(hit[1], trust.TrustList):
        return hit[1]
    loaded = trust.load_trust_list(doc, keyring().anchor.public_key())
    _loaded["trust"] = (doc, loaded)
    return loaded


_revocations: dict[str, tuple[float, bytes]] = {}


def revocation_list_document(*, fresh: bool = False) -> bytes:
    """Signed list of truncated hashes of every revoked token (rebuilt at most once a minute)."""
    from expatsi.cards.models import CardToken

    cached = _revocations.get("doc")
    if cached and not fresh and time.monotonic() - cached[0] < REVOCATION_LIST_MAX_AGE:
        return cached[1]
    hashes = [
        bytes.fromhex(h)
        for h in CardToken.objects.filter(revoked_at__isnull=False)
        .values_list("revocation_hash", flat=True)
        .iterator(chunk_size=10_000)
    ]
    doc = trust.sign_revocation_list(hashes, keyring().anchor)
    _revocations["doc"] = (time.monotonic(), doc)
    return doc


def revocation_list(*, fresh: bool = False) -> trust.RevocationList:
    doc = revocation_list_document(fresh=fresh)
    hit = _loaded.get("revocations")
    if hit is not None and hit[0] is doc and isinstance(hit[1], trust.RevocationList):
        return hit[1]
    loaded = trust.load_revocation_list(doc, keyring().anchor.public_key())
    _loaded["revocations"] = (doc, loaded)
    return loaded


def reset_caches() -> None:
    _keyring.cache_clear()
    trust_list_document.cache_clear()
    _revocations.clear()
    _loaded.clear()
