"""The ticket pages per role: what each may do, what answers 404, forms that lose nothing."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from privacy.audit import events
from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import ParticipantFactory, QueueFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, properties_data, reply, url
from tickets import services, views
from tickets.forms import NOT_A_CANDIDATE, NOT_A_MEMBER
from tickets.models import Message, MessageKind, Status, Ticket, TicketParticipant
from workspaces.models import Role

# New ticket ---------------------------------------------------------------------------------


def test_requester_opens_a_ticket_in_any_queue(workspace, other_queue, requester, login):
    client = login(requester)
    page = client.get(url(workspace, "new/"))
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    assert b'name="requester"' not in page.content  # only staff choose a requester
    response = client.post(
        url(workspace, "new/"),
        {"subject": "Refund", "queue": other_queue.pk, "priority": "high", "description": "Charged twice."},
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == url(workspace, "", ticket.number)
    assert (ticket.queue, ticket.priority, ticket.requester) == (other_queue, "high", requester.user)
    assert ticket.messages.get().body == "Charged twice."


def test_staff_open_a_ticket_on_behalf_of_a_member(workspace, queue, agent, requester, login):
    response = login(agent).post(
        url(workspace, "new/"),
        {
            "requester": requester.user.email,
            "subject": "Phoned in",
            "queue": queue.pk,
            "priority": "normal",
            "description": "Called the desk.",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert ticket.requester == requester.user
    assert ticket.messages.get().author == requester.user
    assert AuditEvent.objects.get(action="ticket.created").actor == agent.user


def test_staff_cannot_pick_a_requester_from_another_workspace(
    workspace, other_workspace, queue, agent, login
):
    stranger = make_member(other_workspace, Role.REQUESTER)
    response = login(agent).post(
        url(workspace, "new/"),
        {
            "requester": stranger.user.email,
            "subject": "x",
            "queue": queue.pk,
            "priority": "normal",
            "description": "y",
        },
    )
    assert response.status_code == 400
    assert str(NOT_A_MEMBER) in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_bad_form_keeps_what_was_typed(workspace, queue, requester, login):
    response = login(requester).post(
        url(workspace, "new/"),
        {"subject": "", "queue": queue.pk, "priority": "normal", "description": "Kept text"},
    )
    assert response.status_code == 400
    assert b"Kept text" in response.content
    assert b"This field is required." in response.content
    assert views.FIX_BELOW.encode() in response.content


# Ticket page and the reply box ---------------------------------------------------------------


def test_the_ticket_page_shows_header_conversation_and_live_hooks(workspace, ticket, agent, login):
    reply(ticket, agent, body="Hello **there**")
    note(ticket, agent, body="Check the fuse")
    page = login(agent).get(url(workspace, "", ticket.number))
    html = page.content.decode()
    assert page.status_code == 200
    messages = re.search(r'<div id="message-list" class="message-list"([^>]*)>', html)
    assert messages is not None
    assert f'data-live-url="/ws/w/acme/tickets/{ticket.number}/"' in messages.group(1)
    assert 'id="ticket-status"' in html and 'id="ticket-assignee"' in html and 'id="ticket-queue"' in html
    assert "<strong>there</strong>" in html
    assert html.count('class="message message-note"') == 1
    assert "Internal note" in html and "Check the fuse" in html


def test_each_ticket_page_shows_its_own_values_in_the_property_boxes(
    workspace, queue, agent, requester, login
):
    """The property selects are kept once rendered (helpdesk.form_rendering.KeptSelect): one
    ticket's page after another still shows each ticket's own status, priority and assignee."""
    first = new_ticket(requester, queue, subject="First", priority="high")
    second = new_ticket(requester, queue, subject="Second", priority="low")
    Ticket.objects.filter(pk=second.pk).update(status=Status.PENDING, assignee=agent.user)
    client = login(agent)

    def selected(ticket, name):
        html = client.get(url(workspace, "", ticket.number)).content.decode()
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
        return re.findall(r'<option value="([^"]*)" selected>', select)

    for _ in range(2):
        assert selected(first, "priority") == ["high"]
        assert selected(second, "priority") == ["low"]
        assert selected(first, "status") == [first.status]
        assert selected(second, "status") == ["pending"]
        assert selected(first, "assignee") == [""]
        assert selected(second, "assignee") == [str(agent.user.pk)]


def test_staff_opening_a_ticket_is_audited_once_per_hour(workspace, ticket, agent, requester, login):
    client = login(agent)
    client.get(url(workspace, "", ticket.number))
    client.get(url(workspace, "", ticket.number))
    assert AuditEvent.objects.filter(action="ticket.viewed", actor=agent.user).count() == 1
    login(requester).get(url(workspace, "", ticket.number))
    assert not AuditEvent.objects.filter(action="ticket.viewed", actor=requester.user).exists()


def test_a_view_within_the_hour_asks_the_audit_log_nothing_more(workspace, ticket, agent, login, monkeypatch):
    """Whether this hour's view is recorded comes with the ticket's own statement."""
    client = login(agent)
    page = url(workspace, "", ticket.number)
    client.get(page)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    assert not [q["sql"] for q in queries if q["sql"].startswith('SELECT "privacy_auditevent"')]
    viewed = AuditEvent.objects.filter(action="ticket.viewed", actor=agent.user, target_id=str(ticket.pk))
    assert viewed.count() == 1
    # Once the hour is over (here: a window of nothing), the next view is recorded again.
    monkeypatch.setattr(events, "VIEWED_WINDOW", timedelta(0))
    client.get(page)
    assert viewed.count() == 2


def test_agent_posts_a_reply_or_a_note_by_the_button_pressed(workspace, ticket, agent, login):
    client = login(agent)
    client.post(url(workspace, "", ticket.number), {"body": "Public words", "kind": "reply"})
    client.post(url(workspace, "", ticket.number), {"body": "Private words", "kind": "note"})
    kinds = dict(Message.objects.filter(author=agent.user).values_list("body", "kind"))
    assert kinds == {"Public words": MessageKind.REPLY, "Private words": MessageKind.NOTE}


def test_a_requester_cannot_post_a_note_even_with_a_crafted_form(workspace, ticket, requester, login):
    response = login(requester).post(
        url(workspace, "", ticket.number), {"body": "Am I a note?", "kind": "note"}
    )
    assert response.status_code == 302
    assert Message.objects.get(body="Am I a note?").kind == MessageKind.REPLY


def test_an_empty_reply_is_refused_with_the_page_kept(workspace, ticket, agent, login):
    response = login(agent).post(url(workspace, "", ticket.number), {"body": "", "kind": "note"})
    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert Message.objects.count() == 1


def test_staff_update_status_priority_queue_and_assignee(workspace, ticket, admin, agent, other_queue, login):
    agent_of(workspace, other_queue, display_name="Billing Bob")
    client = login(admin)
    response = client.post(
        url(workspace, "", ticket.number, "properties"),
        properties_data(ticket, status="pending", priority="urgent", assignee=agent.user.pk),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("pending", "urgent", agent.user)


def test_an_assignee_who_cannot_see_the_queue_is_refused_with_a_message(
    workspace, ticket, admin, other_queue, login
):
    other_agent = agent_of(workspace, other_queue)
    response = login(admin).post(
        url(workspace, "", ticket.number, "properties"),
        properties_data(ticket, assignee=other_agent.user.pk),
    )
    # Not even offered: the choice list is the queue's staff.
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_moving_a_ticket_and_assigning_is_all_or_nothing(workspace, ticket, admin, agent, other_queue, login):
    response = login(admin).post(
        url(workspace, "", ticket.number, "properties"),
        properties_data(ticket, status="open", queue=other_queue.pk, assignee=agent.user.pk),
    )
    assert response.status_code == 400
    message = services.ASSIGNEE_CANNOT_SEE_QUEUE.format(name=agent.user, queue=other_queue.name)
    assert message.encode() in response.content.replace(b"&#x27;", b"'")
    ticket.refresh_from_db()
    assert (ticket.queue_id, ticket.status, ticket.assignee) == (ticket.queue_id, Status.NEW, None)
    assert ticket.queue != other_queue


def test_an_agent_transfers_a_ticket_to_a_queue_they_do_not_work_and_lands_on_the_list(
    workspace, ticket, agent, other_queue, login
):
    client = login(agent)
    response = client.post(
        url(workspace, "", ticket.number, "properties"),
        properties_data(ticket, queue=other_queue.pk),
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == url(workspace)
    assert f"Ticket #{ticket.number} moved to Billing; you no longer see it." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.queue == other_queue
    # Gone from their reach: the same 404 as any ticket of a queue they do not work.
    assert client.get(url(workspace, "", ticket.number)).status_code == 404


def test_a_queue_of_another_workspace_is_refused(workspace, other_workspace, ticket, agent, login):
    foreign = QueueFactory(workspace=other_workspace, name="Elsewhere")
    response = login(agent).post(
        url(workspace, "", ticket.number, "properties"),
        properties_data(ticket, queue=foreign.pk),
    )
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    ticket.refresh_from_db()
    assert ticket.queue.workspace == workspace


def test_a_requester_closes_their_ticket_and_reopens_it_by_replying(workspace, ticket, requester, login):
    client = login(requester)
    assert client.post(url(workspace, "", ticket.number, "close")).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    page = client.get(url(workspace, "", ticket.number))
    assert b"Replying opens it again" in page.content
    client.post(url(workspace, "", ticket.number), {"body": "Not fixed after all"})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.closed_at is None


@pytest.mark.parametrize(
    "action",
    [
        ("properties", {"status": "closed", "priority": "normal", "assignee": ""}),
        ("participants", {}),
    ],
)
def test_requesters_cannot_use_staff_actions(workspace, ticket, requester, action, login):
    name, data = action
    data = {**data, "queue": ticket.queue_id, "user": requester.user.email}
    response = login(requester).post(url(workspace, "", ticket.number, name), data)
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and not TicketParticipant.objects.exists()


def test_a_participant_sees_the_ticket_but_cannot_close_it(workspace, ticket, login):
    colleague = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=colleague.user)
    client = login(colleague)
    page = client.get(url(workspace, "", ticket.number))
    assert page.status_code == 200 and b"Close this ticket" not in page.content
    assert client.post(url(workspace, "", ticket.number, "close")).status_code == 404


def test_strangers_and_other_queues_get_404_everywhere(
    workspace, other_workspace, ticket, other_queue, login
):
    wrong_agent = agent_of(workspace, other_queue)
    outsider = make_member(other_workspace, Role.ADMIN)
    other_requester = make_member(workspace, Role.REQUESTER)
    for person in (wrong_agent, outsider, other_requester):
        client = login(person)
        assert client.get(url(workspace, "", ticket.number)).status_code == 404
        assert client.post(url(workspace, "", ticket.number), {"body": "hi"}).status_code == 404
    assert login(outsider).get(url(other_workspace, "", ticket.number)).status_code == 404
    assert Message.objects.count() == 1


def test_staff_add_and_remove_participants(workspace, ticket, agent, login):
    colleague = make_member(workspace, Role.REQUESTER, display_name="Colleague Carla")
    client = login(agent)
    response = client.post(
        url(workspace, "", ticket.number, "participants"), {"user": colleague.user.email.upper()}
    )
    assert response.status_code == 302
    page = client.get(url(workspace, "", ticket.number))
    assert b"Colleague Carla" in page.content
    client.post(url(workspace, "", ticket.number, "participants", colleague.user.pk, "remove"))
    assert not TicketParticipant.objects.exists()
    missing = client.post(url(workspace, "", ticket.number, "participants", colleague.user.pk, "remove"))
    assert missing.status_code == 404


def test_adding_someone_outside_the_workspace_explains_why(workspace, other_workspace, ticket, agent, login):
    stranger = make_member(other_workspace, Role.REQUESTER)
    client = login(agent)

    response = client.post(
        url(workspace, "", ticket.number, "participants"), {"user": stranger.user.email}, follow=True
    )

    assert str(NOT_A_CANDIDATE) in response.content.decode()
    assert not TicketParticipant.objects.exists()


def test_the_ticket_page_does_not_list_every_member(workspace, ticket, agent, login):
    for _ in range(5):
        make_member(workspace, Role.REQUESTER)
    page = login(agent).get(url(workspace, "", ticket.number)).content.decode()
    assert "<option" not in page.split('id="participants"')[1]


# Editing ------------------------------------------------------------------------------------


def test_a_note_can_never_become_public_through_the_edit_form(workspace, ticket, agent, login):
    posted = note(ticket, agent, body="Secret plan")
    client = login(agent)
    page = client.get(url(workspace, "", ticket.number, "messages", posted.pk, "edit"))
    assert page.status_code == 200 and b'name="kind"' not in page.content
    response = client.post(
        url(workspace, "", ticket.number, "messages", posted.pk, "edit"),
        {"body": "Secret plan v2", "kind": "reply", "seen": services.body_version("Secret plan")},
    )
    assert response.status_code == 302
    posted.refresh_from_db()
    assert posted.kind == MessageKind.NOTE and posted.body == "Secret plan v2"


def test_only_the_author_edits_and_only_for_15_minutes(workspace, ticket, agent, admin, login):
    posted = reply(ticket, agent, body="Helo")
    edit_url = url(workspace, "", ticket.number, "messages", posted.pk, "edit")
    assert (
        login(admin).post(edit_url, {"body": "Hijack", "seen": services.body_version("Helo")}).status_code
        == 404
    )
    Message.objects.filter(pk=posted.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    client = login(agent)
    page = client.get(edit_url)
    assert services.EDIT_WINDOW_PASSED.encode() in page.content.replace(b"&#x27;", b"'")
    response = client.post(edit_url, {"body": "Hello", "seen": services.body_version("Helo")})
    assert response.status_code == 400
    posted.refresh_from_db()
    assert posted.body == "Helo"
    assert b">Edit<" not in client.get(url(workspace, "", ticket.number)).content


def test_a_requester_cannot_open_the_edit_page_of_a_note(workspace, ticket, agent, requester, login):
    posted = note(ticket, agent)
    response = login(requester).get(url(workspace, "", ticket.number, "messages", posted.pk, "edit"))
    assert response.status_code == 404


# Query counts -------------------------------------------------------------------------------


def _ticket_with_messages(requester, queue, agent, n):
    ticket = new_ticket(requester, queue)
    for index in range(n):
        reply(ticket, agent, body=f"Reply {index}")
        note(ticket, agent, body=f"Note {index}")
    return ticket


@pytest.mark.parametrize("role", ["agent", "requester", "admin"])
def test_ticket_page_query_count_does_not_grow_with_messages(
    workspace, queue, agent, requester, admin, role, login, django_assert_max_num_queries
):
    viewer = {"agent": agent, "requester": requester, "admin": admin}[role]
    small = _ticket_with_messages(requester, queue, agent, 2)
    big = _ticket_with_messages(requester, queue, agent, 25)
    for index in range(5):
        ParticipantFactory(ticket=big, user=make_member(workspace, Role.REQUESTER).user)
    client = login(viewer)
    client.get(url(workspace, "", small.number))  # warm up (audit chain head, sessions)
    client.get(url(workspace, "", big.number))
    # 17: the merged features each add one fixed query (read marker, failing address, outbound
    # failures, inbound email of the shown messages); what matters is that it does not grow.
    # Staff (issue 13): +2 for the ticket's tags and the custom fields with their values, +1 for the
    # reply box's list of macros; requesters +1 for the fields they may see. Staff -3: the whole
    # emails come with the messages, and the workspace's queues and macros from the cache
    # (tickets.workspace_cache). -1: the header's workspaces come with the access check
    # (workspaces.access.memberships_with_current).
    with django_assert_max_num_queries(15 if role != "requester" else 16) as small_queries:
        assert client.get(url(workspace, "", small.number)).status_code == 200
    with django_assert_max_num_queries(len(small_queries)) as big_queries:
        assert client.get(url(workspace, "", big.number)).status_code == 200
    assert len(big_queries) == len(small_queries)
