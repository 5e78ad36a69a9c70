"""Trust list and revocation list: the two signed documents an offline verifier downloads.

Both are COSE_Sign1 envelopes over CBOR, signed by the trust anchor key whose public half the
verifier is configured with. Revocation entries are truncated SHA-256 hashes of the revoked tokens'
signatures: the list says nothing about whose card was revoked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from expatsi.credentials import cose
from expatsi.credentials.keys import Signer, key_id, raw_public

REVOCATION_HASH_BYTES = 16


def revocation_hash(signature: bytes) -> bytes:
    return hashlib.sha256(signature).digest()[:REVOCATION_HASH_BYTES]


class TrustError(ValueError):
    pass


@dataclass(frozen=True)
class TrustEntry:
    kid: bytes
    public_key: Ed25519PublicKey
    not_before: int  # epoch seconds
    not_after: int | None


@dataclass(frozen=True)
class TrustList:
    issued_at: int
    entries: dict[bytes, TrustEntry]

    def key_for(self, kid: bytes, at: int) -> TrustEntry | None:
        entry = self.entries.get(kid)
        if (
            entry is None
            or at < entry.not_before
            or (entry.not_after is not None and at > entry.not_after)
        ):
            return None
        return entry


@dataclass(frozen=True)
class RevocationList:
    issued_at: int
    hashes: frozenset[bytes] = field(default_factory=frozenset)

    def is_revoked(self, signature: bytes) -> bool:
        return revocation_hash(signature) in self.hashes


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def sign_trust_list(
    keys: list[tuple[Ed25519PublicKey, int, int | None]],
    anchor: Signer,
    issued_at: int | None = None,
) -> bytes:
    body = {
        "t": "trust",
        "iat": issued_at if issued_at is not None else _now(),
        "keys": [
            {"kid": key_id(k), "pk": raw_public(k), "nbf": nbf, "exp": exp} for k, nbf, exp in keys
        ],
    }
    return cose.sign1(cbor2.dumps(body), anchor.sign, anchor.kid)


def sign_revocation_list(
    hashes: list[bytes], anchor: Signer, issued_at: int | None = None
) -> bytes:
    body = {
        "t": "revocations",
        "iat": issued_at if issued_at is not None else _now(),
        "h": sorted(hashes),
    }
    return cose.sign1(cbor2.dumps(body), anchor.sign, anchor.kid)


def _open(document: bytes, anchor: Ed25519PublicKey, kind: str) -> dict[str, object]:
    try:
        message = cose.parse(document)
    except cose.CoseError as exc:
        raise TrustError(f"{kind} list is malformed: {exc}") from None
    if message.kid != key_id(anchor) or not cose.verify(message, anchor):
        raise TrustError(f"{kind} list signature does not verify against the trust anchor")
    body = cbor2.loads(message.payload)
    if not isinstance(body, dict) or body.get("t") != kind:
        raise TrustError(f"not a {kind} list")
    return body


def load_trust_list(document: bytes, anchor: Ed25519PublicKey) -> TrustList:
    body = _open(document, anchor, "trust")
    entries: dict[bytes, TrustEntry] = {}
    for item in body["keys"]:  # type: ignore[attr-defined]
        pk = Ed25519PublicKey.from_public_bytes(item["pk"])
        if key_id(pk) != item["kid"]:
            raise TrustError("trust list entry's key id does not match its key")
        entries[item["kid"]] = TrustEntry(item["kid"], pk, int(item["nbf"]), item["exp"])
    return TrustList(int(body["iat"]), entries)  # type: ignore[call-overload]


def load_revocation_list(document: bytes, anchor: Ed25519PublicKey) -> RevocationList:
    body = _open(document, anchor, "revocations")
    return RevocationList(int(body["iat"]), frozenset(body["h"]))  # type: ignore[call-overload]
