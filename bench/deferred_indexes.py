"""Bulk loading on PostgreSQL without per-row index and foreign-key upkeep.

Keeping the trigram and full-text GIN indexes of subjects and message bodies up to date row by
row is what made a 1M-ticket seed take over an hour; building them once over the loaded table
is many times cheaper, and so is checking each foreign key with one join instead of one lookup
per row queued to the commit. ``deferred_indexes(models)`` drops the non-unique indexes and
the foreign keys of those tables for the duration of the ``with`` block and re-creates them
from their own definitions (``pg_get_indexdef``/``pg_get_constraintdef``) afterwards, even
when the block fails, so the schema ends exactly as the migrations left it. Unique indexes
(primary keys, ticket numbers, the audit chain's ``(chain, seq)``) stay: they check the load.

Other backends get a no-op.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

# For the session that builds the indexes: a GIN build spills to disk in pieces of this size.
BUILD_MEMORY = "1GB"


def _definitions(cursor, tables: list[str]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid::regclass::text, conname",
        [tables],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE NOT indisunique AND indrelid = ANY(%s::regclass[]) ORDER BY indexrelid::regclass::text",
        [tables],
    )
    return foreign_keys, cursor.fetchall()


@contextmanager
def deferred_indexes(connection, models, *, log=print):
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in models]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        foreign_keys, indexes = _definitions(cursor, tables)
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    try:
        yield
    finally:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'")
            for _, definition in indexes:
                cursor.execute(definition)
            built = time.monotonic()
            for table, name, definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
            cursor.execute("RESET maintenance_work_mem")
        log(
            f"  {len(indexes)} indexes built in {built - started:.1f}s,"
            f" {len(foreign_keys)} foreign keys checked in {time.monotonic() - built:.1f}s"
        )
