"""What one live event costs a consumer: a bounded number of queries, however long the ticket
or the list, and for a new message nothing at all once another socket of the same audience in
the process has read and rendered it (tickets.live_render). The consumers' frame builders are
synchronous, so they are called directly here, on the real database, with queries counted."""

import json
import uuid
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_member
from tests.factories import MessageFactory, ParticipantFactory, TicketFactory
from tickets import live_render
from tickets.consumers import TicketConsumer, TicketListConsumer
from tickets.live_contract import Frame
from tickets.models import MessageKind
from workspaces.models import Role

# The message (get_message_or_404, with the socket's kept membership and ticket) and its
# attachments: access itself is checked at connect and on access.changed, not per message.
MESSAGE_FRAME_QUERIES = 2
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


@pytest.fixture(autouse=True)
def _empty_render_cache():
    live_render.clear()
    yield
    live_render.clear()


def announced(message) -> dict:
    """The event tickets.realtime sends for ``message``: ids and a fresh rev, nothing else."""
    return {"ticket_id": message.ticket_id, "message_id": message.pk, "rev": uuid.uuid4().hex}


def delivered(consumer, event) -> tuple[dict | None, int]:
    """(the frame ``consumer`` sends for ``event`` or None, the queries that took), the way
    ``message_created`` does it: the process's cache first, the database only on a miss."""
    with CaptureQueriesContext(connection) as queries:
        text = consumer.cached_message_text(event)
        if text is live_render.MISSING:
            text = consumer.message_text(event)
    return (None if text is None else json.loads(text)), len(queries)


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


def test_a_message_is_read_and_rendered_once_per_audience_not_once_per_socket(
    workspace, queue, requester, django_assert_max_num_queries
):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=1)
    author = make_member(workspace, Role.ADMIN)
    agents = [make_member(workspace, Role.ADMIN) for _ in range(5)]
    participants = [make_member(workspace, Role.REQUESTER) for _ in range(4)]
    for participant in participants:
        ParticipantFactory(ticket=ticket, user=participant.user)
    staff_sockets = [ticket_consumer(m, ticket) for m in agents]
    requester_sockets = [ticket_consumer(m, ticket) for m in (requester, *participants)]
    reply = MessageFactory(ticket=ticket, author=author.user, kind=MessageKind.REPLY, body="Fixed now")
    event = announced(reply)

    costs = {}
    for audience, sockets in (("staff", staff_sockets), ("requester", requester_sockets)):
        frames, costs[audience] = [], []
        for socket in sockets:
            frame, queries = delivered(socket, event)
            frames.append(frame)
            costs[audience].append(queries)
        assert all(frame["id"] == reply.pk and "Fixed now" in frame["html"] for frame in frames)
        assert len({frame["html"] for frame in frames}) == 1  # one rendering, shared
    # The first socket of each audience reads the message and its files; the others nothing.
    assert costs["staff"] == [MESSAGE_FRAME_QUERIES, 0, 0, 0, 0]
    assert costs["requester"] == [MESSAGE_FRAME_QUERIES, 0, 0, 0, 0]

    # Staff renderings say "Public reply"; the requesters' never came from the staff one.
    staff_html = delivered(staff_sockets[0], event)[0]["html"]
    requester_html = delivered(requester_sockets[0], event)[0]["html"]
    assert "Public reply" in staff_html and "Public reply" not in requester_html


def test_a_note_is_never_read_for_nor_sent_to_a_requester_socket(workspace, queue, agent, requester):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=1)
    note = MessageFactory(ticket=ticket, author=agent.user, kind=MessageKind.NOTE, body="NOTE-ONLY-STAFF")
    event = announced(note)
    staff_frame, _queries = delivered(ticket_consumer(agent, ticket), event)
    assert "NOTE-ONLY-STAFF" in staff_frame["html"]
    # The staff rendering is in the cache now: a requester socket still gets nothing.
    requester_socket = ticket_consumer(requester, ticket)
    assert delivered(requester_socket, event)[0] is None
    assert requester_socket.render_message(note.pk) is None


def test_viewers_of_another_language_zone_or_role_get_their_own_rendering(workspace, queue, requester):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=1)
    tokyo = make_member(workspace, Role.ADMIN, time_zone="Asia/Tokyo", language="de")
    utc = make_member(workspace, Role.ADMIN, time_zone="", language="fr")
    utc_again = make_member(workspace, Role.ADMIN, time_zone="", language="fr")
    author = make_member(workspace, Role.ADMIN)
    reply = MessageFactory(ticket=ticket, author=author.user, kind=MessageKind.REPLY, body="Hello")
    event = announced(reply)

    tokyo_frame, _queries = delivered(ticket_consumer(tokyo, ticket), event)
    utc_frame, queries = delivered(ticket_consumer(utc, ticket), event)
    assert queries == 0  # the message was read once for staff; only the rendering is theirs
    assert delivered(ticket_consumer(utc_again, ticket), event)[0] == utc_frame
    tokyo_time = reply.created_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
    assert f"{tokyo_time}</time>" in tokyo_frame["html"]
    assert f"{reply.created_at.strftime('%H:%M')}</time>" in utc_frame["html"]
    assert "Öffentliche Antwort" in tokyo_frame["html"]
    assert "Réponse publique" in utc_frame["html"]

    # The author (who may still edit it) gets their own rendering with the Edit link.
    mine, _queries = delivered(ticket_consumer(author, ticket), event)
    assert "message-edit" in mine["html"]
    assert "message-edit" not in tokyo_frame["html"] + utc_frame["html"]


def test_an_edit_or_redaction_announced_again_is_read_again(workspace, queue, agent, requester):
    """Each announcement has its own rev: the same message id never serves an older text."""
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=1)
    reply = MessageFactory(ticket=ticket, author=agent.user, kind=MessageKind.REPLY, body="card 4111")
    socket = ticket_consumer(requester, ticket)
    assert "card 4111" in delivered(socket, announced(reply))[0]["html"]
    reply.body_html = "<p>card [redacted]</p>"
    reply.save(update_fields=["body_html"])
    html = delivered(socket, announced(reply))[0]["html"]
    assert "4111" not in html and "[redacted]" in html
