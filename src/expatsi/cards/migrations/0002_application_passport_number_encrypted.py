"""A card change application's new passport number moves out of the JSON request into an encrypted
column; the request keeps only its masked form. Works the same on SQLite and PostgreSQL."""

from typing import Any

from django.db import migrations
from django.db.models import TextField, Value

import expatsi.access.fields
from expatsi.access import crypto

BATCH = 1000


def encrypt_requested_numbers(apps: Any, schema_editor: Any) -> None:
    manager = apps.get_model("cards", "CardApplication")._base_manager
    last = 0
    while True:
        rows = list(
            manager.filter(pk__gt=last, kind="change")
            .order_by("pk")
            .values_list("pk", "request")[:BATCH]
        )
        if not rows:
            return
        for pk, request in rows:
            changes = dict((request or {}).get("changes") or {})
            number = changes.get("passport_number")
            if not number or number.startswith("****"):
                continue  # nothing to move, or moved already
            changes["passport_number"] = crypto.masked(number)
            manager.filter(pk=pk).update(
                request={**request, "changes": changes},
                passport_number=Value(crypto.encrypt(number), output_field=TextField()),
            )
        last = rows[-1][0]


def restore_requested_numbers(apps: Any, schema_editor: Any) -> None:
    """Back into the JSON request, for unapplying (the keys must still be there)."""
    model = apps.get_model("cards", "CardApplication")
    for app in model._base_manager.filter(kind="change").iterator():
        if not app.passport_number:
            continue
        changes = {**(app.request.get("changes") or {}), "passport_number": app.passport_number}
        model._base_manager.filter(pk=app.pk).update(request={**app.request, "changes": changes})


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="cardapplication",
            name="passport_number",
            field=expatsi.access.fields.EncryptedTextField(blank=True, default=""),
        ),
        migrations.RunPython(
            encrypt_requested_numbers, restore_requested_numbers, elidable=False
        ),
    ]
