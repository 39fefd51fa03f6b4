"""The bench seed's rows at a small size: the same counts and distributions on PostgreSQL (COPY,
indexes rebuilt after the load) as on SQLite (bulk_create), the report figures the backfill
would compute, and the schema left exactly as the migrations made it."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum

from bench.deferred_indexes import deferred_indexes
from bench.seed import BACKLOG_COLUMNS, METRICS_COLUMNS, SEARCH_TERM, _bulk_models, seed_bench
from privacy.audit.models import AuditChainHead, AuditEvent
from tickets.models import (
    Attachment,
    BacklogCount,
    Message,
    SavedView,
    Tag,
    Ticket,
    TicketMetrics,
    TicketParticipant,
)
from tickets.reports import backfill
from workspaces.models import Membership, QueueUserObjectPermission, User

SIZE = 200
# What the seed made at this size before it loaded through COPY with deferred indexes (and what
# it still makes on SQLite): the loader may get faster, the data must stay the same. (Changed
# once on purpose, alike on every backend: the export subject's tickets moved off the 50-message
# threads, so the exported requester holds the same data at every size.)
COUNTS = {
    "tickets": 220,
    "messages": 780,
    "attachments": 87,
    "participants": 11,
    "audit_events": 220,
    "users": 58,
    "memberships": 58,
    "queue_grants": 22,
    "ticket_metrics": 220,
    "backlog_rows": 29,
    "tags": 0,
    "saved_views": 0,
}
STATUSES = {"closed": 102, "new": 26, "open": 33, "pending": 20, "solved": 39}
KINDS = {"note": 190, "reply": 590}


def quiet(*args):
    pass


def counts() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "participants": TicketParticipant.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "queue_grants": QueueUserObjectPermission.objects.count(),
        "ticket_metrics": TicketMetrics.objects.count(),
        "backlog_rows": BacklogCount.objects.count(),
        "tags": Tag.objects.count(),
        "saved_views": SavedView.objects.count(),
    }


def report_figures() -> tuple[set, set]:
    # Without the ids, which the backfill allocates afresh.
    metrics = set(TicketMetrics.objects.values_list(*METRICS_COLUMNS[1:]))
    backlog = set(BacklogCount.objects.values_list(*BACKLOG_COLUMNS[1:]))
    return metrics, backlog


def schema() -> list[str]:
    """The indexes, constraints and triggers of the tables the seed loads in bulk (PostgreSQL)."""
    tables = [model._meta.db_table for model in _bulk_models()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
            " UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])"
            " UNION ALL SELECT tgname FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[])",
            [tables, tables, tables],
        )
        return sorted(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_the_seed_makes_the_same_rows_on_every_backend():
    seed_bench(SIZE, log=quiet)

    assert counts() == COUNTS
    statuses = Ticket.objects.values("status").annotate(n=Count("id")).order_by("status")
    assert {row["status"]: row["n"] for row in statuses} == STATUSES
    kinds = Message.objects.values("kind").annotate(n=Count("id")).order_by("kind")
    assert {row["kind"]: row["n"] for row in kinds} == KINDS
    assert Ticket.objects.filter(subject__contains=SEARCH_TERM).count() == 1
    assert Message.objects.filter(body__contains=SEARCH_TERM).count() == 16
    assert TicketMetrics.objects.filter(first_response_at__isnull=False).count() == 142
    assert TicketMetrics.objects.filter(solved_at__isnull=False).count() == 141
    assert BacklogCount.objects.aggregate(open=Sum("open"))["open"] == 79
    # The audit chain the seed wrote directly verifies, and its heads point at its ends.
    assert {head.last_seq for head in AuditChainHead.objects.all()} == {SIZE, 20}
    call_command("verify_audit_log", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.django_db
def test_the_seeds_report_figures_are_what_the_backfill_computes():
    seed_bench(SIZE, log=quiet)
    seeded = report_figures()

    backfill()

    assert report_figures() == seeded


@pytest.mark.django_db(transaction=True)
def test_the_seed_leaves_the_schema_as_the_migrations_made_it():
    """Outside a transaction the indexes are rebuilt by parallel connections."""
    if connection.vendor != "postgresql":
        pytest.skip("the indexes are deferred on PostgreSQL only")
    before = schema()

    seed_bench(SIZE, log=quiet)

    assert schema() == before
    assert counts()["tickets"] == COUNTS["tickets"]


@pytest.mark.django_db
def test_the_indexes_come_back_when_the_load_fails():
    if connection.vendor != "postgresql":
        pytest.skip("the indexes are deferred on PostgreSQL only")
    before = schema()

    with pytest.raises(RuntimeError), deferred_indexes(connection, _bulk_models(), log=quiet):
        assert len(schema()) < len(before)
        raise RuntimeError("load failed")

    assert schema() == before
