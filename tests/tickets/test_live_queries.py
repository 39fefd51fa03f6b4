"""What one live event costs a consumer: a bounded number of queries, however long the ticket
or the list. The consumers' frame builders are synchronous, so they are called directly here."""

from tests.factories import MessageFactory, ParticipantFactory, TicketFactory
from tickets.consumers import TicketConsumer, TicketListConsumer
from tickets.live_contract import Frame
from tickets.models import MessageKind

# user, session, membership, ticket (get_ticket_or_404), message (get_message_or_404), its attachments
MESSAGE_FRAME_QUERIES = 6
# user, session, membership, ticket with queue, requester and assignee, the agent's read of it
# (the row's unread marker, tickets/reads.py), the ticket's tags (staff rows, issue 13)
ROW_FRAME_QUERIES = 6


def signed_in_scope(user, **kwargs) -> dict:
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = SessionStore(session_key=client.session.session_key)
    return {"session": session, "url_route": {"kwargs": kwargs}}


def ticket_consumer(membership, ticket):
    consumer = TicketConsumer()
    consumer.scope = signed_in_scope(membership.user, slug=membership.workspace.slug, number=ticket.number)
    consumer.slug, consumer.user_id = membership.workspace.slug, membership.user_id
    assert consumer.authorize(membership.user) is not None
    return consumer


def test_message_frame_queries_do_not_grow_with_the_ticket(
    agent, workspace, queue, requester, django_assert_max_num_queries
):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=1)
    for _ in range(20):
        MessageFactory(ticket=ticket)
        ParticipantFactory(ticket=ticket)
    note = MessageFactory(ticket=ticket, author=agent.user, kind=MessageKind.NOTE, body="only for staff")
    consumer = ticket_consumer(agent, ticket)

    with django_assert_max_num_queries(MESSAGE_FRAME_QUERIES):
        frame = consumer.render_message(note.pk)
    assert frame["type"] == Frame.MESSAGE
    assert "only for staff" in frame["html"]

    # The requester's consumer reads the same note id and gets nothing to send.
    assert ticket_consumer(requester, ticket).render_message(note.pk) is None


def test_row_frame_queries(agent, workspace, queue, requester, django_assert_max_num_queries):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, assignee=agent.user)
    consumer = TicketListConsumer()
    consumer.scope = signed_in_scope(agent.user, slug=workspace.slug)
    consumer.slug, consumer.user_id = workspace.slug, agent.user_id
    consumer.authorize(agent.user)

    with django_assert_max_num_queries(ROW_FRAME_QUERIES):
        frame = consumer.row_frame(ticket.pk)
    assert (frame["type"], frame["id"]) == (Frame.ROW, ticket.number)
    assert ticket.subject in frame["html"]
    assert f'id="ticket-row-{ticket.number}"' in frame["html"]
