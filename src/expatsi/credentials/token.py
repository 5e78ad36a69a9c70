"""Issue and verify the Integrated Card's QR token.

Text form: ``EXP1:`` + Base45(zlib(COSE_Sign1(CBOR claims))). Every character is in the QR
alphanumeric set, so the code stays small (about version 7–9 at error correction level M).
Verification answers one of: valid, expired, not_yet_valid, revoked, unknown_key, tampered,
malformed — and shows no more than the card itself shows.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

import cbor2

from expatsi.credentials import base45, cose
from expatsi.credentials.keys import Signer
from expatsi.credentials.trust import RevocationList, TrustList

PREFIX = "EXP1:"
MAX_TEXT = 4096  # far above any real token; refuses absurd input before any work

Result = Literal[
    "valid", "expired", "not_yet_valid", "revoked", "unknown_key", "tampered", "malformed"
]

# CWT registered claim "iat" (RFC 8392) and one private claim holding the card's data as a compact
# array; validity comes from the card's own dates, and the key id names the issuer.
IAT, CTI, CARD = 6, 7, -1
EPOCH_DAY = date(2000, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class CardClaims:
    """What the QR code carries: exactly what the card shows, plus a hash of the photo."""

    card_number: str
    permit_number: str
    ssn: str
    name: str
    nationality: str
    category: str
    employer: str
    valid_from: date
    valid_to: date
    photo_hash: str = ""  # hex of the first 16 bytes of SHA-256 over the photo file

    def to_cbor(self) -> list[Any]:
        """A positional array; all-digit numbers travel as integers (9 bytes instead of 19)."""
        return [
            _pack(self.card_number),
            _pack(self.permit_number),
            _pack(self.ssn),
            self.name,
            self.nationality,
            self.category,
            self.employer,
            self.valid_from.toordinal() - EPOCH_DAY,
            self.valid_to.toordinal() - EPOCH_DAY,
            bytes.fromhex(self.photo_hash),
        ]

    @classmethod
    def from_cbor(cls, d: list[Any]) -> CardClaims:
        return cls(
            card_number=_unpack(d[0]),
            permit_number=_unpack(d[1]),
            ssn=_unpack(d[2]),
            name=d[3],
            nationality=d[4],
            category=d[5],
            employer=d[6],
            valid_from=date.fromordinal(d[7] + EPOCH_DAY),
            valid_to=date.fromordinal(d[8] + EPOCH_DAY),
            photo_hash=d[9].hex(),
        )

    def as_dict(self) -> dict[str, str]:
        # Shallow (every claim is a string or a date): dataclasses.asdict deep-copies, and an online
        # check calls this once per request.
        out: dict[str, str] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.isoformat() if isinstance(v, date) else v
        return out


def _pack(number: str) -> int | str:
    # Keep leading zeros and 19+ digit numbers as text so that unpacking gives back the same string.
    return (
        int(number)
        if number.isdigit() and not number.startswith("0") and len(number) <= 19
        else number
    )


def _unpack(value: int | str) -> str:
    return str(value)


CHINA_OFFSET = 8 * 3600  # validity dates are calendar days in China (UTC+8)
UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def china_day(at: int) -> int:
    """The calendar day (proleptic ordinal) in China at epoch second ``at``."""
    return (at + CHINA_OFFSET) // 86400 + UNIX_EPOCH_ORDINAL


def issue(
    claims: CardClaims, signer: Signer, *, issued_at: int | None = None, serial: int = 0
) -> tuple[str, bytes]:
    """Sign the claims. Returns the QR text and the signature (whose hash is the revocation handle).

    ``serial`` (the n-th token of this card) makes every token distinct even when a card is
    re-issued with the same data in the same second: Ed25519 signatures are deterministic, and a
    new token must never share its revocation hash with the one it replaces.
    """
    if len(bytes.fromhex(claims.photo_hash)) not in (0, 16):
        raise ValueError("photo_hash must be 16 bytes (32 hex digits) or empty")
    payload = cbor2.dumps(
        {
            IAT: issued_at if issued_at is not None else int(time.time()),
            CTI: serial,
            CARD: claims.to_cbor(),
        }
    )
    envelope = cose.sign1(payload, signer.sign, signer.kid)
    message = cose.parse(envelope)
    return PREFIX + base45.encode(zlib.compress(envelope, 9)), message.signature


@dataclass(frozen=True, slots=True)
class Verification:
    result: Result
    claims: CardClaims | None
    kid: str  # hex
    message: str
    revocation_list_age_seconds: int | None = None
    # The code's signature once it verified (its hash is the revocation handle); empty otherwise.
    signature: bytes = b""

    def as_dict(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "message": self.message,
            "kid": self.kid,
            "card": self.claims.as_dict() if self.claims else None,
            "revocation_list_age_seconds": self.revocation_list_age_seconds,
        }


def verify(
    text: str, trust: TrustList, revocations: RevocationList | None, *, now: int | None = None
) -> Verification:
    """Check signature, validity dates and revocation together; never raises on bad input."""
    at = now if now is not None else int(time.time())
    age = None if revocations is None else max(0, at - revocations.issued_at)
    text = text.strip()
    if len(text) > MAX_TEXT or not text.startswith(PREFIX):
        return Verification(
            "malformed", None, "", f"not an expatsi card code (it must start with {PREFIX})", age
        )
    try:
        envelope = zlib.decompress(base45.decode(text[len(PREFIX) :]))
        message = cose.parse(envelope)
    except (base45.Base45Error, zlib.error, cose.CoseError):
        return Verification("tampered", None, "", "the code is damaged or has been altered", age)
    kid = message.kid.hex()
    entry = trust.key_for(message.kid, at)
    if entry is None:
        return Verification(
            "unknown_key", None, kid, "signed by a key that is not on the trust list", age
        )
    if not cose.verify(message, entry.public_key):
        return Verification(
            "tampered", None, kid, "the signature does not match: the code has been altered", age
        )
    try:
        body = cbor2.loads(message.payload)
        claims = CardClaims.from_cbor(body[CARD])
    except Exception:  # a validly signed but unreadable payload: treat as malformed, never crash
        return Verification("malformed", None, kid, "signed, but the contents are not a card", age)
    sig = message.signature
    if revocations is not None and revocations.is_revoked(sig):
        return Verification("revoked", claims, kid, "this card code has been revoked", age, sig)
    today = china_day(at)
    if today < claims.valid_from.toordinal():
        return Verification(
            "not_yet_valid", claims, kid, f"valid only from {claims.valid_from}", age, sig
        )
    if today > claims.valid_to.toordinal():
        return Verification("expired", claims, kid, f"expired on {claims.valid_to}", age, sig)
    return Verification("valid", claims, kid, "valid", age, sig)
