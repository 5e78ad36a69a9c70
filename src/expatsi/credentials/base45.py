"""Base45 (RFC 9285): bytes ↔ text in the QR code alphanumeric set, so a QR code stays small.

Decoding uses whole-array operations because it sits on the offline verification hot path.
"""

from __future__ import annotations

import numpy as np

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(ValueError):
    pass


def encode(data: bytes) -> str:
    out: list[str] = []
    a = ALPHABET
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = divmod(n, 45 * 45)
        b, d = divmod(n, 45)
        out.append(a[d] + a[b] + a[c])
    if len(data) % 2:
        b, d = divmod(data[-1], 45)
        out.append(a[d] + a[b])
    return "".join(out)


_TRANSLATE = bytes.maketrans(ALPHABET.encode(), bytes(range(45)))
_ALPHABET_BYTES = ALPHABET.encode()
_WEIGHTS = np.array([1, 45, 2025], dtype=np.uint32)


def decode(text: str) -> bytes:
    """Decode with whole-array operations: this runs once per offline verification."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise Base45Error("invalid Base45 character") from None
    if raw.translate(None, _ALPHABET_BYTES):
        raise Base45Error("invalid Base45 character")
    n = len(raw)
    if n % 3 == 1:
        raise Base45Error("invalid Base45 length")
    values = np.frombuffer(raw.translate(_TRANSLATE), dtype=np.uint8)
    full = n - n % 3
    words = values[:full].reshape(-1, 3).astype(np.uint32) @ _WEIGHTS
    if words.size and int(words.max()) > 0xFFFF:
        raise Base45Error("invalid Base45 value")
    body = words.astype(">u2").tobytes()
    if n % 3 == 2:
        v = int(values[-2]) + int(values[-1]) * 45
        if v > 0xFF:
            raise Base45Error("invalid Base45 value")
        body += bytes((v,))
    return body
