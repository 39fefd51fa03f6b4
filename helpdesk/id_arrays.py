"""``column IN ids`` for long id lists: one parameter on PostgreSQL, whatever their number."""

from django.db.models import BooleanField, F, Func


def id_array_literal(ids) -> str:
    """``ids`` as PostgreSQL's text form of an array ('{1,2,3}')."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


class InIdArray(Func):
    """``column = ANY(%s::bigint[])`` on PostgreSQL, the array given as its text literal
    (``id_array_literal``): one text parameter, which a query kept compiled
    (helpdesk.compiled_queries) takes anew on each run, whatever the number of ids."""

    output_field = BooleanField()

    def __init__(self, column: str, literal: str):
        self.array = literal
        super().__init__(F(column))

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError("InIdArray is PostgreSQL's: use IdsIn elsewhere")

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} = ANY(%s::bigint[])", [*params, self.array]


class IdsIn(InIdArray):
    """``column IN ids`` as a filter: on PostgreSQL ``InIdArray``, one parameter however many
    ids. A retention batch used to send IN lists of 500 to 2,500 placeholders per statement;
    building and parsing them (psycopg splits the query text client-side) cost more than the
    statements took to run. The array goes as one text literal, not a list: psycopg's
    client-side binding dumps a list element by element in Python. Elsewhere an IN list."""

    def __init__(self, column: str, ids):
        self.ids = [int(i) for i in ids]
        super().__init__(column, id_array_literal(self.ids))

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if not self.ids:
            return "1 = 0", []
        return f"{column} IN ({', '.join(['%s'] * len(self.ids))})", [*params, *self.ids]
