"""Ticket emails: who gets one, one email per person, ids only in task arguments, no notes."""

import pytest

from privacy.account.profile import preferences_update
from tests.conftest import make_member
from tests.factories import ParticipantFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply
from tickets import notifications, services, tasks
from tickets.models import Status
from workspaces.models import Role


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def recipients(outbox):
    return sorted(address for message in outbox for address in message.to)


def test_a_new_ticket_emails_each_agent_of_its_queue_and_admins_once(
    workspace, queue, other_queue, admin, agent, requester, after_commit, mailoutbox
):
    agent_of(workspace, other_queue)  # works Billing only: not told about Support tickets
    idle = agent_of(workspace, queue)
    idle.user.is_active = False
    idle.user.save()
    with after_commit():
        ticket = new_ticket(requester, queue, subject="Broken chair")
    assert recipients(mailoutbox) == sorted([admin.user.email, agent.user.email])
    for message in mailoutbox:
        assert len(message.to) == 1
        assert f"/w/acme/tickets/{ticket.number}/" in message.body
        assert "Broken chair" in message.subject


def test_staff_opening_a_ticket_are_not_emailed_about_it(
    workspace, queue, admin, agent, requester, after_commit, mailoutbox
):
    with after_commit():
        services.ticket_create(
            workspace=workspace,
            queue=queue,
            requester=requester.user,
            subject="s",
            description="d",
            actor=agent.user,
        )
    assert recipients(mailoutbox) == [admin.user.email]


def test_public_replies_email_the_requester_and_participants_but_not_the_author(
    workspace, queue, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    colleague = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=colleague.user)
    with after_commit():
        reply(ticket, agent, body="We are on it.")
    assert recipients(mailoutbox) == sorted([requester.user.email, colleague.user.email])
    assert all("We are on it." in m.body for m in mailoutbox)
    mailoutbox.clear()
    with after_commit():
        reply(ticket, requester, body="Thanks")
    # A requester's reply on an unassigned ticket reaches the agents of its queue (issue #17).
    assert recipients(mailoutbox) == sorted([colleague.user.email, agent.user.email])


def test_notes_are_never_emailed(queue, agent, requester, after_commit, mailoutbox):
    ticket = new_ticket(requester, queue)
    with after_commit():
        note(ticket, agent, body="Internal only")
    assert mailoutbox == []
    # Even if a task were asked to send a note (a bug elsewhere), the recipient's view has none.
    posted = note(ticket, agent, body="Internal only, again")
    assert notifications.send_reply_posted(message_id=posted.pk) == 0
    assert mailoutbox == []


def test_status_changes_email_the_requester_unless_they_made_them(
    queue, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    with after_commit():
        services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent.user)
    assert recipients(mailoutbox) == [requester.user.email]
    assert "solved" in mailoutbox[0].subject.lower()
    mailoutbox.clear()
    with after_commit():
        services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=requester.user)
    assert mailoutbox == []


def test_assignment_emails_the_assignee_unless_they_took_it(
    queue, admin, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    assert recipients(mailoutbox) == [agent.user.email]
    assert "assigned to you" in mailoutbox[0].subject.lower()
    mailoutbox.clear()
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=admin.user, actor=admin.user)
    assert mailoutbox == []


def test_inactive_or_departed_requesters_get_nothing(
    workspace, queue, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    requester.user.is_active = False
    requester.user.save()
    with after_commit():
        reply(ticket, agent, body="Hello?")
    assert mailoutbox == []
    requester.user.is_active = True
    requester.user.save()
    requester.delete()
    with after_commit():
        reply(ticket, agent, body="Anyone?")
    assert mailoutbox == []


def test_tasks_receive_ids_only(queue, agent, requester, monkeypatch, after_commit):
    calls = []
    for name in ("send_ticket_created", "send_reply_posted", "send_status_changed", "send_ticket_assigned"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda *args, _n=name: calls.append((_n, args)))
    with after_commit():
        ticket = new_ticket(requester, queue, description="Secret description text")
        reply(ticket, agent, body="Secret reply text")
        services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent.user)
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=agent.user)
    assert [name for name, _ in calls] == [
        "send_ticket_created",
        "send_reply_posted",
        "send_status_changed",
        "send_ticket_assigned",
    ]
    for _name, args in calls:
        assert all(isinstance(arg, int) or arg is None for arg in args), args


# Preferences and rendering (through helpdesk.outbound) ------------------------------------------


def html_part(message):
    [html] = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    return html


def test_every_ticket_email_has_a_text_and_an_html_part(
    workspace, queue, admin, agent, requester, after_commit, mailoutbox
):
    with after_commit():
        ticket = new_ticket(requester, queue)
        reply(ticket, agent, body="On it")
        services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent.user)
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    subjects = " | ".join(m.subject for m in mailoutbox)
    for kind in ("[#1] New ticket", "Re: [#1] ", "is now solved", "[#1] Assigned to you"):
        assert kind in subjects
    for message in mailoutbox:
        assert message.body.strip()
        assert f"/w/acme/tickets/{ticket.number}/" in html_part(message)


def test_a_requester_who_turned_reply_emails_off_gets_none_and_others_still_do(
    workspace, queue, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    colleague = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=colleague.user)
    preferences_update(user=requester.user, values={"email_on_reply": False})
    with after_commit():
        reply(ticket, agent, body="We are on it.")
    assert recipients(mailoutbox) == [colleague.user.email]
    mailoutbox.clear()
    preferences_update(user=requester.user, values={"email_on_reply": True})
    with after_commit():
        reply(ticket, agent, body="Still on it.")
    assert recipients(mailoutbox) == sorted([requester.user.email, colleague.user.email])


def test_an_agent_who_turned_assignment_emails_off_gets_none(
    queue, admin, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    preferences_update(user=agent.user, values={"email_on_assignment": False})
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    assert mailoutbox == []
    preferences_update(user=agent.user, values={"email_on_assignment": True})
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=None, actor=admin.user)
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    assert recipients(mailoutbox) == [agent.user.email]


def test_a_reply_is_rendered_from_markdown_and_never_carries_a_script(
    queue, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue, subject="Screen <b>flickers</b> & beeps")
    body = (
        "Try **restarting** it:\n\n- unplug\n- wait\n\n"
        "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
    )
    with after_commit():
        reply(ticket, agent, body=body)
    [message] = mailoutbox
    html = html_part(message)
    assert "<strong>restarting</strong>" in html
    assert "<li>unplug</li>" in html
    # Raw HTML in a body is shown as the text it is, never as markup.
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert "Screen &lt;b&gt;flickers&lt;/b&gt; &amp; beeps" in html
    # The plain-text part shows the reply as written; the subject is not HTML-escaped.
    assert "Try **restarting** it:" in message.body
    assert message.subject.endswith("Screen <b>flickers</b> & beeps")


def test_a_note_never_reaches_a_requester_whatever_their_preferences(
    queue, agent, requester, after_commit, mailoutbox
):
    ticket = new_ticket(requester, queue)
    preferences_update(user=requester.user, values={"email_on_reply": True})
    with after_commit():
        note(ticket, agent, body="Internal: customer is difficult")
        reply(ticket, agent, body="Public answer")
    assert recipients(mailoutbox) == [requester.user.email]
    [message] = mailoutbox
    assert "Internal" not in message.body + html_part(message) + message.subject
