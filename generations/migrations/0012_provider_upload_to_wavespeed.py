from django.db import migrations


class Migration(migrations.Migration):
    """ProviderUpload now belongs to the wavespeed app, which keeps its table: only the state
    changes here."""

    dependencies = [
        ("generations", "0011_image_moves"),
        ("wavespeed", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ProviderUpload")],
            database_operations=[],
        ),
    ]
