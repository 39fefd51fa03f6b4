"""Attachments are stored before the rows and audit events are written, so the workspace's
audit chain lock (and the ticket row lock) is never held across an upload; a failed write
removes the stored bytes again."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from privacy.audit import events
from privacy.audit.log import chain_for
from privacy.audit.models import AuditChainHead, AuditEvent
from tests.concurrency import run_threads
from tests.privacy.audit_support import run_verify
from tests.tickets import attachment_samples as samples
from tickets.models import Attachment, Message, MessageKind, Ticket
from tickets.services import message_post, ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def journal(monkeypatch, workspace):
    """What happened, in order: ("save", state at that moment) and ("audit", action)."""
    entries = []
    assert Attachment._meta.get_field("file").storage is default_storage
    default_storage.exists("warm-up")  # builds the lazy storage: patch the instance in use
    storage = default_storage._wrapped
    real_save = storage.save

    def save(name, content, *args, **kwargs):
        head = (
            AuditChainHead.objects.filter(pk=chain_for(workspace)).values_list("last_seq", flat=True).first()
        )
        entries.append(
            (
                "save",
                {
                    "head_seq": head,
                    "events": AuditEvent.objects.filter(chain=chain_for(workspace)).count(),
                    "messages": Message.objects.count(),
                    "tickets": Ticket.objects.count(),
                },
            )
        )
        return real_save(name, content, *args, **kwargs)

    real_record = events.audit_record

    def record(**kwargs):
        entries.append(("audit", kwargs["action"]))
        return real_record(**kwargs)

    monkeypatch.setattr(storage, "save", save)
    monkeypatch.setattr(events, "audit_record", record)
    return entries


def _uploads():
    return [samples.upload("a.pdf", samples.PDF), samples.upload("b.pdf", samples.PDF)]


def test_message_post_stores_files_before_any_row_or_audit_event(journal, workspace, ticket):
    journal.clear()  # the ticket fixture's own events
    before = {
        "head_seq": AuditChainHead.objects.filter(pk=chain_for(workspace))
        .values_list("last_seq", flat=True)
        .first(),
        "events": AuditEvent.objects.filter(chain=chain_for(workspace)).count(),
        "messages": Message.objects.count(),
        "tickets": Ticket.objects.count(),
    }
    message_post(
        ticket=ticket, author=ticket.requester, kind=MessageKind.REPLY, body="Hi", attachments=_uploads()
    )

    kinds = [kind for kind, _ in journal]
    assert kinds == ["save", "save", "audit", "audit", "audit"], journal
    assert [state for kind, state in journal if kind == "save"] == [before, before]
    assert [what for kind, what in journal if kind == "audit"] == [
        "reply.created",
        "attachment.uploaded",
        "attachment.uploaded",
    ]
    assert Attachment.objects.filter(message__ticket=ticket).count() == 2


def test_ticket_create_stores_files_before_the_ticket_and_its_events(journal, workspace, queue, requester):
    journal.clear()
    ticket_create(
        workspace=workspace,
        queue=queue,
        requester=requester.user,
        subject="Printer",
        description="It is on fire",
        attachments=_uploads(),
        notify=False,
    )
    kinds = [kind for kind, _ in journal]
    assert kinds[:2] == ["save", "save"] and "save" not in kinds[2:], journal
    assert all(state["tickets"] == 0 and state["events"] == 0 for kind, state in journal if kind == "save")
    assert [what for kind, what in journal if kind == "audit"] == [
        "ticket.created",
        "reply.created",
        "attachment.uploaded",
        "attachment.uploaded",
    ]


def test_a_failed_write_removes_the_files_already_stored(monkeypatch, workspace, ticket):
    def boom(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(events, "reply_created", boom)
    with pytest.raises(RuntimeError):
        message_post(
            ticket=ticket, author=ticket.requester, kind=MessageKind.REPLY, body="Hi", attachments=_uploads()
        )
    assert not Attachment.objects.exists()
    assert not Message.objects.filter(body="Hi").exists()
    folder = f"attachments/{workspace.pk}"
    assert not default_storage.exists(folder) or default_storage.listdir(folder)[1] == []


def test_a_refused_upload_stores_nothing_and_writes_nothing(workspace, ticket):
    with pytest.raises(ValidationError):
        message_post(
            ticket=ticket,
            author=ticket.requester,
            kind=MessageKind.REPLY,
            body="Hi",
            attachments=[samples.upload("a.pdf", samples.PDF), samples.upload("run.exe", b"MZ\x90\x00" * 10)],
        )
    assert not Message.objects.filter(body="Hi").exists()
    folder = f"attachments/{workspace.pk}"
    assert not default_storage.exists(folder) or default_storage.listdir(folder)[1] == []


@pytest.mark.django_db(transaction=True)
def test_a_requester_and_an_agent_replying_with_files_at_once_both_land(workspace, ticket, agent):
    """Two people post to the same ticket at the same moment, each with two files: both messages,
    all four files (rows and bytes) and a gapless, verifying audit chain come out."""
    authors = (ticket.requester, agent.user)

    def post(index):
        message_post(
            ticket=Ticket.objects.get(pk=ticket.pk),
            author=authors[index],
            kind=MessageKind.REPLY,
            body=f"Reply {index}",
            attachments=_uploads(),
        )

    run_threads(2, post)

    for index in range(2):
        message = Message.objects.get(ticket=ticket, body=f"Reply {index}")
        stored = list(Attachment.objects.filter(message=message))
        assert len(stored) == 2
        assert all(default_storage.exists(attachment.file.name) for attachment in stored)
    seqs = list(
        AuditEvent.objects.filter(chain=chain_for(workspace)).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    ok, _, err = run_verify()
    assert ok, err
