"""Storing attachments and downloading them from local storage: access, audit, headers."""

from urllib.parse import unquote

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from guardian.shortcuts import assign_perm

from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import MessageFactory, ParticipantFactory, QueueFactory, TicketFactory
from tests.tickets import attachment_samples as samples
from tickets.attachments import (
    ERROR_BLOCKED_CONTENT,
    attachment_add,
    attachment_delete_file,
    validate_upload,
)
from tickets.download_views import DOWNLOAD_CSP
from tickets.models import Attachment, MessageKind
from workspaces.models import QUEUE_PERMISSION, Role


@pytest.fixture
def reply(ticket):
    return MessageFactory(ticket=ticket, kind=MessageKind.REPLY)


@pytest.fixture
def note(ticket, agent):
    return MessageFactory(ticket=ticket, kind=MessageKind.NOTE, author=agent.user)


def add(ticket, message, name="report.pdf", content=samples.PDF, by=None):
    return attachment_add(
        ticket=ticket,
        message=message,
        uploaded_by=by or ticket.requester,
        upload=samples.upload(name, content, content_type="image/png"),
    )


def url_of(attachment, slug="acme", number=None):
    return reverse("attachment_download", args=[slug, number or attachment.ticket.number, attachment.pk])


def body_of(response) -> bytes:
    # Exhausting the stream closes the file (the test client wraps it with response.close).
    return b"".join(response.streaming_content)


def download_events():
    return AuditEvent.objects.filter(action="attachment.downloaded")


# -- attachment_add ---------------------------------------------------------------------------


def test_attachment_add_stores_under_a_random_key_with_sniffed_type(ticket, reply):
    attachment = add(ticket, reply, name="../../Quarterly report.pdf")
    attachment.refresh_from_db()
    assert attachment.original_name == "Quarterly report.pdf"
    assert attachment.content_type == "application/pdf"  # the browser claimed image/png
    assert attachment.size == len(samples.PDF)
    assert attachment.workspace_id == ticket.workspace_id
    assert attachment.file.name.startswith(f"attachments/{ticket.workspace_id}/")
    assert "Quarterly" not in attachment.file.name and "report" not in attachment.file.name
    with default_storage.open(attachment.file.name, "rb") as stored:
        assert stored.read() == samples.PDF


def test_attachment_add_audits_without_name_or_contents(ticket, reply):
    attachment = add(ticket, reply, name="salary-anna.pdf")
    event = AuditEvent.objects.get(action="attachment.uploaded")
    assert event.target_id == str(attachment.pk)
    assert event.actor_id == ticket.requester_id
    assert event.workspace_id == ticket.workspace_id
    assert event.detail == {
        "ticket": ticket.number,
        "message": reply.pk,
        "size": len(samples.PDF),
        "content_type": "application/pdf",
    }
    assert "salary" not in str(event.detail)


def test_attachment_add_validates_raw_uploads(ticket, reply):
    with pytest.raises(ValidationError) as caught:
        add(ticket, reply, name="fine.pdf", content=samples.EXE)
    assert caught.value.messages == [ERROR_BLOCKED_CONTENT.format(name="fine.pdf")]
    assert not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(action="attachment.uploaded").exists()


def test_attachment_add_accepts_a_cleaned_upload(ticket):
    cleaned = validate_upload(samples.upload("shot.png", samples.png_bytes()))
    attachment = attachment_add(ticket=ticket, uploaded_by=ticket.requester, upload=cleaned)
    assert attachment.message is None
    assert attachment.content_type == "image/png"


def test_attachment_add_refuses_a_message_of_another_ticket(ticket, workspace, queue):
    other = MessageFactory(ticket=TicketFactory(workspace=workspace, queue=queue, number=8))
    with pytest.raises(ValueError):
        add(ticket, other)
    assert not Attachment.objects.exists()


def test_failed_row_write_removes_the_stored_bytes(ticket, reply, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr("privacy.audit.events.attachment_uploaded", boom)
    with pytest.raises(RuntimeError):
        add(ticket, reply)
    assert not Attachment.objects.exists()
    assert default_storage.listdir(f"attachments/{ticket.workspace_id}")[1] == []


# -- Downloads: access ------------------------------------------------------------------------


def test_requester_downloads_their_reply_attachment(login, requester, ticket, reply):
    attachment = add(ticket, reply)
    response = login(requester).get(url_of(attachment))
    assert response.status_code == 200
    assert body_of(response) == samples.PDF


def test_requester_cannot_fetch_an_attachment_on_an_internal_note(login, requester, agent, ticket, note):
    attachment = add(ticket, note, by=agent.user)
    response = login(requester).get(url_of(attachment))
    assert response.status_code == 404
    assert not download_events().exists()


def test_agent_of_the_queue_fetches_a_note_attachment(login, agent, ticket, note):
    attachment = add(ticket, note, by=agent.user)
    assert login(agent).get(url_of(attachment)).status_code == 200


def test_agent_without_the_queue_gets_404(login, workspace, ticket, reply):
    attachment = add(ticket, reply)
    outsider = make_member(workspace, Role.AGENT)
    assign_perm(QUEUE_PERMISSION, outsider.user, QueueFactory(workspace=workspace, name="Other"))
    assert login(outsider).get(url_of(attachment)).status_code == 404


def test_requester_of_another_ticket_gets_404(login, workspace, ticket, reply):
    attachment = add(ticket, reply)
    stranger = make_member(workspace, Role.REQUESTER)
    assert login(stranger).get(url_of(attachment)).status_code == 404


def test_participant_may_download(login, workspace, ticket, reply):
    attachment = add(ticket, reply)
    participant = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=participant.user)
    assert login(participant).get(url_of(attachment)).status_code == 200


def test_another_workspace_attachment_id_is_404(login, admin, other_workspace):
    foreign_ticket = TicketFactory(workspace=other_workspace, number=7)
    foreign = add(foreign_ticket, MessageFactory(ticket=foreign_ticket))
    # Same ticket number, an admin of acme, the other workspace's attachment id.
    assert login(admin).get(url_of(foreign, slug="acme", number=7)).status_code == 404
    # And the other workspace's own address: not a member, so 404 as well.
    assert login(admin).get(url_of(foreign, slug="globex")).status_code == 404
    assert not download_events().exists()


def test_attachment_under_the_wrong_ticket_number_is_404(login, admin, workspace, queue, ticket, reply):
    attachment = add(ticket, reply)
    TicketFactory(workspace=workspace, queue=queue, number=8)
    assert login(admin).get(url_of(attachment, number=8)).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client, ticket, reply):
    attachment = add(ticket, reply)
    response = client.get(url_of(attachment))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"] or "login" in response["Location"]


def test_post_is_refused(login, admin, ticket, reply):
    attachment = add(ticket, reply)
    assert login(admin).post(url_of(attachment)).status_code == 405


def test_missing_file_in_storage_is_404(login, admin, ticket, reply):
    attachment = add(ticket, reply)
    default_storage.delete(attachment.file.name)
    assert login(admin).get(url_of(attachment)).status_code == 404


# -- Downloads: audit and headers -------------------------------------------------------------


def test_each_download_writes_one_audit_event(login, admin, ticket, reply):
    attachment = add(ticket, reply)
    client = login(admin)
    body_of(client.get(url_of(attachment)))
    assert download_events().count() == 1
    event = download_events().get()
    assert event.actor_id == admin.user_id
    assert event.target_id == str(attachment.pk)
    assert event.target_type == "tickets.attachment"
    body_of(client.get(url_of(attachment)))
    assert download_events().count() == 2


def test_pdf_may_open_inline_with_nosniff_and_no_store(login, admin, ticket, reply):
    attachment = add(ticket, reply, name="Überweisung März.pdf")
    response = login(admin).get(url_of(attachment))
    body_of(response)
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; filename=\"Uberweisung Marz.pdf\"; filename*=UTF-8''")
    assert unquote(disposition.split("UTF-8''", 1)[1]) == "Überweisung März.pdf"


def test_download_parameter_forces_attachment_for_images(login, admin, ticket, reply):
    attachment = add(ticket, reply, name="shot.png", content=samples.png_bytes())
    response = login(admin).get(url_of(attachment) + "?download=1")
    body_of(response)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('attachment; filename="shot.png"')


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("drawing.svg", samples.SVG),
        ("page.html", samples.HTML),
        ("cat.png", samples.HTML),
        ("a.txt", samples.TEXT),
    ],
    ids=["svg", "html", "html-renamed-png", "text"],
)
def test_active_and_other_content_is_forced_to_download(login, admin, ticket, reply, name, content):
    attachment = add(ticket, reply, name=name, content=content)
    response = login(admin).get(url_of(attachment))
    assert body_of(response) == content
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{name}"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == DOWNLOAD_CSP


def test_download_query_count(login, admin, ticket, reply, django_assert_max_num_queries):
    attachment = add(ticket, reply)
    client = login(admin)
    # session + user, membership, attachment (one query with visibility), audit chain head,
    # event insert and head update (SQLite: 7; PostgreSQL adds savepoints).
    with django_assert_max_num_queries(10):
        response = client.get(url_of(attachment))
    body_of(response)
    assert response.status_code == 200


def test_download_query_count_for_a_requester(login, requester, ticket, reply, django_assert_max_num_queries):
    attachment = add(ticket, reply)
    client = login(requester)
    with django_assert_max_num_queries(10):
        response = client.get(url_of(attachment))
    body_of(response)
    assert response.status_code == 200


# -- Deleting ---------------------------------------------------------------------------------


def test_delete_file_waits_for_commit(ticket, reply, django_capture_on_commit_callbacks):
    attachment = add(ticket, reply)
    name = attachment.file.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attachment_delete_file(attachment)
    assert default_storage.exists(name)
    assert len(callbacks) == 1
    callbacks[0]()
    assert not default_storage.exists(name)


def test_delete_file_runs_on_commit(ticket, reply, django_capture_on_commit_callbacks):
    attachment = add(ticket, reply)
    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete_file(attachment)
    assert not default_storage.exists(attachment.file.name)


def test_delete_file_of_a_rolled_back_change_keeps_the_file(
    ticket, reply, django_capture_on_commit_callbacks
):
    attachment = add(ticket, reply)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            attachment_delete_file(attachment)
            raise RuntimeError("the change failed")
    assert callbacks == []
    assert default_storage.exists(attachment.file.name)


# -- The list partial -------------------------------------------------------------------------


def test_partial_lists_name_size_type_and_links(ticket, reply, workspace):
    pdf = add(ticket, reply, name="report.pdf")
    page = add(ticket, reply, name="page.html", content=samples.HTML)
    request = RequestFactory().get("/")
    request.workspace = workspace
    html = render_to_string(
        "tickets/_attachments.html", {"attachments": [pdf, page], "ticket": ticket}, request=request
    )
    assert "report.pdf" in html and "page.html" in html
    # "View" only for inline-safe types.
    assert f'href="/w/acme/tickets/{ticket.number}/attachments/{pdf.pk}/?download=1"' in html
    assert f'href="/w/acme/tickets/{ticket.number}/attachments/{pdf.pk}/"' in html
    assert f'href="/w/acme/tickets/{ticket.number}/attachments/{page.pk}/"' not in html
    assert "PDF document" in html and "HTML (downloads only)" in html
    assert "79\xa0bytes" in html or f"{len(samples.PDF)}\xa0bytes" in html


def test_partial_renders_nothing_without_attachments(ticket, workspace):
    request = RequestFactory().get("/")
    request.workspace = workspace
    html = render_to_string(
        "tickets/_attachments.html", {"attachments": [], "ticket": ticket}, request=request
    )
    assert "<ul" not in html
