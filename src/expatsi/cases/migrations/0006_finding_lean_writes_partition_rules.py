"""A compliance scan's first run writes every finding at once (~156,000 for 1,000,000 employees):
fewer indexes and no constraint trigger per new finding. The key keeps its unique index but not a
second (LIKE) one; the employer's own index goes (the (employer, rule) index serves its look-ups);
the case and the deciding user are indexed only where set; the scans that first and last found a
finding are neither indexed nor constrained, and neither are its employer and person (written
only by the scan, from rows it has just read; Django still protects them on delete). And a queued
scan's partitions name the rules they check (one per rule and employer range)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_scan_partitions'),
        ('employers', '0004_list_indexes'),
        ('people', '0006_picker_search'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='scanpartition',
            name='rules',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='finding',
            name='case',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='findings', to='cases.case'),
        ),
        migrations.AlterField(
            model_name='finding',
            name='decided_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='finding',
            name='employer',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='findings', to='employers.employer'),
        ),
        migrations.AlterField(
            model_name='finding',
            name='first_scan',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cases.scan'),
        ),
        migrations.AlterField(
            model_name='finding',
            name='key',
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='finding',
            name='last_scan',
            field=models.ForeignKey(db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='cases.scan'),
        ),
        migrations.AlterField(
            model_name='finding',
            name='person',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='findings', to='people.person'),
        ),
        migrations.AddIndex(
            model_name='finding',
            index=models.Index(condition=models.Q(('case__isnull', False)), fields=['case'], name='finding_case_set'),
        ),
        migrations.AddIndex(
            model_name='finding',
            index=models.Index(condition=models.Q(('decided_by__isnull', False)), fields=['decided_by'], name='finding_decided_by_set'),
        ),
        migrations.AddConstraint(
            model_name='finding',
            constraint=models.UniqueConstraint(fields=('key',), name='cases_finding_key_unique'),
        ),
    ]
