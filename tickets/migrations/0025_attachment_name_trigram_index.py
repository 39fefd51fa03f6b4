"""A trigram index on attachment file names (PostgreSQL), for erasure's mentions pass.

Erasing a batch of people (the retention sweep's inactive requesters: 2,000 at a time) looked
for their names and addresses in every attachment's file name with regular expressions of a
hundred alternatives each, row by row: 9 s a batch at 100k tickets, most of the sweep. Through
this index (the registry's ``mentions_indexed``) only the names holding a needle's trigrams are
read, as for subjects and bodies (migration 0005). SQLite: nothing (it keeps scanning).
"""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # CONCURRENTLY: attachments can still be added while it builds. An interrupted build
    # leaves an invalid index behind; running the migration again drops it and builds anew.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('attachment_name_trgm')"
        )
        row = cursor.fetchone()
    if row is not None and row[0]:
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS attachment_name_trgm")
    schema_editor.execute(
        "CREATE INDEX CONCURRENTLY attachment_name_trgm ON tickets_attachment"
        " USING gin ((UPPER(original_name::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX CONCURRENTLY IF EXISTS attachment_name_trgm")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False
    dependencies = [("tickets", "0024_search_indexes_without_markers")]

    operations = [migrations.RunPython(create, drop)]
