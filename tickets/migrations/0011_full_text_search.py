"""Full-text indexes for the ticket search (tickets/search.py).

PostgreSQL: GIN indexes on ``to_tsvector('simple', ...)`` of subjects and message bodies, the
exact expressions the search queries, so PostgreSQL keeps them current by itself.

SQLite: FTS5 tables over the same columns ("external content": the text stays in the tickets
tables, the FTS table holds only the index), kept in step by triggers on insert, update and
delete, and their vocabularies (``fts5vocab``) for close spellings. Filled from existing rows.
"""

from django.db import migrations

PG_INDEXES = [
    ("ticket_subject_fts", "tickets_ticket", "subject"),
    ("message_body_fts", "tickets_message", "body"),
]
SQLITE_TABLES = [
    ("tickets_ticket_fts", "tickets_ticket", "subject"),
    ("tickets_message_fts", "tickets_message", "body"),
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, table, column in PG_INDEXES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                f"USING gin (to_tsvector('simple'::regconfig, {column}))"
            )
    elif vendor == "sqlite":
        for fts, table, column in SQLITE_TABLES:
            schema_editor.execute(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', content_rowid='id',"
                " tokenize='unicode61 remove_diacritics 2')"
            )
            schema_editor.execute(f"CREATE VIRTUAL TABLE {fts}_vocab USING fts5vocab({fts}, 'row')")
            schema_editor.execute(
                f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "
                f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
                f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END"
            )
            schema_editor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, _, _ in PG_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    elif vendor == "sqlite":
        for fts, _, _ in SQLITE_TABLES:
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}_vocab")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0010_mailbox")]

    operations = [migrations.RunPython(create, drop)]
