"""Raw SQL behind the app's back, as an attacker who owns the database tables would run it.

On PostgreSQL the append-only triggers refuse UPDATE and DELETE; a table owner can switch them off,
so the helper does that first (inside the test's transaction, which rolls it back). What must catch
the tampering then is the signed checkpoint, not the trigger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection

TABLES = ("audit_auditevent", "audit_auditcheckpoint")


@contextmanager
def as_owner() -> Iterator[None]:
    on_postgres = connection.vendor == "postgresql"
    if on_postgres:
        with connection.cursor() as c:
            for table in TABLES:
                c.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    try:
        yield
    finally:
        if on_postgres:
            with connection.cursor() as c:
                for table in TABLES:
                    c.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def sql(statement: str, params: Sequence[object] = ()) -> None:
    with as_owner(), connection.cursor() as c:
        c.execute(statement, list(params))
