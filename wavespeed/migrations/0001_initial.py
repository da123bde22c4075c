from django.db import migrations, models


class Migration(migrations.Migration):
    """ProviderUpload moves here from generations with its table (generations 0012 lets go of
    it): only the state changes, no row is touched."""

    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ProviderUpload",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("sha256", models.CharField(max_length=64, unique=True)),
                        ("download_url", models.URLField(max_length=1000)),
                        ("bytes", models.PositiveBigIntegerField()),
                        ("uploaded_at", models.DateTimeField()),
                    ],
                    options={"db_table": "generations_providerupload"},
                ),
            ],
            database_operations=[],
        ),
    ]
