"""Each agent sees which tickets changed, and which a customer answered, since they last opened
them; opening the ticket clears both, for that agent only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.privacy.test_export import build
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply, url
from tickets.models import TicketRead


def marker(client, workspace, ticket):
    response = client.get(url(workspace), {"view": "all"})
    row = next(t for t in response.context["tickets"] if t.pk == ticket.pk)
    html = response.content.decode()
    start = html.index(f'id="ticket-row-{ticket.number}"')
    row_html = html[start : html.index("</tr>", start)]
    if "Customer replied" in row_html:
        return "customer replied"
    if "Unread:" in row_html:
        return "unread"
    assert row.seen_at is not None or "is-unread" not in row_html
    return ""


def open_ticket(client, workspace, ticket):
    assert client.get(url(workspace) + f"{ticket.number}/").status_code == 200


def test_a_customer_reply_marks_the_ticket_until_the_agent_opens_it(
    workspace, queue, requester, agent, login
):
    ticket = new_ticket(requester, queue, subject="Where is my parcel?")
    client = login(agent)
    assert marker(client, workspace, ticket) == "unread"  # new since the agent joined
    open_ticket(client, workspace, ticket)
    assert marker(client, workspace, ticket) == ""
    reply(ticket, requester, body="Any news?")
    assert marker(client, workspace, ticket) == "customer replied"
    open_ticket(client, workspace, ticket)
    assert marker(client, workspace, ticket) == ""


def test_another_agents_note_marks_it_unread_but_not_as_a_customer_reply(
    workspace, queue, requester, agent, login
):
    ticket = new_ticket(requester, queue)
    colleague = agent_of(workspace, queue)
    client = login(agent)
    open_ticket(client, workspace, ticket)
    note(ticket, colleague, body="Checked the warehouse")
    assert marker(client, workspace, ticket) == "unread"


def test_my_own_reply_does_not_mark_the_ticket_for_me(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue)
    client = login(agent)
    open_ticket(client, workspace, ticket)
    response = client.post(url(workspace) + f"{ticket.number}/", {"kind": "reply", "body": "On its way"})
    assert response.status_code == 302
    client.get(response["Location"].split("#")[0])  # the page the agent lands on
    assert marker(client, workspace, ticket) == ""


def test_reads_are_per_agent(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue)
    colleague = agent_of(workspace, queue)
    open_ticket(login(agent), workspace, ticket)
    reply(ticket, requester, body="Hello?")
    open_ticket(login(colleague), workspace, ticket)
    assert marker(login(colleague), workspace, ticket) == ""
    assert marker(login(agent), workspace, ticket) == "customer replied"


def test_requesters_have_no_markers_and_record_no_reads(workspace, queue, requester, login):
    ticket = new_ticket(requester, queue)
    client = login(requester)
    open_ticket(client, workspace, ticket)
    html = client.get(url(workspace)).content.decode()
    assert "Unread:" not in html and "Customer replied" not in html
    assert not TicketRead.objects.exists()


def test_two_tabs_opening_the_same_ticket_keep_one_read(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue)
    client = login(agent)
    open_ticket(client, workspace, ticket)
    open_ticket(client, workspace, ticket)
    assert TicketRead.objects.filter(ticket=ticket, user=agent.user).count() == 1


@pytest.mark.parametrize("count", [3, 12])
def test_markers_cost_no_query_per_row(workspace, queue, requester, agent, login, count):
    client = login(agent)
    tickets = [new_ticket(requester, queue) for _ in range(count)]
    open_ticket(client, workspace, tickets[0])
    client.get(url(workspace), {"view": "all"})
    with CaptureQueriesContext(connection) as queries:
        client.get(url(workspace), {"view": "all"})
    # The same number for 3 and 12 rows (the test runs twice): the markers ride on the list query
    # (besides it: session, user, membership, the views' counts, the saved views, the page's tags,
    # and the bulk bar's agents and queues).
    assert len(queries) <= 18, [q["sql"][:80] for q in queries]


def test_the_export_lists_when_the_agent_opened_tickets(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue)
    open_ticket(login(agent), workspace, ticket)
    data = build(agent.user)[0]
    assert [(r["workspace"], r["ticket"]) for r in data["ticket_reads"]] == [(workspace.slug, ticket.number)]


def test_opening_an_unchanged_ticket_again_writes_nothing(workspace, queue, requester, agent, login):
    ticket = new_ticket(requester, queue)
    client = login(agent)
    open_ticket(client, workspace, ticket)
    first = TicketRead.objects.get(ticket=ticket, user=agent.user).seen_at
    with CaptureQueriesContext(connection) as queries:
        open_ticket(client, workspace, ticket)
    assert not [q["sql"] for q in queries if "tickets_ticketread" in q["sql"] and "INSERT" in q["sql"]]
    assert TicketRead.objects.get(ticket=ticket, user=agent.user).seen_at == first
    assert marker(client, workspace, ticket) == ""

    # A change since: the next open records it, and the marker it lit goes out.
    reply(ticket, requester, body="One more thing")
    assert marker(client, workspace, ticket) == "customer replied"
    open_ticket(client, workspace, ticket)
    assert TicketRead.objects.get(ticket=ticket, user=agent.user).seen_at > first
    assert marker(client, workspace, ticket) == ""
