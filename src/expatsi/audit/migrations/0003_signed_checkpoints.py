"""Signed, append-only checkpoints; on PostgreSQL, triggers that refuse UPDATE and DELETE of audit
events and checkpoints.

The old single checkpoint row was unsigned and updated in place: it is dropped (the next
verification walks the whole chain and writes the first signed checkpoint). TRUNCATE is left alone:
it is not a row operation, Django's ``flush`` (and so the test suite) uses it, and only a table
owner may run it — who could drop a trigger anyway; the signed checkpoint is what catches them.
"""

from collections.abc import Callable

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

TABLES = ("audit_auditevent", "audit_auditcheckpoint")

CREATE = """
CREATE OR REPLACE FUNCTION expatsi_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
""" + "".join(
    f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION expatsi_audit_append_only();\n"
    for table in TABLES
)

DROP = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES) + (
    "DROP FUNCTION IF EXISTS expatsi_audit_append_only();\n"
)


def drop_unsigned(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("audit", "AuditCheckpoint").objects.all().delete()


def triggers(sql: str) -> Callable[[Apps, BaseDatabaseSchemaEditor], None]:
    def run(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, None)  # no parameters: the "%" are plpgsql's

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_checkpoint"),
    ]

    operations = [
        migrations.RunPython(drop_unsigned, migrations.RunPython.noop),
        migrations.RemoveField(model_name="auditcheckpoint", name="full_verified_at"),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="whole_chain",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="key_id",
            field=models.CharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditcheckpoint",
            name="signature",
            field=models.CharField(default="", max_length=128),
            preserve_default=False,
        ),
        migrations.AlterModelOptions(name="auditcheckpoint", options={"ordering": ["id"]}),
        migrations.RunPython(triggers(CREATE), triggers(DROP)),
    ]
