"""Emails about tickets, as a mail server receives them (a real SMTP server on loopback):
who they come from, where replies go, how they thread, what they carry and never carry."""

from email.utils import parseaddr

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import ParticipantFactory
from tests.mail_support import parts
from tests.tickets.ticket_helpers import new_ticket, note, reply
from tickets import notifications
from tickets.mail.addresses import parse_reply_address, ticket_ids_in_references
from tickets.mail.models import Mailbox, OutboundEmail, OutboundStatus
from tickets.mail.outgoing import message_id_hash
from workspaces.models import Role


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def mailbox(workspace, queue):
    return Mailbox.objects.create(workspace=workspace, address="Support@Acme.test", queue=queue)


def test_a_reply_comes_from_the_workspace_and_answers_go_to_the_ticket(
    workspace, queue, mailbox, agent, requester, after_commit, smtp_server
):
    ticket = new_ticket(requester, queue, subject="Printer on fire")
    with after_commit():
        reply(ticket, agent, body="We are **on it**.")
    [message] = smtp_server.to(requester.user.email)
    assert message.get_content_type() == "multipart/alternative"
    content = parts(message)
    assert set(content) == {"text/plain", "text/html"}
    assert "We are **on it**." in content["text/plain"]
    assert "<strong>on it</strong>" in content["text/html"]
    assert parseaddr(message["From"]) == ("Acme", "support@acme.test")
    assert message["To"] == requester.user.email
    reply_to = parse_reply_address(message["Reply-To"])
    assert (reply_to.ticket_id, reply_to.user_id) == (ticket.pk, requester.user.pk)
    assert ticket_ids_in_references(message["Message-ID"]) == [ticket.pk]
    assert message["Subject"] == f"Re: [#{ticket.number}] Printer on fire"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] is None
    # Replying by email works, so the email says so; the link stays.
    assert "Reply to this email" in content["text/plain"]
    assert f"/w/acme/tickets/{ticket.number}/" in content["text/plain"]


def test_emails_about_one_ticket_to_one_person_thread(
    queue, mailbox, agent, requester, after_commit, smtp_server
):
    ticket = new_ticket(requester, queue)
    for text in ("First", "Second", "Third"):
        with after_commit():
            reply(ticket, agent, body=text)
    first, second, third = smtp_server.to(requester.user.email)
    ids = [m["Message-ID"] for m in (first, second, third)]
    assert len(set(ids)) == 3
    assert second["In-Reply-To"] == ids[0]
    assert second["References"] == ids[0]
    assert third["In-Reply-To"] == ids[1]
    assert third["References"].split() == ids[:2]
    stored = OutboundEmail.objects.filter(ticket=ticket, recipient=requester.user).order_by("pk")
    assert [e.email_message_id for e in stored] == ids
    assert {e.status for e in stored} == {OutboundStatus.SENT}
    assert all(e.sent_at and e.attempts == 1 for e in stored)


def test_another_persons_emails_are_a_thread_of_their_own(
    workspace, queue, mailbox, agent, requester, after_commit, smtp_server
):
    ticket = new_ticket(requester, queue)
    colleague = make_member(workspace, Role.REQUESTER)
    with after_commit():
        reply(ticket, agent, body="One")
    ParticipantFactory(ticket=ticket, user=colleague.user)
    with after_commit():
        reply(ticket, agent, body="Two")
    [to_colleague] = smtp_server.to(colleague.user.email)
    assert to_colleague["In-Reply-To"] is None
    assert parse_reply_address(to_colleague["Reply-To"]).user_id == colleague.user.pk


def test_without_a_queue_mailbox_the_workspaces_first_one_is_used(
    workspace, queue, other_queue, agent, requester, after_commit, smtp_server
):
    Mailbox.objects.create(workspace=workspace, address="billing@acme.test", queue=other_queue)
    Mailbox.objects.create(workspace=workspace, address="another@acme.test", queue=other_queue)
    ticket = new_ticket(requester, queue)
    with after_commit():
        reply(ticket, agent, body="Hi")
    [message] = smtp_server.messages
    assert parseaddr(message["From"]) == ("Acme", "billing@acme.test")
    assert parse_reply_address(message["Reply-To"]).mailbox_address == "billing@acme.test"


def test_without_any_mailbox_the_email_comes_from_the_default_and_only_offers_the_link(
    settings, workspace, queue, agent, requester, after_commit, smtp_server
):
    settings.DEFAULT_FROM_EMAIL = "helpdesk@example.test"
    workspace.name = 'Acme, "Ünited"'
    workspace.save()
    ticket = new_ticket(requester, queue)
    with after_commit():
        reply(ticket, agent, body="Hi")
    [message] = smtp_server.messages
    assert parseaddr(str(message["From"])) == ('Acme, "Ünited"', "helpdesk@example.test")
    assert message["Reply-To"] is None
    assert ticket_ids_in_references(message["Message-ID"]) == [ticket.pk]
    text = parts(message)["text/plain"]
    assert "Reply to this email" not in text
    assert f"/w/acme/tickets/{ticket.number}/" in text


def test_every_kind_of_ticket_email_names_the_ticket_number_in_its_subject(
    queue, mailbox, admin, agent, requester, after_commit, smtp_server
):
    from tickets import services
    from tickets.models import Status

    with after_commit():
        ticket = new_ticket(requester, queue, subject="Chair")
    with after_commit():
        reply(ticket, agent, body="On it")
    with after_commit():
        services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent.user)
    with after_commit():
        services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    subjects = [m["Subject"] for m in smtp_server.messages]
    assert len(subjects) == 5  # new ticket to agent and admin, reply, status, assignment
    assert all(f"[#{ticket.number}]" in subject for subject in subjects)
    assert all(m["Auto-Submitted"] == "auto-generated" for m in smtp_server.messages)


def test_times_are_in_the_recipients_zone(queue, mailbox, agent, requester, after_commit, smtp_server):
    requester.user.time_zone = "Asia/Tokyo"
    requester.user.save()
    ticket = new_ticket(requester, queue)
    with after_commit():
        posted = reply(ticket, agent, body="Hi")
    [message] = smtp_server.messages
    text = parts(message)["text/plain"]
    from zoneinfo import ZoneInfo

    local = posted.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{local:%H:%M} JST" in text


def test_the_acknowledgement_is_an_auto_reply(queue, mailbox, requester, after_commit, smtp_server):
    ticket = new_ticket(requester, queue, subject="Lost badge")
    with after_commit():
        assert notifications.send_acknowledgement(ticket, requester.user) == 1
    [message] = smtp_server.to(requester.user.email)
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["Subject"] == f"[#{ticket.number}] We received your request: Lost badge"
    assert parse_reply_address(message["Reply-To"]).ticket_id == ticket.pk
    assert "reply to this email" in parts(message)["text/plain"]


def test_files_of_a_public_reply_go_as_links_and_files_of_notes_never(
    workspace, queue, mailbox, agent, requester, after_commit, smtp_server
):
    ticket = new_ticket(requester, queue)
    # The requester replied to all and copied a colleague in: the colleague is on the ticket.
    colleague = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=colleague.user)
    with after_commit():
        note(
            ticket,
            agent,
            body="Internal: the supplier is late",
            attachments=[SimpleUploadedFile("supplier-contract.pdf", b"%PDF-1.4 secret", "application/pdf")],
        )
    assert smtp_server.messages == []
    with after_commit():
        posted = reply(
            ticket,
            agent,
            body="Here is the manual.",
            attachments=[SimpleUploadedFile("manual.pdf", b"%PDF-1.4 manual", "application/pdf")],
        )
    assert sorted(r for _, rcpts in smtp_server.envelopes for r in rcpts) == sorted(
        [requester.user.email, colleague.user.email]
    )
    [manual] = posted.attachments.all()
    for message in smtp_server.messages:
        assert [p for p in message.walk() if p.get_content_disposition() == "attachment"] == []
        raw = message.as_string()
        assert "supplier" not in raw.lower() and "Internal" not in raw
        content = parts(message)
        link = f"/w/acme/tickets/{ticket.number}/attachments/{manual.pk}/"
        assert "manual.pdf" in content["text/plain"] and link in content["text/plain"]
        assert f'href="http://127.0.0.1:8000{link}"' in content["text/html"] or link in content["text/html"]


def test_every_email_is_audited_without_address_or_text(
    queue, mailbox, agent, requester, after_commit, smtp_server
):
    ticket = new_ticket(requester, queue, subject="Secret subject")
    with after_commit():
        reply(ticket, agent, body="Secret body")
    [email] = OutboundEmail.objects.filter(recipient=requester.user)
    [event] = AuditEvent.objects.filter(action="email.sent")
    assert event.workspace_id == ticket.workspace_id
    assert event.detail == {
        "number": ticket.number,
        "kind": "reply",
        "recipient_id": requester.user.pk,
        "message_id_hash": message_id_hash(email.email_message_id),
        "attempts": 1,
    }
    flat = str(event.detail) + event.target_id + event.target_type
    assert requester.user.email not in flat and "Secret" not in flat and email.email_message_id not in flat


def test_a_delivery_runs_once_even_if_the_task_arrives_twice(
    queue, mailbox, agent, requester, after_commit, smtp_server
):
    ticket = new_ticket(requester, queue)
    with after_commit():
        reply(ticket, agent, body="Once")
    [email] = OutboundEmail.objects.filter(recipient=requester.user)
    assert notifications.deliver_email(email_id=email.pk) == OutboundStatus.SKIPPED
    assert len(smtp_server.messages) == 1


def test_acknowledgements_are_limited_against_mail_loops(
    queue, mailbox, requester, after_commit, smtp_server
):
    tickets = [new_ticket(requester, queue, subject=f"Request {n}") for n in range(5)]
    with after_commit():
        assert notifications.send_acknowledgement(tickets[0], requester.user) == 1
        assert notifications.send_acknowledgement(tickets[0], requester.user) == 0  # once per ticket
        sent = [notifications.send_acknowledgement(ticket, requester.user) for ticket in tickets[1:]]
    assert sent == [1, 1, 0, 0]  # at most three a day to one person
    assert len(smtp_server.to(requester.user.email)) == 3
