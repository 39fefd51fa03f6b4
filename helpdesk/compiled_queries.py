"""Model queries whose SQL is put together once per process and then only run.

The ticket list asks the same question of the database on every view of a member's list (the
same visibility subqueries, filters, joins and order), and building and compiling that
queryset cost more Python than the database took to answer it. ``rows_of`` keeps, per *shape*
(everything the SQL text is made of), the compiled SQL with its parameters and the compiler's
description of the columns, and turns the rows into model instances as Django's ``ModelIterable``
does.

What changes from one run of a shape to the next (a page's cursor, a search's words) is passed
as ``values``: the queryset is built once with stand-in values of the same type, and the
parameters that hold them are replaced on every run (a datetime as the backend sends it: text on
SQLite). A stand-in the backend rewrote otherwise is not found, and such a shape is not kept: the
query then runs through the ORM every time.
Whatever changes with the data (tickets, restrictions, read markers) is read by the SQL itself,
never frozen into it.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.query import get_related_populators
from django.db.models.signals import post_init, pre_init

_KEPT = 512
_COMPILED: dict = {}
_MISSING = object()
# Stand-ins no real value takes: a time before any ticket, and integers near the top of a
# 32-bit column (below zero or above it, the ORM rules a lookup on a positive or 32-bit field
# out before it writes any SQL).
_STAND_IN_TIME = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_STAND_IN_INT = 2_147_480_017
_STAND_IN_TEXT = "\x1ekept-sql-stand-in-"
_BIGINT = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class _Compiled:
    compiler: object
    sql: str
    params: tuple
    slots: tuple  # (parameter index, name of the value it takes, its type or what adapts it)
    init_list: list
    model_fields: slice
    populators: list
    # The statement with its values written in (``with_values_written_in``), for a run planned
    # for its values when none of them changes between runs.
    written_in: tuple | None = None


_QUERYSETS: dict = {}


def queryset_of(shape, build):
    """``build()``, a queryset, built once per ``shape`` (everything it is built from) in this
    process, and handed out as a fresh copy each time: the kept one is never run, so no rows
    are ever kept with it. For a queryset that callers only narrow or compile further (a
    search's tickets), whose building cost more than the statements run from it."""
    kept = _QUERYSETS.get(shape)
    if kept is None:
        if len(_QUERYSETS) >= _KEPT:
            _QUERYSETS.clear()
        kept = _QUERYSETS[shape] = build()
    return kept.all()


def _keepable(value) -> bool:
    if isinstance(value, datetime | str):
        return True
    return isinstance(value, int) and not isinstance(value, bool) and _BIGINT[0] <= value <= _BIGINT[1]


def _stand_ins(values: dict) -> dict:
    stand_ins = {}
    for n, (name, value) in enumerate(sorted(values.items())):
        if isinstance(value, datetime):
            stand_ins[name] = _STAND_IN_TIME + timedelta(microseconds=n)
        elif isinstance(value, int) and not isinstance(value, bool):
            stand_ins[name] = _STAND_IN_INT + 7919 * n
        elif isinstance(value, str):
            # Text the backend sends as it is (a search's words, an id array's literal).
            stand_ins[name] = f"{_STAND_IN_TEXT}{n}"
        else:
            raise TypeError(f"{name}: only datetimes, integers and text can vary between runs")
    return stand_ins


def _compile(queryset, stand_ins: dict) -> _Compiled | None:
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    slots = []
    ops = connections[queryset.db].ops
    for index, param in enumerate(params):
        for name, stand_in in stand_ins.items():
            # The backend may have wrapped it (psycopg's Int4 for a 32-bit column): each run's
            # value is wrapped the same way.
            if isinstance(param, type(stand_in)) and param == stand_in:
                slots.append((index, name, type(param)))
            elif isinstance(stand_in, datetime) and param == ops.adapt_datetimefield_value(stand_in):
                # Sent as the backend writes a datetime (SQLite: text): each run's value too.
                slots.append((index, name, ops.adapt_datetimefield_value))
    if {name for _, name, _ in slots} != set(stand_ins) or queryset._known_related_objects:
        return None
    klass_info, select = compiler.klass_info, compiler.select
    if klass_info is None or queryset._fields is not None:  # values_list(): its rows are tuples
        return _Compiled(compiler, sql, tuple(params), tuple(slots), [], slice(0), [])
    fields = klass_info["select_fields"]
    model_fields = slice(fields[0], fields[-1] + 1)
    return _Compiled(
        compiler=compiler,
        sql=sql,
        params=tuple(params),
        slots=tuple(slots),
        init_list=[column[0].target.attname for column in select[model_fields]],
        model_fields=model_fields,
        populators=get_related_populators(klass_info, select, queryset.db),
    )


@contextlib.contextmanager
def custom_plans(using: str = "default", *, enabled: bool = True):
    """Statements run inside are planned for their own parameter values on every run, never
    from a prepared statement's generic plan (PostgreSQL with ``DB_PREPARE``; elsewhere, or
    with ``enabled`` false, nothing changes).

    After five runs of a prepared statement PostgreSQL may switch to one plan for any values,
    chosen from average estimates. For the ticket list that plan read every open ticket of the
    agent through the counts index and sorted them (24 ms at 100k tickets), where a plan for
    the agent's own values walks the seek index and stops after one page (0.8 ms of planning
    and 0.6 ms of reading)."""
    connection = connections[using]
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = getattr(raw, "prepare_threshold", None)
    if before is None:
        yield
        return
    raw.prepare_threshold = None  # psycopg: run unnamed statements, planned with their values
    try:
        yield
    finally:
        raw.prepare_threshold = before


# The settings ``with_settings`` sends with each statement, as SQL, while it is in effect.
_SENT_WITH: contextvars.ContextVar[str | None] = contextvars.ContextVar("sent_with", default=None)


def _settings_statement(settings: dict) -> tuple[str, list[str]]:
    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))
    return f"SELECT {calls}", [str(part) for name, value in settings.items() for part in (name, value)]


@contextlib.contextmanager
def with_settings(settings: dict, using: str = "default", *, one_message: bool = True):
    """Statements run inside are planned and run with these PostgreSQL settings (elsewhere
    nothing changes), and no statement after the block sees them: a pooled connection goes on
    to serve other requests.

    Outside a transaction, with ``one_message``, each statement this module runs inside is
    sent with the settings in one message, which PostgreSQL runs as one implicit transaction
    that the settings end with: a search's BEGIN, set_config and COMMIT were three of its six
    round trips. Its values are then written into its text (a message of two statements takes
    no parameters) and it is planned for them, as ``custom_plans`` does. Any other statement
    inside (the ORM's, for a shape that cannot be kept) runs in a savepoint that sets them.
    Inside a transaction, or without ``one_message``, the block runs in a savepoint that sets
    them once, and they last until that transaction ends."""
    connection = connections[using]
    if not settings or connection.vendor != "postgresql":
        yield
        return
    statement = connection.ops.compose_sql(*_settings_statement(settings))
    if not one_message or connection.in_atomic_block:
        with transaction.atomic(using), connection.cursor() as cursor:
            cursor.execute(statement)
            yield
        return
    token = _SENT_WITH.set(statement)
    try:
        yield
    finally:
        _SENT_WITH.reset(token)


@contextlib.contextmanager
def _settings_for_the_orm(using: str):
    """Inside ``with_settings``' one-message mode, a statement the ORM runs gets the settings
    from a savepoint of its own."""
    sent_with = _SENT_WITH.get()
    if sent_with is None:
        yield
        return
    with transaction.atomic(using), connections[using].cursor() as cursor:
        cursor.execute(sent_with)
        yield


def with_values_written_in(sql: str, params, using: str = "default") -> tuple[str, tuple | None]:
    """``(sql, params)`` as one statement with its values written in, on PostgreSQL (elsewhere
    as it is): for a kept statement that takes no value from run to run.

    A prepared statement with parameters is planned for average values once PostgreSQL settles
    on a generic plan, so a statement whose best plan depends on its values was planned on every
    run instead (``custom_plans``: 0.6-1.4 ms of a list page). With the values in its text it has
    no parameter: psycopg prepares it like any other, and the one plan kept is made for them."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not params:
        return sql, params
    # psycopg's own client-side quoting (Django's compose_sql), never string formatting here.
    return connection.ops.compose_sql(sql, params), None


def rows_of(shape, build, values: dict | None = None, *, custom_plan: bool = False) -> list:
    """The model instances of ``build(**values)``, a model queryset (``select_related`` and
    annotations welcome), its SQL compiled once per ``shape``.

    ``shape`` must name everything ``build`` puts into the SQL except ``values`` (datetimes,
    integers and text that change between runs, e.g. a page's cursor). ``custom_plan``: planned for its
    values, for a query whose best plan depends on them: on every run (``custom_plans``), or once
    with the values written in when no value changes between runs (``with_values_written_in``)."""
    values = values or {}
    compiled, compiler, fetched = _run(shape, build, values, custom_plan)
    if compiled is None:
        queryset = build(**values)
        with _settings_for_the_orm(queryset.db):
            return list(queryset)
    return list(_instances(compiled, compiler, fetched))


def tuples_of(shape, build, values: dict | None = None) -> list[tuple]:
    """The rows of ``build(**values)``, a ``values_list()`` queryset (not ``flat``), as tuples;
    its SQL compiled once per ``shape``, as ``rows_of``."""
    values = values or {}
    compiled, compiler, fetched = _run(shape, build, values, False)
    if compiled is None:
        rows = build(**values)
        with _settings_for_the_orm(rows.db):
            return [tuple(row) for row in rows]
    return [tuple(row) for row in compiler.results_iter([fetched])]


def _run(shape, build, values: dict, custom_plan: bool):
    """(kept compilation, its compiler for this run, fetched rows), or (None, None, None) when
    the shape cannot be kept and the ORM must run it."""
    statement = _statement(shape, build, values, custom_plan)
    if statement is None:
        return None, None, None
    compiled, sql, params, custom_plan = statement
    # A copy per run: the kept compiler came from another request, perhaps another thread's
    # connection.
    compiler = copy.copy(compiled.compiler)
    compiler.connection = connections[compiler.using]
    return compiled, compiler, _fetched(compiler.connection, sql, params, custom_plan)


def _statement(shape, build, values: dict, custom_plan: bool):
    """(kept compilation, SQL, parameters, whether to plan it for its values) of this run, or
    None when the shape cannot be kept."""
    if not all(_keepable(value) for value in values.values()):
        # None, or out of any column's range: the ORM knows what such a lookup means ("IS NULL",
        # often "no row"), which the kept SQL would not.
        return None
    key = (shape, tuple(sorted(values)))
    compiled = _COMPILED.get(key, _MISSING)
    if compiled is _MISSING:
        stand_ins = _stand_ins(values)
        compiled = _compile(build(**stand_ins), stand_ins)
        if len(_COMPILED) >= _KEPT:
            _COMPILED.clear()
        # A shape that cannot be kept is remembered too, so it is not tried on every run.
        _COMPILED[key] = compiled
    if compiled is None:
        return None
    sql, params = compiled.sql, list(compiled.params)
    for index, name, kind in compiled.slots:
        value = values[name]
        params[index] = value if isinstance(kind, type) and isinstance(value, kind) else kind(value)
    if custom_plan and not compiled.slots:
        if compiled.written_in is None:
            written_in = with_values_written_in(compiled.sql, compiled.params, compiled.compiler.using)
            compiled = _COMPILED[key] = dataclasses.replace(compiled, written_in=written_in)
        (sql, params), custom_plan = compiled.written_in, False
    return compiled, sql, params, custom_plan


def _fetched(connection, sql: str, params, custom_plan: bool) -> list[tuple]:
    sent_with = _SENT_WITH.get()  # with_settings' one-message mode
    if sent_with is not None and connection.in_atomic_block:
        # A transaction opened inside the block: the settings hold for it from here on.
        with connection.cursor() as cursor:
            cursor.execute(sent_with)
        sent_with = None
    if sent_with is not None:
        # The settings and the statement in one message: the simple query protocol, so no
        # parameters, and never prepared (custom_plans).
        # (With no parameters at all, the text is already written in: with_values_written_in.)
        written_in = sql if params is None else connection.ops.compose_sql(sql, params)
        sql, params, custom_plan = f"{sent_with}; {written_in}", None, True
    with custom_plans(connection.alias, enabled=custom_plan), connection.cursor() as cursor:
        cursor.execute(sql, params)
        if sent_with is not None and not cursor.nextset():
            raise RuntimeError("a statement sent with its settings returned no result")
        return cursor.fetchall()


def statement_of(shape, build, values: dict | None = None) -> tuple[str, list] | None:
    """The SQL and parameters of this run of ``build(**values)``, compiled once per ``shape``
    (as ``tuples_of``), to be put together with others into one statement (``fetch``); None when
    the shape cannot be kept."""
    statement = _statement(shape, build, values or {}, False)
    return None if statement is None else (statement[1], statement[2])


def fetch(sql: str, params, using: str = "default") -> list[tuple]:
    """The raw rows of a statement put together from ``statement_of`` parts, run as kept
    statements are (``with_settings``)."""
    return _fetched(connections[using], sql, params, False)


def _instances(compiled: _Compiled, compiler, fetched):
    """What ``ModelIterable`` yields for these rows (no known related objects)."""
    model = compiler.klass_info["model"]
    db = compiler.using
    annotations = compiler.annotation_col_map
    # Read once per query: whether each model's instances need __init__ (see _maker).
    makers = {}

    def make(model, *args):
        maker = makers.get(model)
        if maker is None:
            maker = makers[model] = _maker(model)
        return maker(model, *args)

    for row in compiler.results_iter([fetched]):
        obj = make(model, db, compiled.init_list, row[compiled.model_fields])
        for populator in compiled.populators:
            _populate(populator, row, obj, make)
        for name, position in (annotations or {}).items():
            setattr(obj, name, row[position])
        yield obj


def _made_from_columns(model, db, field_names, values):
    """What ``model.from_db`` returns, without ``Model.__init__``: its thirty keyword-free
    assignments and two signals were most of the cost of a list page's 150 instances. A field
    left out (``only()``) stays out of ``__dict__``: deferred, as ``from_db`` leaves it."""
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding = False
    state.db = db
    obj.__dict__.update(zip(field_names, values, strict=True))
    return obj


def _from_db(model, db, field_names, values):
    return model.from_db(db, field_names, values)


def _maker(model):
    """How to make ``model``'s instances: from the columns, unless something must see them
    made (an ``__init__`` of its own, ``pre_init``/``post_init`` receivers)."""
    if model.__init__ is Model.__init__ and not (
        pre_init.has_listeners(model) or post_init.has_listeners(model)
    ):
        return _made_from_columns
    return _from_db


def _populate(populator, row, from_obj, make):
    """``RelatedPopulator.populate`` (a ``select_related`` object of the row), its instances
    made as ``_instances`` makes them."""
    if populator.reorder_for_init:
        obj_data = populator.reorder_for_init(row)
    else:
        obj_data = row[populator.cols_start : populator.cols_end]
    if obj_data[populator.pk_idx] is None:
        obj = None
    else:
        obj = make(populator.model_cls, populator.db, populator.init_list, obj_data)
        for related in populator.related_populators:
            _populate(related, row, obj, make)
    populator.local_setter(from_obj, obj)
    if obj is not None:
        populator.remote_setter(obj, from_obj)
