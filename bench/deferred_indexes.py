"""Bulk loading on PostgreSQL without per-row index and foreign-key upkeep.

Keeping the trigram and full-text GIN indexes of subjects and message bodies up to date row by
row is what made a 1M-ticket seed take over an hour; building them once over the loaded table
is many times cheaper, and so is checking each foreign key with one join instead of one lookup
per row queued to the commit. ``deferred_indexes(models)`` drops the non-unique indexes and
the foreign keys of those tables for the duration of the ``with`` block and re-creates them
from their own definitions (``pg_get_indexdef``/``pg_get_constraintdef``) afterwards, even
when the block fails, so the schema ends exactly as the migrations left it. Unique indexes
(primary keys, ticket numbers, the audit chain's ``(chain, seq)``) stay: they check the load.

Outside a transaction the indexes are built by ``BUILDERS`` connections at once, the costliest
(trigram GIN over the biggest table) first: one GIN build uses one core, and the other core can
build the rest meanwhile. Inside a transaction (the tests) the dropped indexes are locked by it,
so its own connection builds them one after the other.

Other backends get a no-op.
"""

from __future__ import annotations

import queue
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

# For the session that builds the indexes: a GIN build spills to disk in pieces of this size.
BUILD_MEMORY = "1GB"
BUILDERS = 2


def _definitions(cursor, tables: list[str]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The foreign keys and the non-unique indexes of ``tables``, costliest index first."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid::regclass::text, conname",
        [tables],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE NOT indisunique AND indrelid = ANY(%s::regclass[])"
        " ORDER BY pg_get_indexdef(indexrelid) LIKE '%%gin_trgm_ops%%' DESC,"
        " pg_get_indexdef(indexrelid) LIKE '%%USING gin%%' DESC,"
        " pg_relation_size(indrelid) DESC, indexrelid::regclass::text",
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
        timings = _build(connection, [definition for _, definition in indexes])
        built = time.monotonic()
        with connection.cursor() as cursor:
            for table, name, definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        log(
            f"  {len(indexes)} indexes built in {built - started:.1f}s,"
            f" {len(foreign_keys)} foreign keys checked in {time.monotonic() - built:.1f}s;"
            " slowest: " + ", ".join(f"{name} {seconds:.1f}s" for seconds, name in sorted(timings)[-3:][::-1])
        )


def _build(connection, definitions: list[str]) -> list[tuple[float, str]]:
    """Runs the CREATE INDEX statements; returns each one's seconds and index name."""
    if connection.in_atomic_block:
        return _run_builds(connection, definitions)
    timings = []
    pending = queue.SimpleQueue()
    for definition in definitions:
        pending.put(definition)

    def builder():
        from django.db import connections

        own = connections[connection.alias]
        try:
            while True:
                try:
                    definition = pending.get_nowait()
                except queue.Empty:
                    return
                timings.extend(_run_builds(own, [definition]))
        finally:
            own.close()

    with ThreadPoolExecutor(max_workers=BUILDERS) as pool:
        for built in [pool.submit(builder) for _ in range(BUILDERS)]:
            built.result()
    return timings


def _run_builds(connection, definitions: list[str]) -> list[tuple[float, str]]:
    timings = []
    with connection.cursor() as cursor:
        cursor.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'")
        for definition in definitions:
            started = time.monotonic()
            cursor.execute(definition)
            timings.append((time.monotonic() - started, definition.split()[2]))
        cursor.execute("RESET maintenance_work_mem")
    return timings
