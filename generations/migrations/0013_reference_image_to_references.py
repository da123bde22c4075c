import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """ReferenceImage now belongs to the references app, which keeps its table: only the state
    changes here."""

    dependencies = [
        ("generations", "0012_provider_upload_to_wavespeed"),
        ("references", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="generationreference",
                    name="reference",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="references.referenceimage",
                    ),
                ),
                migrations.DeleteModel(name="ReferenceImage"),
            ],
            database_operations=[],
        ),
    ]
