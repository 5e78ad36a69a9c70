"""Indexes for the pickers' prefix search (``people/search.py``), one set per database.

PostgreSQL answers ``UPPER(col) LIKE 'ABC%'`` from a ``text_pattern_ops`` index on the expression;
SQLite answers a range on ``UPPER(col)`` from a plain index on the expression (it never uses an
index for ``LIKE`` on an expression). Neither form exists in Django's model state (an expression
with an operator class is PostgreSQL-only), hence SQL per vendor.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

POSTGRES = (
    "CREATE INDEX IF NOT EXISTS person_family_prefix "
    "ON people_person (UPPER(family_name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS person_given_prefix "
    "ON people_person (UPPER(given_names) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS person_chinese_prefix "
    "ON people_person (UPPER(chinese_name) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS person_ssn_prefix ON people_person (ssn varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS document_number_prefix "
    "ON people_document (number varchar_pattern_ops)",
)
SQLITE = (
    "CREATE INDEX IF NOT EXISTS person_family_prefix ON people_person (UPPER(family_name))",
    "CREATE INDEX IF NOT EXISTS person_given_prefix ON people_person (UPPER(given_names))",
    "CREATE INDEX IF NOT EXISTS person_chinese_prefix ON people_person (UPPER(chinese_name))",
    "CREATE INDEX IF NOT EXISTS document_number_prefix ON people_document (number)",
)
NAMES = (
    "person_family_prefix",
    "person_given_prefix",
    "person_chinese_prefix",
    "person_ssn_prefix",
    "document_number_prefix",
)


def create(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in POSTGRES if vendor == "postgresql" else SQLITE if vendor == "sqlite" else ():
        schema_editor.execute(sql)


def drop(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_document_number_pending"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
