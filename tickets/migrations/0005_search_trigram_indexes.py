"""Trigram indexes for the ticket search and for finding a person's name or email in message
text (account erasure), on PostgreSQL only.

Django's ``icontains`` on PostgreSQL compares ``UPPER(column::text) LIKE UPPER(%s)``; a GIN
trigram index on exactly that expression serves it, so a search no longer reads every message
of the workspace. SQLite has no such index and keeps scanning (it is the small embedded default).
"""

from django.db import migrations

INDEXES = [
    ("ticket_subject_trgm", "tickets_ticket", "subject"),
    ("message_body_trgm", "tickets_message", "body"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_retention_anonymized")]

    operations = [migrations.RunPython(create, drop)]
