"""Issue #17: emails follow the work (who answers a reply hears of it) and the status follows the
conversation (first agent reply opens, a requester's reply reopens, "Send and set ...")."""

import pytest
from django.core.exceptions import ValidationError

from privacy.account.profile import preferences_update
from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import ParticipantFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply, url
from tickets import services
from tickets.models import Message, Status
from workspaces.models import Role


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def recipients(outbox):
    return sorted(address for message in outbox for address in message.to)


def status_changes(ticket):
    return [
        (e.detail["from"], e.detail["to"], e.detail.get("reason"))
        for e in AuditEvent.objects.filter(action="ticket.status_changed", target_id=str(ticket.pk)).order_by(
            "seq"
        )
    ]


# Who hears a reply --------------------------------------------------------------------------


def test_a_requester_reply_on_an_assigned_ticket_emails_the_assignee_only(
    workspace, queue, admin, agent, requester, after_commit, mailoutbox
):
    other_agent = agent_of(workspace, queue)
    ticket = new_ticket(requester, queue, subject="Broken chair")
    services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    with after_commit():
        reply(ticket, requester, body="Still broken")
    assert recipients(mailoutbox) == [agent.user.email]
    [message] = mailoutbox
    assert message.subject == "Re: [#1] Broken chair"
    assert "Still broken" in message.body
    assert other_agent.user.email not in recipients(mailoutbox)


def test_a_requester_reply_on_an_unassigned_ticket_emails_the_queues_agents_not_admins(
    workspace, queue, other_queue, admin, agent, requester, after_commit, mailoutbox
):
    second = agent_of(workspace, queue)
    agent_of(workspace, other_queue)  # works Billing only
    ticket = new_ticket(requester, queue)
    with after_commit():
        reply(ticket, requester, body="Any news?")
    assert recipients(mailoutbox) == sorted([agent.user.email, second.user.email])
    assert all(len(m.to) == 1 for m in mailoutbox)


def test_a_reply_in_a_queue_nobody_works_reaches_the_admins(
    workspace, other_queue, admin, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, other_queue)
    with after_commit():
        reply(ticket, requester, body="Hello?")
    assert recipients(mailoutbox) == [admin.user.email]


def test_an_assignee_who_turned_reply_emails_off_gets_none(
    workspace, queue, admin, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    preferences_update(user=agent.user, values={"email_on_reply": False})
    with after_commit():
        reply(ticket, requester, body="Ping")
    assert mailoutbox == []
    preferences_update(user=agent.user, values={"email_on_reply": True})
    with after_commit():
        reply(ticket, requester, body="Ping again")
    assert recipients(mailoutbox) == [agent.user.email]


def test_an_agent_reply_reaches_the_requester_and_participants_never_other_staff(
    workspace, queue, admin, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    colleague = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=colleague.user)
    services.ticket_assign(ticket=ticket, assignee=admin.user, actor=admin.user)
    with after_commit():
        reply(ticket, agent, body="Fixed")
    assert recipients(mailoutbox) == sorted([requester.user.email, colleague.user.email])


def test_an_internal_note_emails_nobody(queue, admin, agent, requester, after_commit, mailoutbox):
    ticket = new_ticket(requester, queue)
    services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    with after_commit():
        note(ticket, admin, body="Internal: watch this one")
    assert mailoutbox == []


def test_assignment_emails_the_new_assignee_who_can_opt_out(
    queue, admin, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue, subject="Printer")
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    assert recipients(mailoutbox) == [agent.user.email]
    assert "assigned to you" in mailoutbox[0].subject.lower()
    mailoutbox.clear()
    preferences_update(user=admin.user, values={"email_on_assignment": False})
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=admin.user, actor=agent.user)
    assert mailoutbox == []


# The status follows the conversation ---------------------------------------------------------


def test_the_first_public_agent_reply_opens_a_new_ticket_and_a_note_does_not(queue, agent, requester):
    ticket = new_ticket(requester, queue)
    note(ticket, agent)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    reply(ticket, agent)
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert status_changes(ticket) == [("new", "open", "reply")]


def test_a_requester_reply_does_not_open_a_new_ticket(queue, requester):
    ticket = new_ticket(requester, queue)
    reply(ticket, requester, body="More details")
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


@pytest.mark.parametrize("status", [Status.PENDING, Status.SOLVED])
def test_a_requester_reply_on_pending_or_solved_reopens(queue, agent, requester, status):
    ticket = new_ticket(requester, queue)
    services.ticket_set_status(ticket=ticket, status=status, actor=agent.user)
    reply(ticket, requester, body="Here is the info")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert status_changes(ticket)[-1] == (status, "open", "reply")


def test_send_and_set_solved_replies_and_solves_in_one_submit_with_one_email(
    workspace, queue, agent, requester, login, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue, subject="Wifi")
    client = login(agent)
    page = client.get(url(workspace, "", ticket.number))
    assert b"Send and set Pending" in page.content and b"Send and set Solved" in page.content
    with after_commit():
        response = client.post(
            url(workspace, "", ticket.number), {"body": "Restarted the router.", "kind": "reply+solved"}
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    message = Message.objects.get(ticket=ticket, body="Restarted the router.")
    assert message.kind == "reply"
    assert status_changes(ticket) == [("new", "solved", "reply")]
    assert AuditEvent.objects.filter(action="reply.created", target_id=str(message.pk)).exists()
    # One email for the requester: the reply, saying the ticket is now solved.
    assert recipients(mailoutbox) == [requester.user.email]
    assert "The ticket is solved." in mailoutbox[0].body
    followed = client.get(response["Location"])
    assert "Your reply was posted and the ticket is now Solved." in followed.content.decode()


def test_send_and_set_pending(workspace, queue, agent, requester, login):
    ticket = new_ticket(requester, queue)
    login(agent).post(
        url(workspace, "", ticket.number), {"body": "Can you send a photo?", "kind": "reply+pending"}
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING


def test_a_requester_cannot_set_a_status_with_their_reply(workspace, queue, requester, login):
    ticket = new_ticket(requester, queue)
    login(requester).post(url(workspace, "", ticket.number), {"body": "Done?", "kind": "reply+solved"})
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW  # the kind field is not theirs: a plain reply
    with pytest.raises(ValidationError):
        services.message_post(
            ticket=ticket, author=requester.user, kind="reply", body="x", then_status=Status.SOLVED
        )


def test_a_refused_status_leaves_no_message_behind(queue, agent, requester):
    ticket = new_ticket(requester, queue)
    with pytest.raises(ValidationError):
        services.message_post(
            ticket=ticket, author=agent.user, kind="note", body="x", then_status=Status.SOLVED
        )
    with pytest.raises(ValidationError):
        services.message_post(
            ticket=ticket, author=agent.user, kind="reply", body="x", then_status=Status.CLOSED
        )
    assert Message.objects.filter(ticket=ticket).count() == 1
