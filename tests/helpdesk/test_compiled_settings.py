"""``compiled_queries.with_settings``: planner settings for the statements run inside, and for
no statement after them, whether or not a transaction is open."""

import pytest
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext

from helpdesk import compiled_queries
from workspaces.models import Workspace

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="planner settings are PostgreSQL's; CI runs this on PostgreSQL",
)

SETTINGS = {"enable_seqscan": "off", "work_mem": "7MB"}


def _settings_seen(shape, slug):
    """(enable_seqscan, work_mem) as a statement kept compiled sees them."""
    return compiled_queries.tuples_of(
        shape,
        lambda slug: (
            Workspace.objects.filter(slug=slug)
            .annotate(
                seqscan=RawSQL("current_setting('enable_seqscan')", []),
                memory=RawSQL("current_setting('work_mem')", []),
            )
            .values_list("seqscan", "memory")
        ),
        {"slug": slug},
    )


def _connection_settings():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('work_mem')")
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_each_statement_carries_the_settings_and_they_end_with_it(workspace):
    before = _connection_settings()
    with CaptureQueriesContext(connection) as captured, compiled_queries.with_settings(SETTINGS):
        kept = _settings_seen(("settings test", "kept"), workspace.slug)
        between = _connection_settings()
    assert kept == [("off", "7MB")]
    # The settings and the statement were one message.
    (sent,) = [q["sql"] for q in captured.captured_queries if "workspaces_workspace" in q["sql"]]
    assert sent.startswith("SELECT set_config(") and "'7MB'" in sent
    # A statement this module does not run does not see them, nor does any after the block.
    assert between == before
    assert _connection_settings() == before


@pytest.mark.django_db(transaction=True)
def test_a_statement_the_orm_runs_inside_gets_the_settings_from_a_savepoint_of_its_own(workspace):
    with compiled_queries.with_settings(SETTINGS):
        seen = compiled_queries.tuples_of(
            ("settings test", "orm, with a row"),
            lambda number: (
                Workspace.objects.filter(pk=workspace.pk, id__gte=number)
                .annotate(seqscan=RawSQL("current_setting('enable_seqscan')", []))
                .values_list("seqscan")
            ),
            # Past any column's range: the ORM runs it (compiled_queries._keepable).
            {"number": -(2**70)},
        )
    assert seen == [("off",)]
    assert _connection_settings()[0] == "on"


@pytest.mark.django_db
def test_inside_a_transaction_the_settings_hold_for_the_block(workspace):
    with transaction.atomic():
        with compiled_queries.with_settings(SETTINGS):
            assert _settings_seen(("settings test", "in a transaction"), workspace.slug) == [("off", "7MB")]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_opened_inside_the_block_gets_the_settings_for_its_statements(workspace):
    with compiled_queries.with_settings(SETTINGS), transaction.atomic():
        seen = _settings_seen(("settings test", "opened inside"), workspace.slug)
    assert seen == [("off", "7MB")]
    assert _connection_settings()[0] == "on"
