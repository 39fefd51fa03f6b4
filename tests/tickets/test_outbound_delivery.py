"""Delivery of ticket emails through a real SMTP server: retries, permanent failures shown to
staff, addresses that fail, and a ticket change that survives a mail server that is down."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.tickets.ticket_helpers import new_ticket, reply, url
from tickets import notifications
from tickets.mail.failing import address_clear_failing, address_is_failing
from tickets.mail.models import Mailbox, OutboundEmail, OutboundStatus
from tickets.models import Message


def text_of(response) -> str:
    """The page's text as a person reads it (tags removed, spaces collapsed)."""
    return (
        " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())
        .replace(" .", ".")
        .replace(" :", ":")
    )


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def mailbox(workspace, queue):
    return Mailbox.objects.create(workspace=workspace, address="support@acme.test", queue=queue)


def test_a_busy_server_is_tried_again_until_it_accepts(
    queue, mailbox, agent, requester, after_commit, smtp_server
):
    smtp_server.answer("DATA", "421 Try again later", "421 Still busy")
    ticket = new_ticket(requester, queue)
    with after_commit():
        reply(ticket, agent, body="Third time lucky")
    [message] = smtp_server.messages
    assert "Third time lucky" in message.as_string()
    [email] = OutboundEmail.objects.filter(recipient=requester.user)
    assert (email.status, email.attempts, email.error) == (OutboundStatus.SENT, 3, "")
    assert smtp_server.commands.count("DATA") == 3
    assert AuditEvent.objects.filter(action="email.sent").count() == 1


def test_a_refused_address_is_failed_shown_to_staff_and_not_written_to_again(
    client, workspace, queue, mailbox, admin, agent, requester, after_commit, smtp_server
):
    smtp_server.answer("RCPT", "550 5.1.1 No such user here")
    ticket = new_ticket(requester, queue)
    with after_commit():
        reply(ticket, agent, body="Hello?")
    assert smtp_server.messages == []
    [email] = OutboundEmail.objects.filter(recipient=requester.user)
    assert (email.status, email.attempts, email.error) == (OutboundStatus.FAILED, 1, "smtp_550")
    [event] = AuditEvent.objects.filter(action="email.failed")
    assert event.detail["error"] == "smtp_550" and event.detail["recipient_id"] == requester.user.pk
    assert address_is_failing(requester.user.email)

    client.force_login(agent.user)
    page = text_of(client.get(url(workspace, number=ticket.number)))
    assert f"Email to {requester.user.display_name} failed: the mail server refused it (550)." in page
    client.force_login(requester.user)
    page = text_of(client.get(url(workspace, number=ticket.number)))
    # (The page's script texts name a passkey "failed"; the staff panel's words must be absent.)
    assert "Email to" not in page and "not delivered" not in page

    # The next email to that address is not attempted at all.
    commands = len(smtp_server.commands)
    with after_commit():
        reply(ticket, agent, body="Anyone?")
    assert len(smtp_server.commands) == commands
    latest = OutboundEmail.objects.filter(recipient=requester.user).latest("pk")
    assert (latest.status, latest.error) == (OutboundStatus.FAILED, "address_failing")

    # Once the address is cleared (inbound mail from it, a new address), mail goes out again.
    address_clear_failing(requester.user.email)
    with after_commit():
        reply(ticket, agent, body="Back?")
    assert len(smtp_server.to(requester.user.email)) == 1
    client.force_login(agent.user)
    assert "not delivered" not in text_of(client.get(url(workspace, number=ticket.number)))


def test_a_ticket_with_no_failed_email_asks_nothing_more_and_shows_no_panel(
    client, workspace, queue, agent, requester
):
    """Whether any email about the ticket failed comes with the ticket's own statement: the
    list of failures is read only when one did (the test above shows that case)."""
    ticket = new_ticket(requester, queue)
    client.force_login(agent.user)
    with CaptureQueriesContext(connection) as queries:
        page = text_of(client.get(url(workspace, number=ticket.number)))
    assert not [q["sql"] for q in queries if q["sql"].startswith('SELECT "tickets_outboundemail"')]
    assert "not delivered" not in page


def test_a_mail_server_that_is_down_loses_no_reply(
    settings, queue, mailbox, agent, requester, after_commit, smtp_server
):
    settings.EMAIL_PORT = 9  # nothing listens there
    ticket = new_ticket(requester, queue)
    with after_commit():
        posted = reply(ticket, agent, body="Saved anyway")
    assert Message.objects.filter(pk=posted.pk, body="Saved anyway").exists()
    [email] = OutboundEmail.objects.filter(recipient=requester.user)
    # Eager (embedded default): every retry ran at once; a worker spaces them out.
    assert email.status == OutboundStatus.FAILED
    assert email.attempts == 6
    assert email.error == "ConnectionRefusedError"
    assert not address_is_failing(requester.user.email)


@pytest.mark.django_db(transaction=True)
def test_two_workers_given_the_same_email_send_it_once(workspace, queue, agent, requester, smtp_server):
    """A task delivered twice (acks_late after a worker restart) runs on two workers at once."""
    from tickets.mail.outgoing import email_record
    from tickets.models import MessageKind

    ticket = new_ticket(requester, queue)  # outside a test transaction: its emails went already
    posted = reply(ticket, agent, body="Just once", notify=False)
    assert posted.kind == MessageKind.REPLY
    email = email_record(ticket=ticket, recipient=requester.user, kind="reply", message=posted)
    outcomes = []
    run_threads(4, lambda index: outcomes.append(notifications.deliver_email(email_id=email.pk)))
    assert sorted(outcomes) == sorted([OutboundStatus.SENT] + [OutboundStatus.SKIPPED] * 3)
    assert len(smtp_server.to(requester.user.email)) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboundStatus.SENT, 1)


def test_on_a_worker_a_busy_server_is_retried_later_with_backoff(
    monkeypatch, queue, mailbox, agent, requester, smtp_server
):
    """With a broker, a transient failure asks Celery to run the task again after a delay
    (1, 2, 4... minutes), instead of trying again at once."""
    from celery.exceptions import Retry

    from tickets.mail.outgoing import email_record

    ticket = new_ticket(requester, queue)
    posted = reply(ticket, agent, body="Later", notify=False)
    email = email_record(ticket=ticket, recipient=requester.user, kind="reply", message=posted)
    task = notifications.deliver_email_task
    countdowns = []

    def retry(countdown):
        countdowns.append(countdown)
        return Retry()

    monkeypatch.setattr(task, "retry", retry)
    smtp_server.answer("DATA", "421 Busy", "451 Local error")
    for retries in (0, 1):
        task.push_request(retries=retries, is_eager=False)
        try:
            with pytest.raises(Retry):
                task.run(email.pk)
        finally:
            task.pop_request()
    assert countdowns == [60, 120]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.error) == (OutboundStatus.RETRY, 2, "smtp_451")
    assert smtp_server.messages == []
    task.push_request(retries=2, is_eager=False)
    try:
        assert task.run(email.pk) == OutboundStatus.SENT
    finally:
        task.pop_request()
    assert len(smtp_server.to(requester.user.email)) == 1
