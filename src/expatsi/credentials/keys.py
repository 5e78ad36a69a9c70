"""Signing keys behind a small interface, so an HSM or a KMS can stand in for files.

Private keys never live in the database: the default store reads PEM files from a directory that the
caller names (this package reads no settings and no environment; a key held elsewhere, e.g. handed
over by a secret manager, is ``LocalSigner.from_pem(pem, password)``). Key ids are the first 8
bytes of SHA-256 over the raw public key, as in the EU DCC, so a verifier can find the key for a
token without trying them all.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey | bytes) -> bytes:
    raw = public if isinstance(public, bytes) else raw_public(public)
    return hashlib.sha256(raw).digest()[:8]


class Signer(Protocol):
    """What issuing needs from a key: its id, its public half, and a signature."""

    @property
    def kid(self) -> bytes: ...

    def public_key(self) -> Ed25519PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class LocalSigner:
    """An Ed25519 key held in this process (loaded from a file or the environment)."""

    private: Ed25519PrivateKey

    @property
    def kid(self) -> bytes:
        return key_id(self.private.public_key())

    def public_key(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    @classmethod
    def generate(cls) -> LocalSigner:
        return cls(Ed25519PrivateKey.generate())

    def to_pem(self, password: bytes | None = None) -> bytes:
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
        )

    @classmethod
    def from_pem(cls, pem: bytes, password: bytes | None = None) -> LocalSigner:
        key = serialization.load_pem_private_key(pem, password=password)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key)


class FileKeyStore:
    """``<dir>/<name>.pem`` files, one per key; ``current`` names the key that signs new tokens.

    Rotation: generate a new key, point ``current`` at it; old keys stay to keep verifying (they
    stay on the trust list until the last token they signed has expired).
    """

    def __init__(self, directory: Path, password: bytes | None = None) -> None:
        self.directory = directory
        self.password = password

    def _path(self, name: str) -> Path:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"bad key name {name!r}")
        return self.directory / f"{name}.pem"

    def create(self, name: str) -> LocalSigner:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        if path.exists():
            raise FileExistsError(f"{path} exists; keys are never overwritten")
        signer = LocalSigner.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(signer.to_pem(self.password))
        return signer

    def load(self, name: str) -> LocalSigner:
        return LocalSigner.from_pem(self._path(name).read_bytes(), self.password)

    def names(self) -> list[str]:
        return (
            sorted(p.stem for p in self.directory.glob("*.pem")) if self.directory.exists() else []
        )
