"""Passport numbers encrypted at rest, step 2 of 3: encrypt the numbers already on file.

A row whose hash is still empty holds its number in plaintext; each is rewritten with its token and
hash in one statement, a batch at a time, so the work is resumable if it stops half-way. Needs the
data and search keys (`expatsi data keys init`) when there are rows; an empty table needs none.
Works the same on SQLite and PostgreSQL (plain UPDATEs, no database-specific SQL).
"""

from typing import Any

from django.db import migrations
from django.db.models import ExpressionWrapper, F, TextField, Value

from expatsi.access import crypto

BATCH = 1000


def _rows(manager: Any, condition: dict[str, Any]) -> Any:
    """The stored text of ``number`` (not decrypted), a batch at a time in primary-key order."""
    raw = ExpressionWrapper(F("number"), output_field=TextField())
    last = 0
    while True:
        rows = list(
            manager.filter(pk__gt=last, **condition)
            .order_by("pk")
            .annotate(raw_number=raw)
            .values_list("pk", "raw_number")[:BATCH]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def encrypt_numbers(apps: Any, schema_editor: Any) -> None:
    manager = apps.get_model("people", "Passport")._base_manager
    for rows in _rows(manager, {"number_hash": ""}):
        for pk, plain in rows:
            manager.filter(pk=pk).update(
                number=Value(crypto.encrypt(plain), output_field=TextField()),
                number_hash=crypto.search_hash(plain),
            )


def decrypt_numbers(apps: Any, schema_editor: Any) -> None:
    """Back to plaintext, for unapplying (the keys must still be there)."""
    manager = apps.get_model("people", "Passport")._base_manager
    for rows in _rows(manager, {"number_hash__gt": ""}):
        for pk, token in rows:
            if token:
                plain = crypto.decrypt(token, where=f"people.Passport.number (row {pk})")
                manager.filter(pk=pk).update(
                    number=Value(plain, output_field=TextField()), number_hash=""
                )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0002_passport_number_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_numbers, decrypt_numbers, elidable=False),
    ]
