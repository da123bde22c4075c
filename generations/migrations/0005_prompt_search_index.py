"""A GIN index for full-text search of prompts, on PostgreSQL only (SQLite searches otherwise).

The expression is exactly what `SearchVector("generation__prompt", config="english")` writes
(Django wraps each column in COALESCE), so the planner can match the gallery's search to it.
"""

from django.db import migrations

INDEX = "generation_prompt_search"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON generations_generation "
    "USING GIN (to_tsvector('english'::regconfig, COALESCE(prompt, '')))"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("generations", "0004_gallery_references_enhancer"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
