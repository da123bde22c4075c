"""Issue 12: the table of Django's database cache, where the password-reset limits are counted
when Redis is not configured (config/settings/base.py, CACHES). Made here, so that every
`migrate` (make run, the containers, the test database) has it; created whatever CACHES says,
so switching away from Redis later finds it in place."""

from django.conf import settings
from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # With a table name, createcachetable makes that table (if missing) whatever CACHES says.
    call_command(
        "createcachetable",
        settings.CACHE_TABLE,
        database=schema_editor.connection.alias,
        verbosity=0,
    )


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(settings.CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_one_person_per_display_name")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
