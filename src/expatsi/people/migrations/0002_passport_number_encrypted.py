"""Passport numbers encrypted at rest, step 1 of 3: room for the token and a column for the keyed
hash. The old unique constraint and index on the plaintext number go; step 3 puts them on the hash.
"""

import expatsi.access.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="passport",
            name="passport_unique_number",
        ),
        migrations.RemoveIndex(
            model_name="passport",
            name="people_pass_number_a6343d_idx",
        ),
        migrations.AddField(
            model_name="passport",
            name="number_hash",
            field=expatsi.access.fields.SearchHashField(default="", source="number"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="passport",
            name="number",
            field=expatsi.access.fields.EncryptedTextField(verbose_name="passport number"),
        ),
    ]
