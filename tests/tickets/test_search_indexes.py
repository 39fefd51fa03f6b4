"""The search indexes leave out the retention markers (migration 0024): an anonymized ticket is
never a search hit on either database, and on PostgreSQL the search and erasure's mentions
pass still read the (now partial) indexes."""

import importlib
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Upper
from django.test.utils import CaptureQueriesContext

from privacy.account.anonymizers import _indexed_candidates
from tests.plans import generic_plan
from tests.tickets.ticket_helpers import new_ticket, reply, url
from tickets import search
from tickets.anonymize import tickets_anonymize
from tickets.markers import RETENTION_MESSAGE, RETENTION_SUBJECT
from tickets.models import Message, Status, Ticket

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="partial GIN indexes are PostgreSQL's; CI runs this on PostgreSQL",
)
INDEXES = {
    "ticket_subject_fts": RETENTION_SUBJECT,
    "ticket_subject_trgm": RETENTION_SUBJECT,
    "message_body_fts": RETENTION_MESSAGE,
    "message_body_trgm": RETENTION_MESSAGE,
}


@pytest.fixture
def agent_client(agent, login):
    return login(agent)


def found(client, workspace, q):
    return [t.number for t in client.get(url(workspace), {"q": q}).context["tickets"]]


def _anonymized(workspace, queue, requester, agent):
    ticket = new_ticket(requester, queue, subject="Removed the retention policy page")
    reply(ticket, agent, body="The workspace's retention policy removed it")
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    tickets_anonymize(workspace_id=workspace.pk, ticket_ids=[ticket.pk])
    return ticket


def test_an_anonymized_ticket_is_no_search_hit_for_its_marker_words(
    workspace, queue, requester, agent, agent_client
):
    _anonymized(workspace, queue, requester, agent)
    kept = new_ticket(requester, queue, subject="Policy question")
    reply(kept, agent, body="Which retention policy removed my files?")
    for q in ("removed", "retention policy", "workspace", "removd"):
        assert found(agent_client, workspace, q) in ([kept.number], []), q
    assert found(agent_client, workspace, "retention policy") == [kept.number]


def test_the_migration_writes_the_markers_tickets_uses():
    migration = importlib.import_module("tickets.migrations.0024_search_indexes_without_markers")
    assert migration.RETENTION_MESSAGE == RETENTION_MESSAGE
    assert migration.RETENTION_SUBJECT == RETENTION_SUBJECT


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@postgresql_only
def test_each_search_index_leaves_out_its_marker():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indexrelid::regclass::text = ANY(%s)",
            [list(INDEXES)],
        )
        definitions = dict(cursor.fetchall())
    assert set(definitions) == set(INDEXES)
    for name, marker in INDEXES.items():
        assert f"<> {_quoted(marker)}::text" in definitions[name], name


@contextmanager
def _only_index_of_its_kind(name):
    """Inside: the other search index of ``name``'s table (same prefix) is gone (a savepoint rolled back
    after). The test then asks whether the query *can* be answered by ``name``, whatever the
    planner makes of the index sizes: rows earlier tests inserted and rolled back stay in a
    GIN index's pages until a vacuum, and with enough of them the planner chose to read the
    sibling full-text index whole (its predicate is the same) and recheck every row."""
    siblings = [other for other in INDEXES if other != name and other.startswith(name.split("_")[0] + "_")]
    with transaction.atomic(), connection.cursor() as cursor:
        for other in siblings:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(other)}")
        yield
        transaction.set_rollback(True)


def _plans(queries, needle) -> str:
    """The plans of the captured queries holding ``needle``, as the planner makes them when it
    may read a table whole only if no index serves the query (a tiny test table is otherwise
    read whole whatever the indexes)."""
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        for query in queries.captured_queries:
            if needle in query["sql"] and "set_config" not in query["sql"]:
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n".join(plans)


@postgresql_only
def test_the_search_conditions_let_postgresql_read_the_partial_indexes():
    """The queries the search builds from ``_searchable`` imply each index's condition: with a
    whole-table read ruled out, each is answered by its GIN index (without the condition the
    planner could not use a partial index and would read the table anyway)."""
    subjects, bodies = search._searchable(Ticket.objects.all(), Message.objects.all())
    query = search._PgQuery(Value("kerberos:*"))
    similar = search._PgSimilarTo(Upper(Value("kerberoz")), search._text("subject"))
    cases = {
        "ticket_subject_fts": subjects.filter(search._PgMatches(search._PgVector(F("subject")), query)),
        "message_body_fts": bodies.filter(search._PgMatches(search._PgVector(F("body")), query)),
        "ticket_subject_trgm": subjects.filter(similar),
        "message_body_trgm": bodies.filter(
            search._PgSimilarTo(Upper(Value("kerberoz")), search._text("body"))
        ),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for name, rows in cases.items():
            sql, params = rows.values("pk").query.sql_with_params()
            with _only_index_of_its_kind(name):
                cursor.execute("EXPLAIN " + sql, params)
                assert name in "\n".join(row[0] for row in cursor.fetchall()), name
                # Also as a prepared statement planned for any parameters (DB_PREPARE): the
                # condition is written into the SQL (helpdesk.partial_index), not a parameter.
                assert name in generic_plan(sql, params), f"{name} (generic plan)"


@postgresql_only
def test_erasure_finds_mentions_through_the_partial_indexes(workspace, queue, requester, agent):
    ticket = new_ticket(requester, queue, subject="Ask Zebulon Quist about it")
    reply(ticket, agent, body="Zebulon Quist will call back")
    statements = []

    def keep(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(keep):
        assert _indexed_candidates(Ticket, "subject", ["Zebulon Quist"], RETENTION_SUBJECT) == [ticket.pk]
        message_ids = _indexed_candidates(Message, "body", ["Zebulon Quist"], RETENTION_MESSAGE)
    assert message_ids == list(Message.objects.filter(body__contains="Zebulon").values_list("pk", flat=True))
    with _only_index_of_its_kind("ticket_subject_trgm"), _only_index_of_its_kind("message_body_trgm"):
        plans = _plans(queries, "~*")
        assert "ticket_subject_trgm" in plans and "message_body_trgm" in plans
        # Also planned for any parameters, as a prepared statement may be (DB_PREPARE).
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            generic = "\n".join(generic_plan(sql, params) for sql, params in statements if "~*" in sql)
        assert "ticket_subject_trgm" in generic and "message_body_trgm" in generic
