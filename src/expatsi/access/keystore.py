"""The one key directory: where every key of the installation lives, and the password of its files.

Card signing keys (``expatsi.cards.keys``), audit checkpoint keys (``expatsi.audit.keys``) and the
keys that encrypt personal data at rest (``expatsi.access.crypto``) are files side by side in
``settings.EXPATSI_KEY_DIR``, never in the database, and new files are encrypted with
``settings.EXPATSI_KEY_PASSWORD`` when one is set. Each of them asks here rather than reading the
settings itself, so that a backup, a restore or a move of the keys has one directory to mind.

Read on every call (a settings lookup is cheap): tests and tools point the directory elsewhere at
run time with ``override_settings``, and the next call follows.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from expatsi.credentials.keys import FileKeyStore


def key_dir() -> Path:
    return Path(settings.EXPATSI_KEY_DIR)


def key_password() -> bytes | None:
    """The password of the key files, or None: files are then written (and read) unencrypted."""
    password: str | None = settings.EXPATSI_KEY_PASSWORD
    return password.encode() if password else None


def store() -> FileKeyStore:
    """The PEM signing keys (card and audit keys) in the key directory."""
    return FileKeyStore(key_dir(), key_password())
