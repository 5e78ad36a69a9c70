"""Passport numbers encrypted at rest, step 3 of 3: one passport per (country, number) again,
now on the keyed hash, and an index for lookups by number alone (search, imports)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_encrypt_passport_numbers"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="passport",
            constraint=models.UniqueConstraint(
                fields=("country", "number_hash"), name="passport_unique_number"
            ),
        ),
        migrations.AddIndex(
            model_name="passport",
            index=models.Index(fields=["number_hash"], name="passport_number_hash"),
        ),
    ]
