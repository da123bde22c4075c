"""The database refuses to change the trail, whatever the application does.

SQLite and PostgreSQL: any UPDATE of an entry fails. PostgreSQL also refuses DELETE (TRUNCATE,
for whoever owns the database, stays possible). SQLite keeps DELETE at the database level:
Django's test runner empties tables with DELETE there; the model and the admin still refuse it.
"""

from django.db import migrations

SQLITE = [
    """
    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit entries are never changed'); END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS audit_entry_no_update"]

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION audit_entry_refuse() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit entries are never changed or deleted';
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
    "DROP FUNCTION IF EXISTS audit_entry_refuse()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE}),
        ),
    ]
