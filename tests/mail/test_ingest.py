"""Inbound email: a message becomes a ticket, a reply, a held request or a recorded refusal."""

import pytest
from django.core import mail
from django.core.management import call_command

from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.mail.support import corpus, email_bytes, make_mailbox
from tickets.mail import ingest
from tickets.mail.addresses import new_message_id, reply_address
from tickets.mail.ingest import ingest_email
from tickets.mail.models import InboundEmail, Outcome, UnknownReply
from tickets.models import Attachment, Message, Ticket
from workspaces.intake_models import HelpRequest
from workspaces.models import Intake, Role, User


@pytest.fixture
def mailbox(workspace, queue):
    return make_mailbox(workspace, queue)


@pytest.fixture
def ann(workspace):
    return make_member(workspace, Role.REQUESTER, email="ann@example.com", display_name="Ann")


@pytest.fixture
def ben(workspace):
    return make_member(workspace, Role.REQUESTER, email="ben@example.com", display_name="Ben")


def test_a_members_email_opens_a_ticket_in_the_mailboxs_queue(mailbox, ben, queue):
    row = ingest_email(mailbox=mailbox, raw=corpus("gmail.eml"))
    assert row.outcome == Outcome.TICKET_CREATED
    ticket = Ticket.objects.get(pk=row.ticket_id)
    assert ticket.subject == "Cannot log in to the portal"
    assert ticket.requester == ben.user and ticket.queue == queue
    first = ticket.messages.get()
    assert first.author == ben.user
    assert "invalid session" in first.body and "– even after clearing cookies" in first.body
    assert row.message == first
    event = AuditEvent.objects.get(action="mail.received")
    assert event.detail == {
        "mailbox_id": mailbox.pk,
        "outcome": "ticket_created",
        "reason": "",
        "number": ticket.number,
    }
    assert "ben@example.com" not in str(event.detail) and "portal" not in str(event.detail)


def test_the_same_message_twice_is_processed_once(mailbox, ben):
    first = ingest_email(mailbox=mailbox, raw=corpus("gmail.eml"))
    again = ingest_email(mailbox=mailbox, raw=corpus("gmail.eml"))
    assert again.pk == first.pk and again.duplicate
    assert Ticket.objects.count() == 1 and InboundEmail.objects.count() == 1


def test_html_only_mail_is_sanitised_and_turned_into_text(mailbox, ben):
    raw = corpus("gmail.eml").replace(
        b'Content-Type: text/plain; charset="UTF-8"', b'Content-Type: text/x-ignored; charset="UTF-8"'
    )
    row = ingest_email(mailbox=mailbox, raw=raw)
    body = row.message.body
    assert "invalid session" in body and "Thanks," in body
    assert "<script>" not in body and "alert(1)" not in body and "<div" not in body


def test_an_outlook_reply_is_trimmed_for_display_and_kept_whole_for_staff(mailbox, ann):
    row = ingest_email(mailbox=mailbox, raw=corpus("outlook.eml"))
    body = row.message.body
    assert body.startswith("The printer still shows error E-42")
    assert "Please restart the printer" not in body
    assert "Please restart the printer" in row.full_text


def test_a_reply_to_the_signed_reply_address_lands_in_its_ticket(mailbox, ann, ticket):
    ticket.requester = ann.user
    ticket.save()
    raw = email_bytes(
        sender="ann@example.com",
        to=reply_address(mailbox.address, ticket.pk, ann.user.pk),
        body="Thanks, works now.",
    )
    row = ingest_email(mailbox=mailbox, raw=raw)
    assert row.outcome == Outcome.REPLY_ADDED and row.ticket == ticket
    assert ticket.messages.last().body == "Thanks, works now."


def test_a_reply_found_by_references_lands_in_its_ticket(mailbox, ann, ticket):
    ticket.requester = ann.user
    ticket.save()
    ours = new_message_id(mailbox.address, ticket.pk, 1)
    raw = email_bytes(
        sender="ann@example.com", subject="Re: something", headers={"In-Reply-To": ours, "References": ours}
    )
    assert ingest_email(mailbox=mailbox, raw=raw).ticket == ticket


def test_a_subject_number_threads_only_for_the_tickets_people(mailbox, ann, ben, ticket):
    ticket.requester = ann.user
    ticket.save()
    mine = ingest_email(
        mailbox=mailbox, raw=email_bytes(sender="ann@example.com", subject=f"Re: [#{ticket.number}] x")
    )
    assert mine.outcome == Outcome.REPLY_ADDED and mine.ticket == ticket
    stranger = ingest_email(
        mailbox=mailbox, raw=email_bytes(sender="ben@example.com", subject=f"Re: [#{ticket.number}] x")
    )
    assert stranger.outcome == Outcome.TICKET_CREATED and stranger.ticket != ticket
    assert not ticket.messages.filter(author=ben.user).exists()


def test_a_stranger_using_a_tickets_reply_address_never_lands_in_it(mailbox, ann, ben, ticket):
    token = reply_address(mailbox.address, ticket.pk, ann.user.pk)
    row = ingest_email(mailbox=mailbox, raw=email_bytes(sender="ben@example.com", to=token))
    assert row.outcome == Outcome.TICKET_CREATED and row.ticket != ticket
    mailbox.unknown_reply = UnknownReply.REFUSE
    mailbox.save()
    refused = ingest_email(mailbox=mailbox, raw=email_bytes(sender="ben@example.com", to=token))
    assert refused.outcome == Outcome.REJECTED and refused.reason == ingest.NOT_PARTICIPANT
    assert not ticket.messages.filter(author=ben.user).exists()


def test_a_staff_members_email_reply_is_a_public_reply(mailbox, agent, ticket):
    raw = email_bytes(
        sender=agent.user.email, to=reply_address(mailbox.address, ticket.pk, agent.user.pk), body="On it."
    )
    row = ingest_email(mailbox=mailbox, raw=raw)
    assert row.outcome == Outcome.REPLY_ADDED
    message = Message.objects.get(pk=row.message_id)
    assert message.kind == "reply" and message.author == agent.user
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_a_message_without_from_is_refused_with_the_reason(mailbox):
    row = ingest_email(mailbox=mailbox, raw=corpus("no_from.eml"))
    assert row.outcome == Outcome.REJECTED and row.reason_code == "no_from"
    assert row.reason.startswith("No From address")
    assert not Ticket.objects.exists()
    assert row.raw.name  # kept (for its retention period) so staff can look into it


def test_an_unknown_sender_is_refused_when_the_workspace_takes_invited_people_only(mailbox, workspace):
    assert workspace.intake == Intake.INVITED
    row = ingest_email(mailbox=mailbox, raw=email_bytes(sender="zed@nowhere.example"))
    assert row.outcome == Outcome.REJECTED and row.reason == ingest.INTAKE_CLOSED
    assert row.sender_address == "zed@nowhere.example"
    assert not User.objects.filter(email="zed@nowhere.example").exists()


def test_an_unknown_sender_is_held_until_they_confirm_on_a_public_workspace(
    mailbox, workspace, client, django_capture_on_commit_callbacks
):
    workspace.intake = Intake.PUBLIC
    workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest_email(
            mailbox=mailbox,
            raw=email_bytes(sender="Zed <zed@nowhere.example>", subject="Need help", body="My words"),
        )
    assert row.outcome == Outcome.HELD and not Ticket.objects.exists()
    zed = User.objects.get(email="zed@nowhere.example")
    assert zed.is_pending_signup and not zed.has_usable_password()
    assert HelpRequest.objects.get(user=zed).description == "My words"
    (confirmation,) = mail.outbox
    assert confirmation.to == ["zed@nowhere.example"]
    link = next(line for line in confirmation.body.splitlines() if "/reset/" in line).strip()
    path = link.split("testserver", 1)[-1] if "testserver" in link else link[link.index("/", 8) :]
    response = client.get(path, follow=True)
    form_url = response.redirect_chain[-1][0]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            form_url, {"new_password1": "a-Long-new-passw0rd!", "new_password2": "a-Long-new-passw0rd!"}
        )
    zed.refresh_from_db()
    assert zed.is_active and zed.email_confirmed_at is not None
    ticket = Ticket.objects.get(requester=zed)
    assert ticket.subject == "Need help" and ticket.messages.get().body == "My words"


def test_no_confirmation_is_sent_to_automated_mail(mailbox, workspace, django_capture_on_commit_callbacks):
    workspace.intake = Intake.PUBLIC
    workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        row = ingest_email(
            mailbox=mailbox,
            raw=email_bytes(
                sender="news@list.example", headers={"Precedence": "bulk", "List-Id": "<news.list.example>"}
            ),
        )
    assert row.outcome == Outcome.HELD
    assert mail.outbox == []


def test_an_unknown_sender_of_a_domain_not_listed_is_refused(mailbox, workspace):
    workspace.intake, workspace.intake_domains = Intake.PUBLIC, "example.org"
    workspace.save()
    row = ingest_email(mailbox=mailbox, raw=email_bytes(sender="zed@nowhere.example"))
    assert row.outcome == Outcome.REJECTED and row.reason == ingest.DOMAIN_REFUSED


def test_a_confirmed_account_joins_as_requester_when_sign_up_is_open(mailbox, workspace):
    workspace.intake = Intake.SIGNUP
    workspace.save()
    person = User.objects.create_user(email="walk@in.example", password="x-Very-long-pass1")
    row = ingest_email(mailbox=mailbox, raw=email_bytes(sender="walk@in.example"))
    assert row.outcome == Outcome.TICKET_CREATED and row.ticket.requester == person
    unknown = ingest_email(mailbox=mailbox, raw=email_bytes(sender="nobody@in.example"))
    assert unknown.outcome == Outcome.REJECTED and unknown.reason == ingest.SIGNUP_REQUIRED


def test_mail_from_our_own_address_is_refused_as_a_loop(mailbox):
    row = ingest_email(mailbox=mailbox, raw=email_bytes(sender="support+r-1-2-0123456789abcdef@acme.test"))
    assert row.outcome == Outcome.REJECTED and row.reason_code == "own_address"


def test_an_out_of_office_reply_is_not_added(mailbox, ann, ticket):
    row = ingest_email(mailbox=mailbox, raw=corpus("auto_reply.eml"))
    assert row.outcome == Outcome.REJECTED and row.reason == ingest.OUT_OF_OFFICE
    assert Message.objects.count() == 1


def test_a_sender_over_the_rate_limit_is_refused(mailbox, ben, settings, ratelimit_clock):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "inbound_email": {"address": (2, 3600)}}
    outcomes = [
        ingest_email(mailbox=mailbox, raw=email_bytes(sender="ben@example.com")).outcome for _ in range(3)
    ]
    assert outcomes == [Outcome.TICKET_CREATED, Outcome.TICKET_CREATED, Outcome.REJECTED]
    assert InboundEmail.objects.filter(reason_code="rate_limited").count() == 1


def test_inline_images_are_kept_and_programs_refused_like_browser_uploads(mailbox, workspace):
    make_member(workspace, Role.REQUESTER, email="cleo@example.com")
    row = ingest_email(mailbox=mailbox, raw=corpus("apple_mail.eml"))
    assert row.outcome == Outcome.TICKET_CREATED
    (kept,) = Attachment.objects.filter(ticket=row.ticket)
    assert kept.original_name == "screenshot.png" and kept.content_type == "image/png"
    assert "Attachment not kept" in row.message.body and "setup.exe" in row.message.body
    assert row.reason_code == "attachments_refused"
    # "Sent from my iPhone" is a signature: trimmed for display.
    assert row.message.body.startswith("Here is a screenshot of what I see.\n\n[Attachment not kept")


def test_a_forwarded_thread_keeps_what_was_forwarded(mailbox, ben):
    row = ingest_email(mailbox=mailbox, raw=corpus("forwarded.eml"))
    assert "The invoice charges 12 seats" in row.message.body
    assert row.ticket.subject == "Fwd: Invoice 2024-117 is wrong"


def test_broken_mime_still_gives_what_can_be_read(mailbox, ben):
    row = ingest_email(mailbox=mailbox, raw=corpus("broken_mime.eml"))
    assert row.outcome == Outcome.TICKET_CREATED
    assert "boundary of this message is never closed" in row.message.body


def test_an_iso_8859_1_subject_and_body_are_decoded(mailbox, ben):
    row = ingest_email(mailbox=mailbox, raw=corpus("iso_8859_1.eml"))
    assert row.ticket.subject == "Prüfung der Gebühren"
    assert row.message.body == "Die Gebühren für März sind doppelt abgebucht."


def test_a_calendar_invite_becomes_a_ticket_with_the_invite_attached(mailbox, ben):
    row = ingest_email(mailbox=mailbox, raw=corpus("calendar_invite.eml"))
    assert row.outcome == Outcome.TICKET_CREATED
    assert "invited to the Onboarding call" in row.message.body
    names = sorted(Attachment.objects.filter(ticket=row.ticket).values_list("original_name", flat=True))
    assert "invite.ics" in names


def test_a_20_mb_attachment_is_stored_and_one_over_the_limit_is_refused(mailbox, ben, settings):
    big = b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024)
    row = ingest_email(
        mailbox=mailbox,
        raw=email_bytes(sender="ben@example.com", attachments=[("report.pdf", "application", "pdf", big)]),
    )
    (stored,) = Attachment.objects.filter(ticket=row.ticket)
    assert stored.size == len(big)
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    refused = ingest_email(
        mailbox=mailbox,
        raw=email_bytes(sender="ben@example.com", attachments=[("report.pdf", "application", "pdf", big)]),
    )
    assert refused.outcome == Outcome.TICKET_CREATED
    assert not Attachment.objects.filter(ticket=refused.ticket).exists()
    assert "is too large" in refused.message.body


def test_the_command_turns_a_message_into_a_ticket(mailbox, ben, monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(corpus("gmail.eml"))))
    call_command("ingest_email", "--mailbox", "SUPPORT@acme.test")
    assert "New ticket #1" in capsys.readouterr().out
    assert Ticket.objects.get().subject == "Cannot log in to the portal"


def test_a_new_ticket_by_email_is_acknowledged_but_never_to_automated_mail(mailbox, ben):
    from tickets.mail.models import OutboundEmail

    human = ingest_email(mailbox=mailbox, raw=corpus("gmail.eml"))
    (ack,) = OutboundEmail.objects.filter(kind="acknowledgement")
    assert ack.ticket_id == human.ticket_id and ack.recipient == ben.user
    robot = ingest_email(
        mailbox=mailbox,
        raw=email_bytes(sender="ben@example.com", headers={"Auto-Submitted": "auto-generated"}),
    )
    assert robot.outcome == Outcome.TICKET_CREATED
    assert not OutboundEmail.objects.filter(kind="acknowledgement", ticket_id=robot.ticket_id).exists()
