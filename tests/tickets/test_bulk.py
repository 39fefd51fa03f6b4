"""Bulk actions from the ticket list (tickets/bulk.py, tickets/bulk_views.py): what changes, what
is refused and why, what is audited, and what the list page says afterwards."""

import dataclasses

import pytest
from django.core.exceptions import ValidationError

from privacy.audit.models import AuditEvent
from tests.tickets.ticket_helpers import agent_of, member, new_ticket, url
from tickets import bulk
from tickets.models import Status, Ticket
from tickets.services import ticket_set_priority, ticket_set_status
from workspaces.models import Role


def _tickets(requester, queue, n):
    return [new_ticket(requester, queue, subject=f"Outage report {i}") for i in range(n)]


def _status(ticket):
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


def _events(ticket, action):
    return list(
        AuditEvent.objects.filter(target_type="tickets.ticket", target_id=str(ticket.pk), action=action)
        .order_by("seq")
        .values_list("detail", flat=True)
    )


def test_status_for_many_tickets_is_one_service_call_each_audited_per_ticket(agent, requester, queue):
    tickets = _tickets(requester, queue, 3)
    report = bulk.bulk_apply(
        membership=agent,
        numbers=[t.number for t in tickets],
        action="status",
        value="pending",
        actor=agent.user,
    )
    assert report.changed == [t.number for t in tickets]
    assert report.summary() == "3 tickets updated."
    for ticket in tickets:
        assert _status(ticket) == Status.PENDING
        changes = _events(ticket, "ticket.status_changed")
        assert changes[-1]["from"] == "new" and changes[-1]["to"] == "pending"


def test_a_ticket_of_a_queue_the_agent_does_not_work_is_refused_alone(
    workspace, requester, queue, other_queue
):
    agent = agent_of(workspace, queue)
    mine = _tickets(requester, queue, 2)
    elsewhere = new_ticket(requester, other_queue, subject="Invoice question")
    report = bulk.bulk_apply(
        membership=agent,
        numbers=[mine[0].number, elsewhere.number, mine[1].number],
        action="priority",
        value="high",
        actor=agent.user,
    )
    assert report.changed == [mine[0].number, mine[1].number]
    assert report.not_visible == 1
    summary = report.summary()
    assert "2 tickets updated." in summary
    assert "1 ticket does not exist or is not visible to you." in summary
    # Nothing about the ticket out of reach: neither its number nor its subject.
    assert f"#{elsewhere.number}" not in summary and "Invoice" not in summary
    assert Ticket.objects.get(pk=elsewhere.pk).priority == "normal"
    assert _events(elsewhere, "ticket.priority_changed") == []


def test_another_workspaces_ticket_numbers_change_nothing_there(agent, requester, queue, other_workspace):
    from tests.factories import QueueFactory

    foreign_requester = member(other_workspace, Role.REQUESTER)
    foreign = new_ticket(foreign_requester, QueueFactory(workspace=other_workspace))
    own = new_ticket(requester, queue)
    assert foreign.number == own.number  # numbered per workspace: the same number, another ticket
    report = bulk.bulk_apply(
        membership=agent, numbers=[own.number], action="status", value="solved", actor=agent.user
    )
    assert report.changed == [own.number]
    assert _status(foreign) == Status.NEW


def test_unchanged_closed_and_refused_by_the_service_each_get_their_reason(
    workspace, requester, queue, other_queue
):
    admin = member(workspace, Role.ADMIN)
    agent = agent_of(workspace, queue)  # works Support only
    already = new_ticket(requester, queue)
    ticket_set_status(ticket=already, status=Status.PENDING, actor=admin.user)
    closed = new_ticket(requester, queue)
    ticket_set_status(ticket=closed, status=Status.CLOSED, actor=admin.user)
    billing = new_ticket(requester, other_queue)
    fine = new_ticket(requester, queue)
    report = bulk.bulk_apply(
        membership=admin,
        numbers=[already.number, closed.number, billing.number, fine.number],
        action="assign",
        value=str(agent.user.pk),
        actor=admin.user,
    )
    assert report.changed == [already.number, fine.number]
    reasons = dict(report.refused)
    assert reasons[closed.number] == bulk.IS_CLOSED.format(number=closed.number)
    assert "cannot be assigned: they do not work the Billing queue" in reasons[billing.number]
    assert Ticket.objects.get(pk=billing.pk).assignee_id is None
    summary = report.summary()
    assert summary.startswith("2 tickets updated. 2 could not be changed:")
    assert f"#{closed.number} is Closed" in summary

    again = bulk.bulk_apply(
        membership=admin, numbers=[fine.number], action="assign", value=str(agent.user.pk), actor=admin.user
    )
    assert again.unchanged == [fine.number] and again.summary() == "1 ticket already had that value."


def test_a_row_changed_by_someone_else_since_the_list_was_shown_is_refused_as_stale(
    workspace, requester, queue
):
    admin = member(workspace, Role.ADMIN, display_name="Ann Admin")
    agent = agent_of(workspace, queue)
    stale, fresh = _tickets(requester, queue, 2)
    seen = {stale.number: bulk.seen_token(stale), fresh.number: bulk.seen_token(fresh)}
    ticket_set_priority(ticket=stale, priority="urgent", actor=admin.user)  # after the list was shown
    report = bulk.bulk_apply(
        membership=agent,
        numbers=[stale.number, fresh.number],
        action="priority",
        value="low",
        actor=agent.user,
        seen=seen,
    )
    assert report.changed == [fresh.number]
    assert dict(report.refused)[stale.number] == (
        f"#{stale.number} was changed by Ann Admin since you loaded the list: check it and try again."
    )
    assert Ticket.objects.get(pk=stale.pk).priority == "urgent"


def test_bad_values_refuse_the_whole_request_with_a_sentence(agent, requester, queue, workspace):
    ticket = new_ticket(requester, queue)
    cases = [
        ("status", "burning", "Choose one of the listed statuses."),
        ("assign", str(member(workspace, Role.REQUESTER).user.pk), str(bulk.UNKNOWN_AGENT)),
        ("queue", "999999", str(bulk.UNKNOWN_QUEUE)),
        ("explode", "", str(bulk.UNKNOWN_ACTION)),
    ]
    for action, value, message in cases:
        with pytest.raises(ValidationError) as raised:
            bulk.bulk_apply(
                membership=agent, numbers=[ticket.number], action=action, value=value, actor=agent.user
            )
        assert raised.value.messages == [message]
    with pytest.raises(ValidationError):
        bulk.bulk_apply(membership=agent, numbers=[], action="status", value="open", actor=agent.user)
    assert _status(ticket) == Status.NEW


def test_moving_to_a_queue_one_does_not_work_says_the_tickets_left_the_list(
    workspace, requester, queue, other_queue
):
    agent = agent_of(workspace, queue)
    tickets = _tickets(requester, queue, 2)
    report = bulk.bulk_apply(
        membership=agent,
        numbers=[t.number for t in tickets],
        action="queue",
        value=str(other_queue.pk),
        actor=agent.user,
    )
    assert report.changed == [t.number for t in tickets]
    assert report.moved_away == [t.number for t in tickets]
    assert "2 tickets moved to a queue you do not work; they left your list." in report.summary()


def test_the_registry_takes_a_new_action_in_a_few_lines(agent, requester, queue, monkeypatch):
    """What the tags action will look like (tickets/tags.py is built elsewhere)."""
    calls = []
    action = bulk.BulkAction(
        name="flag",
        parse=lambda membership, raw: raw,
        current=lambda ticket: None,
        wanted=lambda value: value,
        apply=lambda *, ticket, value, actor, request: calls.append((ticket.number, value)),
    )
    monkeypatch.setitem(bulk.ACTIONS, "flag", action)
    ticket = new_ticket(requester, queue)
    report = bulk.bulk_apply(
        membership=agent, numbers=[ticket.number], action="flag", value="red", actor=agent.user
    )
    assert calls == [(ticket.number, "red")] and report.changed == [ticket.number]


# The list page ------------------------------------------------------------------------------


def _post(client, workspace, numbers, change, back="view=all", **extra):
    data = {"tickets": [str(n) for n in numbers], "change": change, "back": back, **extra}
    return client.post(url(workspace, "bulk/"), data)


def test_the_list_page_posts_the_bar_and_comes_back_to_the_same_view_with_a_report(
    login, agent, requester, queue, workspace
):
    tickets = _tickets(requester, queue, 3)
    client = login(agent)
    page = client.get(url(workspace) + "?view=all&sort=created")
    html = page.content.decode()
    assert 'id="bulk-form"' in html and 'value="status:pending"' in html
    assert f'name="tickets" value="{tickets[0].number}"' in html
    response = _post(
        client, workspace, [t.number for t in tickets], "status:pending", back="view=all&sort=created"
    )
    assert response.status_code == 302
    assert response["Location"] == url(workspace) + "?view=all&sort=created"
    followed = client.get(response["Location"]).content.decode()
    assert "3 tickets updated." in followed
    assert all(_status(t) == Status.PENDING for t in tickets)


def test_the_bars_agent_and_queue_names_are_escaped(login, agent, requester, queue, workspace):
    hostile = agent_of(workspace, queue, display_name='<img src=x onerror="alert(1)">\u202eEve')
    queue.name = "<b>Billing & co</b>"
    queue.save()
    html = login(agent).get(url(workspace) + "?view=all").content.decode()
    name = "<bdi>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Eve</bdi>"
    assert f'<option value="assign:{hostile.user.pk}">{name}</option>' in html
    assert f'<option value="queue:{queue.pk}">&lt;b&gt;Billing &amp; co&lt;/b&gt;</option>' in html
    assert "<img src=x" not in html and "<b>Billing" not in html


def test_a_posted_back_address_never_leaves_the_list(login, agent, requester, queue, workspace):
    ticket = new_ticket(requester, queue)
    response = _post(login(agent), workspace, [ticket.number], "priority:high", back="//evil.test/x?view=all")
    assert response["Location"].startswith(url(workspace) + "?")


def test_select_all_on_the_page_without_javascript(login, agent, requester, queue, workspace):
    tickets = _tickets(requester, queue, 3)
    response = login(agent).post(
        url(workspace, "bulk/"),
        {
            "all_on_page": "1",
            "page_tickets": ",".join(str(t.number) for t in tickets),
            "change": "priority:urgent",
        },
    )
    assert response.status_code == 302
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"urgent"}


def test_requesters_get_the_same_404_as_strangers(login, requester, queue, workspace):
    ticket = new_ticket(requester, queue)
    response = _post(login(requester), workspace, [ticket.number], "status:closed")
    assert response.status_code == 404
    assert _status(ticket) == Status.NEW


def test_a_bulk_of_n_tickets_costs_a_bounded_number_of_queries_per_ticket(
    agent, requester, queue, django_assert_max_num_queries
):
    """The cost grows linearly with a small constant: measured 5 against 50 tickets."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    costs = {}
    for n, value in ((5, "high"), (50, "urgent")):
        tickets = _tickets(requester, queue, n)
        with CaptureQueriesContext(connection) as captured:
            report = bulk.bulk_apply(
                membership=agent,
                numbers=[t.number for t in tickets],
                action="priority",
                value=value,
                actor=agent.user,
            )
        assert len(report.changed) == n
        costs[n] = len(captured.captured_queries)
    # The same few queries for 5 and 50 tickets: the visibility-and-lock query, one UPDATE, the
    # audit events in one insert (chain head locked and moved once), the savepoint around it.
    assert costs[5] == costs[50] <= 8, costs


def test_an_action_without_a_batched_twin_calls_its_service_per_ticket_at_a_bounded_cost(
    agent, requester, queue, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setitem(
        bulk.ACTIONS, "priority", dataclasses.replace(bulk.ACTIONS["priority"], apply_many=None)
    )
    costs = {}
    for n, value in ((5, "high"), (50, "urgent")):
        tickets = _tickets(requester, queue, n)
        with CaptureQueriesContext(connection) as captured:
            report = bulk.bulk_apply(
                membership=agent,
                numbers=[t.number for t in tickets],
                action="priority",
                value=value,
                actor=agent.user,
            )
        assert len(report.changed) == n
        costs[n] = len(captured.captured_queries)
    per_ticket = (costs[50] - costs[5]) / 45
    # The single-edit service: savepoint, re-lock, save, three for its audit event, release, and
    # the service-level policy a priority change reads (tickets/sla.py).
    assert per_ticket == int(per_ticket) <= 8, costs


# Tags ---------------------------------------------------------------------------------------------


def _tag_names(ticket):
    from tickets.models import TicketTag

    return set(TicketTag.objects.filter(ticket=ticket).values_list("tag__name", flat=True))


def test_tags_are_added_and_removed_in_bulk_with_an_event_per_ticket_that_changed(
    login, agent, requester, queue, workspace
):
    tickets = _tickets(requester, queue, 3)
    client = login(agent)
    assert 'value="tags:add"' in client.get(url(workspace) + "?view=all").content.decode()
    response = _post(client, workspace, [t.number for t in tickets], "tags:add", tag_names="Refund, VIP")
    assert response.status_code == 302
    assert all(_tag_names(t) == {"refund", "vip"} for t in tickets)
    assert all(len(_events(t, "ticket.tags_changed")) == 1 for t in tickets)

    _post(client, workspace, [tickets[0].number, tickets[1].number], "tags:remove", tag_names="vip")
    assert [_tag_names(t) for t in tickets] == [{"refund"}, {"refund"}, {"refund", "vip"}]
    assert [len(_events(t, "ticket.tags_changed")) for t in tickets] == [2, 2, 1]


def test_a_tags_change_without_names_is_refused_and_changes_nothing(
    login, agent, requester, queue, workspace
):
    ticket = new_ticket(requester, queue)
    client = login(agent)
    response = _post(client, workspace, [ticket.number], "tags:add", tag_names=" , ")
    followed = client.get(response["Location"]).content.decode()
    assert "Type the tags to add or remove, separated by commas." in followed
    assert _tag_names(ticket) == set()
