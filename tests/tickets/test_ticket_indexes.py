"""The ticket table's indexes all start with the workspace: every lookup of tickets is within
one, and an index that starts elsewhere is one more entry to write on every ticket change that
the planner may also pick for the worse (migrations 0027 and 0029)."""

import json

import pytest
from django.db import connection

from tests.conftest import make_member
from tests.factories import QueueFactory
from tests.plans import json_plan, plan_nodes
from tests.tickets.ticket_helpers import agent_of, bulk_copies, new_ticket
from tickets.models import Message, Status, Ticket
from tickets.selectors import STATUS_OPEN, TicketFilters, filtered_tickets
from workspaces.models import Role
from workspaces.selectors import queues_with_counts

pytestmark = pytest.mark.django_db


def _ticket_indexes(model=Ticket):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {name: c["columns"] for name, c in constraints.items() if c["index"] and not c["primary_key"]}


def test_no_ticket_index_starts_with_the_workspace_or_the_queue_alone():
    # A search kept to an agent's queues ANDed a bitmap of every ticket of those queues (500,000
    # at 1M tickets) with the few thousand whose subject matched, through (queue_id) alone.
    alone = {
        name: columns
        for name, columns in _ticket_indexes().items()
        if columns in (["queue_id"], ["workspace_id"])
    }
    assert alone == {}


def test_messages_are_indexed_by_workspace_in_time_order_not_by_workspace_alone():
    # A common word's search reads a workspace's newest messages from (workspace, created_at)
    # (migration 0030); the index on the workspace alone it replaced served nothing else.
    columns = list(_ticket_indexes(Message).values())
    assert ["workspace_id", "created_at"] in columns
    assert ["workspace_id"] not in columns


def test_the_queues_page_counts_each_queue_s_open_tickets(workspace, queue, other_queue, requester):
    for status in (Status.NEW, Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED):
        ticket = new_ticket(requester, queue, subject=status)
        Ticket.objects.filter(pk=ticket.pk).update(status=status)
    new_ticket(requester, other_queue, subject="elsewhere")

    counts = {q.pk: q.open_tickets for q in queues_with_counts(workspace=workspace)}

    assert counts[queue.pk] == 3
    assert counts[other_queue.pk] == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan; CI runs it there")
def test_the_queues_page_counts_through_the_workspace_s_indexes(workspace, queue, requester, other_workspace):
    """By queue alone, each queue's count fetched every ticket of the queue to read its status
    (1.5 s for the page at 1M tickets); named with the workspace, it reads an index that starts
    with the workspace (0.15 s)."""
    new_ticket(requester, queue, subject="open")
    # Another workspace with many tickets over many queues, as a server holds.
    queues = [QueueFactory(workspace=other_workspace) for _ in range(30)]
    first = new_ticket(make_member(other_workspace, Role.REQUESTER), queues[0], subject="theirs")
    bulk_copies(first, 3000, queue=lambda n: queues[n % len(queues)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    plan = json_plan(*queues_with_counts(workspace=workspace).query.sql_with_params())

    reads = [n for n in plan_nodes(plan) if n.get("Relation Name") == "tickets_ticket"]
    assert reads, plan
    for read in reads:  # an index scan, or the heap scan of a bitmap built from one
        condition = read.get("Index Cond", read.get("Recheck Cond", ""))
        assert "workspace_id" in condition, json.dumps(plan, indent=1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan; CI runs it there")
def test_a_count_by_status_queue_and_priority_reads_only_the_entries_it_counts(workspace, queue, requester):
    """A saved view's count ("open and urgent in my queues") read an index sorted by date and
    dropped every other queue's and priority's rows on the way (33,000 entries for 1,000 at 1M
    tickets); sorted by what it narrows by (migration 0031), it reads what it counts."""
    other_queue = QueueFactory(workspace=workspace)
    agent = agent_of(workspace, queue)
    first = new_ticket(requester, queue, subject="many")
    statuses, priorities = list(Status.values), ["low", "normal", "high", "urgent"]
    bulk_copies(
        first,
        4000,
        queue=lambda n: (queue, other_queue)[n % 2],
        status=lambda n: statuses[n // 2 % len(statuses)],
        priority=lambda n: priorities[n // 10 % len(priorities)],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    filters = TicketFilters(status=STATUS_OPEN, priority="urgent")
    capped = filtered_tickets(membership=agent, filters=filters).order_by().values("id")[:1000]
    plan = json_plan(*capped.query.sql_with_params(), analyze=True)

    reads = [n for n in plan_nodes(plan) if n.get("Relation Name") == "tickets_ticket"]
    assert reads, plan
    for read in reads:
        condition = read.get("Index Cond", read.get("Recheck Cond", ""))
        assert "status" in condition and "priority" in condition, json.dumps(plan, indent=1)
        assert read.get("Rows Removed by Filter", 0) == 0, json.dumps(plan, indent=1)
    expected = Ticket.objects.filter(
        queue=queue, status__in=[Status.NEW, Status.OPEN, Status.PENDING], priority="urgent"
    ).count()
    assert capped.count() == expected > 0
