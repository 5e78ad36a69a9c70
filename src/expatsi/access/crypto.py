"""Encryption at rest for personal data: the data keys, the search key, and the operations on them.

What is encrypted (a passport number, later a bank account) is stored as a Fernet token made with
the ``cryptography`` package's :class:`~cryptography.fernet.MultiFernet`: AES-128-CBC with an
HMAC-SHA256 tag and a random IV, so equal values give different tokens and nothing can be looked up
by them. Lookups and uniqueness go through a **keyed hash** instead: HMAC-SHA256 with a separate
*search key* over the normalised value (Unicode NFKC, every space removed, upper case), stored in
an indexed column beside the token. Without the search key a leaked hash column cannot be turned
back into numbers by trying every passport number.

Keys are files in the one key directory beside the card and audit keys (``expatsi.access.keystore``:
``EXPATSI_KEY_DIR``), never in the database:

- ``data-<UTC time>.key``: the data keys. The newest encrypts; every one on file decrypts, so a
  rotation (``expatsi data keys rotate``) never makes stored values unreadable.
  ``expatsi data reencrypt`` then re-encrypts every encrypted column with the newest key, after
  which the older files can be moved away.
- ``search-<UTC time>.key``: the search key(s). The newest computes the hashes written from now on;
  lookups try every one on file, so a rotation (``expatsi data keys rotate-search``) keeps finding
  rows until ``expatsi data rehash`` has recomputed every hash; then the older file can go.

With ``EXPATSI_KEY_PASSWORD`` set, new key files are themselves encrypted (a Fernet token under a
key derived from the password with scrypt). In debug mode missing keys are created on first use; in
production a missing key stops with the command to run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from expatsi.access.keystore import key_dir, key_password

if TYPE_CHECKING:
    from django.db import models

DATA_PREFIX = "data-"
SEARCH_PREFIX = "search-"
SUFFIX = ".key"
_WRAPPED_MARK = "scrypt:"
# How long a process trusts its listing of the key directory: a key added by `rotate` on another
# machine or process is picked up within this time even without a restart.
KEYRING_TTL_SECONDS = 60.0


class DataKeyError(ImproperlyConfigured):
    """A key is missing, unreadable or wrong: configuration to fix, never the user's input."""


def _wrapping_key(password: bytes, salt: bytes) -> Fernet:
    kdf = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(password)))


def _serialise(key: bytes) -> str:
    """A key file's text: the Fernet key itself, or wrapped under the key password when one is set."""
    password = key_password()
    if password is None:
        return key.decode("ascii") + "\n"
    salt = os.urandom(16)
    token = _wrapping_key(password, salt).encrypt(key)
    return f"{_WRAPPED_MARK}{base64.urlsafe_b64encode(salt).decode()}:{token.decode()}\n"


def _parse(path: Path) -> bytes:
    text = path.read_text(encoding="ascii").strip()
    if text.startswith(_WRAPPED_MARK):
        password = key_password()
        if password is None:
            raise DataKeyError(f"{path} is encrypted: set EXPATSI_KEY_PASSWORD")
        salt_text, _, token = text[len(_WRAPPED_MARK) :].partition(":")
        try:
            key = _wrapping_key(password, base64.urlsafe_b64decode(salt_text)).decrypt(
                token.encode()
            )
        except (InvalidToken, ValueError):
            raise DataKeyError(f"{path}: EXPATSI_KEY_PASSWORD does not open it") from None
    else:
        key = text.encode("ascii")
    try:
        Fernet(key)  # 32 bytes, URL-safe base64: refuses a truncated or edited file
    except ValueError:
        raise DataKeyError(f"{path} is not a key file (damaged or edited?)") from None
    return key


@dataclass(frozen=True)
class Keyring:
    directory: Path
    data_names: tuple[str, ...]  # oldest first; the last one encrypts
    search_names: tuple[str, ...]  # oldest first; the last one hashes new values
    fernet: MultiFernet  # newest data key first
    newest: Fernet
    search_keys: tuple[bytes, ...]  # newest first


_lock = threading.Lock()
_files: dict[tuple[str, float], bytes] = {}  # (path, mtime) -> key: a password costs one scrypt
_cached: tuple[float, Path, Keyring] | None = None  # (when, key directory, keys)


def _names(directory: Path, prefix: str) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(
        p.name for p in directory.iterdir() if p.name.startswith(prefix) and p.suffix == SUFFIX
    )


def _load_file(path: Path) -> bytes:
    cache_key = (str(path), path.stat().st_mtime)
    key = _files.get(cache_key)
    if key is None:
        key = _files[cache_key] = _parse(path)
    return key


def _create(prefix: str) -> str:
    directory = key_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}{datetime.now(UTC):%Y%m%d%H%M%S%f}{SUFFIX}"
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never overwrites a key
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(_serialise(Fernet.generate_key()))
    return name


def _missing_message(directory: Path, what: str) -> str:
    return (
        f"no {what} in {directory}: run `expatsi data keys init` (or set EXPATSI_KEY_DIR to the "
        "directory that holds the keys; see docs/operations.md)"
    )


def _build() -> Keyring:
    directory = key_dir()
    data = _names(directory, DATA_PREFIX)
    search = _names(directory, SEARCH_PREFIX)
    if not data or not search:
        if not settings.DEBUG:
            raise DataKeyError(
                _missing_message(directory, "data key" if not data else "search key")
            )
        keys_init()  # debug and demo: like the card keys, created on first use
        data = _names(directory, DATA_PREFIX)
        search = _names(directory, SEARCH_PREFIX)
    fernets = [Fernet(_load_file(directory / n)) for n in reversed(data)]
    return Keyring(
        directory=directory,
        data_names=tuple(data),
        search_names=tuple(search),
        fernet=MultiFernet(fernets),
        newest=fernets[0],
        search_keys=tuple(
            base64.urlsafe_b64decode(_load_file(directory / n)) for n in reversed(search)
        ),
    )


def keyring() -> Keyring:
    """The keys on file, re-read at most once a minute (and whenever the key directory changes)."""
    global _cached
    cached = _cached
    now = time.monotonic()
    directory = key_dir()  # cheap (a settings lookup): this runs for every value
    if cached is not None and now - cached[0] < KEYRING_TTL_SECONDS and cached[1] == directory:
        return cached[2]
    with _lock:
        ring = _build()
        _cached = (now, directory, ring)
    return ring


def reset_caches() -> None:
    global _cached
    _cached = None
    _files.clear()


# --- key management (the `expatsi data keys` commands) ----------------------------------------


def keys_init() -> list[str]:
    """Create a data key and a search key where missing (idempotent); return the names created."""
    directory = key_dir()
    created = []
    if not _names(directory, DATA_PREFIX):
        created.append(_create(DATA_PREFIX))
    if not _names(directory, SEARCH_PREFIX):
        created.append(_create(SEARCH_PREFIX))
    reset_caches()
    return created


def data_key_rotate() -> str:
    """A new data key encrypts from now on; the older ones keep decrypting until re-encryption."""
    keyring()  # refuses to rotate in production when there is nothing to rotate
    name = _create(DATA_PREFIX)
    reset_caches()
    return name


def search_key_rotate() -> str:
    """A new search key hashes from now on; lookups try the older ones too until `rehash`."""
    keyring()
    name = _create(SEARCH_PREFIX)
    reset_caches()
    return name


def keys_listing() -> dict[str, Any]:
    ring = keyring()
    return {
        "key_dir": str(ring.directory),
        "data_keys": [
            {"name": n, "current": i == len(ring.data_names) - 1}
            for i, n in enumerate(ring.data_names)
        ],
        "search_keys": [
            {"name": n, "current": i == len(ring.search_names) - 1}
            for i, n in enumerate(ring.search_names)
        ],
    }


# --- encryption and hashing -------------------------------------------------------------------


def encrypt(plaintext: str) -> str:
    """A Fernet token (ASCII) under the newest data key."""
    return keyring().fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, where: str = "a stored value") -> str:
    """The plaintext of a token made with any data key on file; a clear error if none fits."""
    ring = keyring()
    try:
        return ring.fernet.decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise DataKeyError(
            f"{where} cannot be decrypted with any of the {len(ring.data_names)} data key(s) in "
            f"{ring.directory}: a key file is missing or wrong (restore the keys from the backup; "
            "see docs/operations.md)"
        ) from None


def is_current(token: str) -> bool:
    """Whether the newest data key alone opens this token (then re-encryption skips it)."""
    try:
        keyring().newest.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def rotate_token(token: str, *, where: str = "a stored value") -> str:
    """The same plaintext under the newest data key."""
    try:
        return keyring().fernet.rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        decrypt(token, where=where)  # raises the clear error
        raise


def normalise(value: str) -> str:
    """What counts as the same number: full-width letters and digits as ASCII, no spaces, upper case."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, normalise(value).encode("utf-8"), hashlib.sha256).hexdigest()


def search_hash(value: str) -> str:
    """The keyed hash written with a new value (newest search key); ``""`` for an empty value."""
    if not normalise(value):
        return ""
    return _hmac(keyring().search_keys[0], value)


def search_hashes(value: str) -> list[str]:
    """Every hash a stored value equal to ``value`` may carry: one per search key on file (one,
    except between `rotate-search` and the end of `rehash`). Filter with ``<hash>__in``."""
    if not normalise(value):
        return []
    return [_hmac(key, value) for key in keyring().search_keys]


def masked(value: str, visible: int = 4) -> str:
    """``****1234``: the tail only, never more than half, behind a fixed-width mask (no length)."""
    shown = min(visible, len(value) // 2)
    return "****" + (value[-shown:] if shown else "")


# --- re-encryption and re-hashing over every encrypted column ---------------------------------


@dataclass(slots=True)
class ColumnProgress:
    model: str
    field: str
    rows: int = 0  # rows with a value
    changed: int = 0  # rows rewritten by this run


Progress = Callable[[str, int, int], None]  # (column label, done, total)


def encrypted_columns() -> Iterator[tuple[type[models.Model], models.Field[Any, Any]]]:
    """Every encrypted column of every installed model (bank accounts will appear here by
    themselves once a model declares one)."""
    from django.apps import apps

    from expatsi.access.fields import EncryptedTextField

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def _raw_batches(
    model: type[models.Model], names: Sequence[str], batch: int
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows as stored (the tokens, not decrypted), in primary-key order, ``batch`` at a time."""
    from django.db.models import ExpressionWrapper, F, TextField

    raw = {f"_raw_{n}": ExpressionWrapper(F(n), output_field=TextField()) for n in names}
    last: Any = None
    manager = model._base_manager
    while True:
        qs = manager.order_by("pk").annotate(**raw)
        if last is not None:
            qs = qs.filter(pk__gt=last)
        rows = list(qs.values_list("pk", *raw)[:batch])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def reencrypt(*, batch: int = 1000, progress: Progress | None = None) -> list[ColumnProgress]:
    """Re-encrypt every value not made with the newest data key. One transaction per batch, so
    an interrupted run keeps what it did; running it again only does what is left (a value the
    newest key opens is skipped), and a second run over finished data changes nothing."""
    from django.db import transaction
    from django.db.models import TextField, Value

    results = []
    for model, field in encrypted_columns():
        label = f"{model._meta.label}.{field.name}"
        done = ColumnProgress(model._meta.label, field.name)
        total = model._base_manager.exclude(**{f"{field.name}__isnull": True}).count()
        if progress is not None:
            progress(label, 0, total)
        for rows in _raw_batches(model, [field.name], batch):
            with transaction.atomic():
                for pk, token in rows:
                    if not token:
                        continue
                    done.rows += 1
                    if is_current(token):
                        continue
                    fresh = rotate_token(token, where=f"{label} (row {pk})")
                    model._base_manager.filter(pk=pk).update(
                        **{field.name: Value(fresh, output_field=TextField())}
                    )
                    done.changed += 1
            if progress is not None:
                progress(label, done.rows, total)
        results.append(done)
    reset_caches()
    return results


def rehash(*, batch: int = 1000, progress: Progress | None = None) -> list[ColumnProgress]:
    """Recompute every keyed hash with the newest search key (after `rotate-search`). Resumable
    and idempotent like :func:`reencrypt`: a row whose hash is already right is left alone."""
    from django.apps import apps
    from django.db import transaction

    from expatsi.access.fields import EncryptedTextField, SearchHashField

    results = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, SearchHashField):
                continue
            label = f"{model._meta.label}.{field.name}"
            source = model._meta.get_field(field.source)
            encrypted = isinstance(source, EncryptedTextField)
            done = ColumnProgress(model._meta.label, field.name)
            total = model._base_manager.count()
            if progress is not None:
                progress(label, 0, total)
            for rows in _raw_batches(model, [source.name, field.name], batch):
                with transaction.atomic():
                    for pk, token, stored in rows:
                        done.rows += 1
                        plain = token or ""
                        if encrypted and plain:
                            plain = decrypt(plain, where=f"{label} (row {pk})")
                        wanted = search_hash(plain)
                        if stored != wanted:
                            model._base_manager.filter(pk=pk).update(**{field.name: wanted})
                            done.changed += 1
                if progress is not None:
                    progress(label, done.rows, total)
            results.append(done)
    return results
