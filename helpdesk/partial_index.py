"""Conditions that repeat a partial index's predicate, with its text written into the SQL.

A partial index (``WHERE column <> 'text'``) is only used when the query's own conditions prove
its predicate. With ``DB_PREPARE`` psycopg prepares a statement on its fifth run, and PostgreSQL
may then plan it once for any parameters: ``column <> %s`` proves nothing in such a generic
plan, and the query reads the whole table instead (the audit log on every ticket view, every
message body on a search). The text must be in the SQL itself, as a literal.
"""

from django.db.models import BooleanField, F, Func


def sql_literal(text: str) -> str:
    """``text`` as an SQL string literal. For our own constants (a marker, an empty string),
    never for what a person typed."""
    return "'" + text.replace("'", "''") + "'"


class DiffersFrom(Func):
    """``column <> 'text'`` as a filter, the text a literal (see the module's docstring)."""

    output_field = BooleanField()

    def __init__(self, column: str, text: str):
        self.text = text
        super().__init__(F(column))

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} <> {sql_literal(self.text)}", params
