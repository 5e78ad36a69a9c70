"""COSE_Sign1 (RFC 9052) with EdDSA over Ed25519: the smallest standard signed envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALG = 1
KID = 4
EDDSA = -8
COSE_SIGN1_TAG = 18


class CoseError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Sign1:
    protected: bytes
    kid: bytes
    payload: bytes
    signature: bytes

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)


_SIG1_HEAD = b"\x84\x6aSignature1"  # array(4), text(10) "Signature1"


def _bstr_head(n: int) -> bytes:
    if n < 24:
        return bytes((0x40 | n,))
    if n < 256:
        return bytes((0x58, n))
    if n < 65536:
        return b"\x59" + n.to_bytes(2, "big")
    return b"\x5a" + n.to_bytes(4, "big")


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """CBOR of ["Signature1", protected, h'', payload], written directly (hot path)."""
    return b"".join(
        (
            _SIG1_HEAD,
            _bstr_head(len(protected)),
            protected,
            b"\x40",
            _bstr_head(len(payload)),
            payload,
        )
    )


@lru_cache(maxsize=256)
def _header(protected: bytes) -> Any:
    """Protected headers repeat for every token of one key: decode each once."""
    return cbor2.loads(protected) if protected else {}


def sign1(payload: bytes, sign: Callable[[bytes], bytes], kid: bytes) -> bytes:
    """Sign ``payload``; ``sign`` is any Ed25519 signing function (a local key, an HSM, a KMS)."""
    protected = cbor2.dumps({ALG: EDDSA, KID: kid})
    signature = sign(sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def parse(data: bytes) -> Sign1:
    try:
        obj: Any = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several types on garbage
        raise CoseError(f"not CBOR: {exc}") from None
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag != COSE_SIGN1_TAG:
            raise CoseError(f"unexpected CBOR tag {obj.tag}")
        obj = obj.value
    if not (isinstance(obj, (list, tuple)) and len(obj) == 4):
        raise CoseError("not a COSE_Sign1 array")
    protected, unprotected, payload, signature = obj
    if not all(isinstance(x, bytes) for x in (protected, payload, signature)):
        raise CoseError("malformed COSE_Sign1 fields")
    try:
        header = _header(protected)
    except Exception:
        raise CoseError("malformed protected header") from None
    if not isinstance(header, dict) or header.get(ALG) != EDDSA:
        raise CoseError("unsupported algorithm")
    kid = header.get(KID) or (unprotected.get(KID) if isinstance(unprotected, dict) else None)
    if not isinstance(kid, bytes):
        raise CoseError("no key id")
    return Sign1(protected, kid, payload, signature)


def verify(message: Sign1, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(message.signature, message.to_be_signed())
    except InvalidSignature:
        return False
    return True
