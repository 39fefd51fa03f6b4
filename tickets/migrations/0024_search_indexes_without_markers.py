"""The search indexes of subjects and message bodies leave out the retention markers (PostgreSQL).

Every ticket the retention sweep anonymizes got its subject and bodies re-indexed as the marker
text: the same few words and trigrams added to four GIN indexes per row, a third of the time of
anonymizing a batch, and pending-list entries every later GIN scan (search, erasure's mentions
pass) had to read. A marker names nobody and is never a search hit, so the indexes are now
partial (``WHERE column <> marker``); the queries that use them carry the same condition
(tickets/search.py, the registry's ``mentions_index_skips``).

The markers are written out here (a migration is frozen); they equal tickets/markers.py, and
tests/tickets/test_search_indexes.py checks that they still do.

SQLite: nothing (its FTS5 tables keep every row; the queries' condition filters the markers).
"""

from django.db import migrations

RETENTION_MESSAGE = "[Removed by the workspace's retention policy.]"
RETENTION_SUBJECT = "[Removed by retention policy]"

# (name, table, indexed expression, column, marker)
INDEXES = [
    (
        "ticket_subject_trgm",
        "tickets_ticket",
        "(UPPER(subject::text)) gin_trgm_ops",
        "subject",
        RETENTION_SUBJECT,
    ),
    ("message_body_trgm", "tickets_message", "(UPPER(body::text)) gin_trgm_ops", "body", RETENTION_MESSAGE),
    (
        "ticket_subject_fts",
        "tickets_ticket",
        "to_tsvector('simple'::regconfig, subject)",
        "subject",
        RETENTION_SUBJECT,
    ),
    (
        "message_body_fts",
        "tickets_message",
        "to_tsvector('simple'::regconfig, body)",
        "body",
        RETENTION_MESSAGE,
    ),
]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rebuild(schema_editor, *, partial: bool) -> None:
    """Each index built anew beside the old one (CONCURRENTLY: tickets and messages can still
    be written meanwhile; at a million tickets the builds take minutes), then swapped in. Run
    again after an interruption, it starts each index over: a half-built one is dropped."""
    if schema_editor.connection.vendor != "postgresql":
        return
    # A GIN build is several times faster in memory; the session's setting is put back below.
    schema_editor.execute("SET maintenance_work_mem = '256MB'")
    for name, table, expression, column, marker in INDEXES:
        where = f" WHERE {column}::text <> {_quoted(marker)}::text" if partial else ""
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}_next")
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY {name}_next ON {table} USING gin ({expression}){where}")
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"ALTER INDEX {name}_next RENAME TO {name}")
    schema_editor.execute("RESET maintenance_work_mem")
    # The search reads the full-text index's statistics (tickets/search.py, _message_share);
    # a rebuilt index has none until the next ANALYZE.
    schema_editor.execute("ANALYZE tickets_ticket, tickets_message")


def partial(apps, schema_editor):
    _rebuild(schema_editor, partial=True)


def whole(apps, schema_editor):
    _rebuild(schema_editor, partial=False)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False
    dependencies = [("tickets", "0023_ticket_count_indexes")]

    operations = [migrations.RunPython(partial, whole)]
