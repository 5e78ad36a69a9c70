"""Who a bill bills for medical insurance (how many people, the sum of a hash of their ids),
written with the bill by the billing run on PostgreSQL, for the compliance check "months not
billed" (cases/checks.py). Nullable, added without a table rewrite; bills written before carry
none and are counted from their lines as before."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0009_billline_scan_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='bill',
            name='medical_hash',
            field=models.DecimalField(blank=True, decimal_places=0, max_digits=40, null=True),
        ),
        migrations.AddField(
            model_name='bill',
            name='medical_people',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
