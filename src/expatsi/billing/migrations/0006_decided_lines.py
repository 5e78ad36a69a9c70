"""Mark the entries of corrections posted before BillLine.FLAG_DECIDED existed, so that a billing
or recalculation run leaves what those decisions decided alone."""

from django.db import migrations
from django.db.models import F

FLAG_DECIDED = 32  # BillLine.FLAG_DECIDED at the time of writing


def mark(apps, schema_editor):  # type: ignore[no-untyped-def]
    bill_line = apps.get_model("billing", "BillLine")
    bill_line.objects.filter(
        bill__kind="adjustment",
        bill__run__isnull=True,
        bill__reason__startswith="Correction after a decision:",
    ).update(flags=F("flags").bitor(FLAG_DECIDED))


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_account_closing")]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
