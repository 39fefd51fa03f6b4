"""A requester's "Updated" time and list order follow only what they can see.

An internal note, a priority change or an assignment is activity on the ticket, but not activity a
requester can see: it must not move the ticket up their list, re-date it, or announce itself on
their screen. Agents keep seeing every change.
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply, url, walk_pages
from tickets import realtime
from tickets.models import Priority, Status, Ticket
from tickets.personal_data import Scope, iso, iter_tickets
from tickets.selectors import TicketFilters, ticket_list_page
from tickets.services import (
    message_edit,
    participant_add,
    ticket_assign,
    ticket_move_queue,
    ticket_set_priority,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db


def _around(executor, app, suffix):
    """(the migrations just before ours, ours) found by name, so renumbering does not matter."""
    (node,) = [key for key in executor.loader.graph.nodes if key[0] == app and key[1].endswith(suffix)]
    before = [dep for dep in executor.loader.graph.node_map[node].parents if dep.key[0] == app]
    return [dep.key for dep in before], [node]


def _migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


_ROW = re.compile(r'<tr id="ticket-row-(\d+)".*?<td data-label="Updated"><time datetime="([^"]+)">', re.S)


def rows(client, workspace):
    """(number, displayed "Updated" datetime) of each row of the list page, in order."""
    response = client.get(url(workspace), {"view": "all"})
    assert response.status_code == 200
    return [(int(number), at) for number, at in _ROW.findall(response.content.decode())]


def order(client, workspace):
    return [number for number, _ in rows(client, workspace)]


def shown(client, workspace, ticket):
    return dict(rows(client, workspace))[ticket.number]


@pytest.fixture
def two(workspace, queue, requester):
    """Two tickets of ``requester``: #1 opened two hours ago, #2 one hour ago."""
    now = timezone.now()
    older = new_ticket(requester, queue, subject="Older", created_at=now - timedelta(hours=2))
    newer = new_ticket(requester, queue, subject="Newer", created_at=now - timedelta(hours=1))
    return older, newer


@pytest.fixture
def staff(workspace, queue):
    return agent_of(workspace, queue)


def test_a_note_moves_the_ticket_for_agents_only(client, workspace, requester, staff, two):
    older, newer = two
    client.force_login(requester.user)
    before = rows(client, workspace)
    client.force_login(staff.user)
    staff_before = shown(client, workspace, older)

    note(older, staff, body="Customer is on the watch list")

    client.force_login(requester.user)
    assert rows(client, workspace) == before == [(2, before[0][1]), (1, before[1][1])]
    client.force_login(staff.user)
    assert order(client, workspace) == [1, 2]
    assert shown(client, workspace, older) != staff_before


def test_a_public_reply_moves_the_ticket_for_everyone(client, workspace, requester, staff, two):
    older, _ = two
    note(older, staff)

    reply(older, staff, body="We are on it")

    for person in (requester, staff):
        client.force_login(person.user)
        assert order(client, workspace) == [1, 2]
    older.refresh_from_db()
    client.force_login(requester.user)
    assert shown(client, workspace, older) == older.public_updated_at.isoformat()


def test_agent_only_changes_do_not_move_the_requesters_list(
    client, workspace, requester, staff, other_queue, two
):
    older, _ = two
    client.force_login(requester.user)
    before = rows(client, workspace)

    ticket_set_priority(ticket=older, priority=Priority.URGENT, actor=staff.user)
    ticket_assign(ticket=older, assignee=staff.user, actor=staff.user)
    ticket_move_queue(ticket=older, queue=other_queue, actor=staff.user)

    assert rows(client, workspace) == before
    older.refresh_from_db()
    assert older.updated_at > older.public_updated_at


def test_status_and_people_changes_are_seen_by_the_requester(client, workspace, requester, staff, two):
    older, newer = two
    client.force_login(requester.user)

    ticket_set_status(ticket=older, status=Status.PENDING, actor=staff.user)
    assert order(client, workspace) == [1, 2]

    participant_add(ticket=newer, user=staff.user, actor=staff.user)
    assert order(client, workspace) == [2, 1]


def test_editing_a_note_does_not_re_date_the_ticket_for_the_requester(
    client, workspace, requester, staff, two
):
    older, newer = two
    written = note(older, staff)
    client.force_login(requester.user)
    before = rows(client, workspace)

    message_edit(message=written, editor=staff.user, body="Corrected note")
    assert rows(client, workspace) == before

    corrected = reply(older, staff, body="Typo")
    message_edit(message=corrected, editor=staff.user, body="Fixed typo")
    assert order(client, workspace) == [1, 2]


def test_the_requesters_seek_pages_follow_the_public_order(workspace, requester, staff, two):
    older, newer = two
    third = new_ticket(
        requester, older.queue, subject="Third", created_at=timezone.now() - timedelta(minutes=30)
    )
    for ticket in (older, newer):
        note(ticket, staff)
    filters = TicketFilters()

    pages, back_pages = walk_pages(requester, filters, page_size=1)
    seen = [pk for page in pages for pk in page]
    back = [pk for page in reversed(back_pages) for pk in page]

    assert seen == [third.pk, newer.pk, older.pk]
    assert back + [older.pk] == seen
    staff_page = ticket_list_page(membership=staff, filters=filters, page_size=3)
    assert [t.number for t in staff_page.tickets] == [newer.number, older.number, third.number]


def test_ascending_order_for_the_requester_uses_the_public_time(workspace, requester, staff, two):
    older, newer = two
    note(older, staff)

    page = ticket_list_page(membership=requester, filters=TicketFilters(descending=False))

    assert [t.number for t in page.tickets] == [older.number, newer.number]


def test_the_requesters_list_query_runs_on_the_public_time(
    workspace, requester, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1) as captured:
        ticket_list_page(membership=requester, filters=TicketFilters())
    sql = captured.captured_queries[0]["sql"]
    assert '"public_updated_at" DESC' in sql


# Live updates ------------------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(realtime, "_send", lambda groups, event: calls.append((list(groups), event)))
    return calls


def _groups(sent):
    return {group for groups, _ in sent for group in groups}


def test_agent_only_changes_are_announced_to_staff_only(
    workspace, requester, staff, two, sent, django_capture_on_commit_callbacks
):
    older, _ = two
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_priority(ticket=older, priority=Priority.HIGH, actor=staff.user)
        ticket_assign(ticket=older, assignee=staff.user, actor=staff.user)
        note(older, staff)

    groups = _groups(sent)
    assert realtime.user_list_group(workspace.pk, requester.user_id) not in groups
    assert realtime.ticket_public_group(older.pk) not in groups
    assert realtime.ticket_staff_group(older.pk) in groups
    assert realtime.queue_group(workspace.pk, older.queue_id) in groups


def test_public_changes_reach_the_requesters_screens(
    workspace, requester, staff, two, sent, django_capture_on_commit_callbacks
):
    older, _ = two
    with django_capture_on_commit_callbacks(execute=True):
        ticket_set_status(ticket=older, status=Status.SOLVED, actor=staff.user)

    groups = _groups(sent)
    assert realtime.user_list_group(workspace.pk, requester.user_id) in groups
    assert realtime.ticket_public_group(older.pk) in groups


# Export and existing data --------------------------------------------------------------------------


def test_a_requesters_export_dates_the_ticket_by_public_activity(workspace, requester, staff, two):
    older, _ = two
    note(older, staff)
    older.refresh_from_db()

    mine = {t["number"]: t for t in iter_tickets(Scope(requester, virtual=False), requester.user)}
    theirs = {t["number"]: t for t in iter_tickets(Scope(staff, virtual=False), staff.user)}

    assert mine[older.number]["updated_at"] == iso(older.public_updated_at)
    assert mine[older.number]["updated_at"] != iso(older.updated_at)
    assert theirs == {}  # the agent neither requested nor takes part in it
    participant_add(ticket=older, user=staff.user, actor=staff.user)
    older.refresh_from_db()
    theirs = {t["number"]: t for t in iter_tickets(Scope(staff, virtual=False), staff.user)}
    assert theirs[older.number]["updated_at"] == iso(older.updated_at)


@pytest.mark.django_db(transaction=True)
def test_the_migration_dates_existing_tickets_by_their_last_public_activity(
    workspace, queue, requester, staff
):
    now = timezone.now()
    executor = MigrationExecutor(connection)
    before, after = _around(executor, "tickets", "_ticket_public_updated_at")
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        OldTicket, OldMessage = apps.get_model("tickets", "Ticket"), apps.get_model("tickets", "Message")

        def old_ticket(number, **times):
            return OldTicket.objects.create(
                workspace_id=workspace.pk,
                queue_id=queue.pk,
                requester_id=requester.user_id,
                number=number,
                subject=f"T{number}",
                **times,
            )

        noted = old_ticket(1, created_at=now - timedelta(hours=5), updated_at=now - timedelta(hours=1))
        OldMessage.objects.create(
            workspace_id=workspace.pk,
            ticket=noted,
            kind="reply",
            body="a",
            created_at=now - timedelta(hours=4),
        )
        OldMessage.objects.create(
            workspace_id=workspace.pk,
            ticket=noted,
            kind="note",
            body="b",
            created_at=now - timedelta(hours=1),
        )
        closed = old_ticket(
            2,
            created_at=now - timedelta(hours=5),
            updated_at=now - timedelta(hours=2),
            closed_at=now - timedelta(hours=2),
        )
        quiet = old_ticket(3, created_at=now - timedelta(hours=3), updated_at=now - timedelta(hours=3))
        MigrationExecutor(connection).migrate(after)
    finally:
        _migrate_to_latest()

    public = dict(Ticket.objects.values_list("number", "public_updated_at"))
    assert public[1] == now - timedelta(hours=4)  # the reply, not the later note
    assert public[2] == now - timedelta(hours=2)  # closing is public
    assert public[3] == now - timedelta(hours=3)
    del noted, closed, quiet
