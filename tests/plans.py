"""How PostgreSQL plans a query: as a prepared statement's generic plan (``DB_PREPARE``), the
plan it may keep for any parameters after a statement's fifth run, or as JSON nodes to walk."""

import json
import re

from django.db import connection, transaction


def generic_plan(sql: str, params) -> str:
    """EXPLAIN of ``sql`` (``%s`` placeholders) prepared and planned for any parameters."""
    numbered = iter(range(1, len(params) + 1))
    # Run without parameters, the statement keeps its "%%" as written: made "%" here.
    prepared = re.sub(r"%%|%s", lambda m: "%" if m.group() == "%%" else f"${next(numbered)}", sql)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE generic_probe AS {prepared}")
        try:
            args = ", ".join(["%s"] * len(params))
            explain = f"EXPLAIN EXECUTE generic_probe({args})" if params else "EXPLAIN EXECUTE generic_probe"
            cursor.execute(connection.ops.compose_sql(explain, params))
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE generic_probe")


def generic_plan_of(queryset) -> str:
    return generic_plan(*queryset.query.sql_with_params())


def json_plan(sql: str, params=(), *, analyze: bool = False) -> dict:
    """The top node of ``EXPLAIN (FORMAT JSON)`` of ``sql`` (run, with ``analyze``)."""
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) " + sql, params or None)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


def plan_nodes(node: dict):
    """``node`` and every node under it."""
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)
