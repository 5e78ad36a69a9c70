"""Schema changes that keep a live database writable.

A plain ``CREATE INDEX`` holds a lock that stops every write to the table until the index is
built: on the bill-line table at national scale (60 M rows) that is about 20 s of billing runs and
payments waiting. On PostgreSQL :class:`AddIndexOnline` builds the index ``CONCURRENTLY`` (writes
go on; the build takes longer and cannot run inside a transaction, so its migration says
``atomic = False``); on SQLite, the embedded engine with no concurrent writers to speak of, it is
a plain ``AddIndex``. Django's own ``AddIndexConcurrently`` refuses to run on SQLite, and both
engines run the same migrations here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


class AddIndexOnline(AddIndexConcurrently):
    """``AddIndex`` built ``CONCURRENTLY`` on PostgreSQL; see the module docstring."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
