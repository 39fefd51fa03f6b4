"""Attachments through the ticket pages: the new-ticket form and the reply box."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from tests.factories import TicketFactory
from tests.tickets import attachment_samples as samples
from tickets.attachments import (
    ERROR_BLOCKED_CONTENT,
    ERROR_BLOCKED_EXTENSION,
    ERROR_CHOOSE_AGAIN,
    ERROR_TOO_LARGE,
)
from tickets.models import Attachment, MessageKind, Ticket


def html_of(response) -> str:
    return response.content.decode()


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#x27;").replace('"', "&quot;")


def stored_files(workspace) -> list[str]:
    try:
        return default_storage.listdir(f"attachments/{workspace.pk}")[1]
    except FileNotFoundError:
        return []


def test_new_ticket_with_a_program_keeps_what_was_typed(login, requester, queue, workspace):
    response = login(requester).post(
        reverse("ticket_new", args=["acme"]),
        {
            "subject": "Laptop will not boot",
            "queue": queue.pk,
            "priority": "normal",
            "description": "It beeps three times & stops.",
            "attachments": [samples.upload("driver.exe", samples.EXE)],
        },
    )
    assert response.status_code == 400
    html = html_of(response)
    assert escaped(ERROR_BLOCKED_EXTENSION.format(name="driver.exe", ext="exe")) in html
    assert escaped(ERROR_CHOOSE_AGAIN) in html
    assert 'value="Laptop will not boot"' in html
    assert "It beeps three times &amp; stops." in html
    assert not Ticket.objects.exists()
    assert stored_files(workspace) == []


def test_new_ticket_with_files_attaches_them_to_the_first_message(login, requester, queue):
    client = login(requester)
    response = client.post(
        reverse("ticket_new", args=["acme"]),
        {
            "subject": "Screen flickers",
            "queue": queue.pk,
            "priority": "normal",
            "description": "See the photo and the log.",
            "attachments": [
                samples.upload("photo.png", samples.png_bytes()),
                samples.upload("boot log.txt", samples.TEXT, content_type="image/png"),
            ],
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    first = ticket.messages.get()
    attachments = list(Attachment.objects.filter(ticket=ticket).order_by("id"))
    assert [(a.original_name, a.content_type, a.message_id) for a in attachments] == [
        ("photo.png", "image/png", first.pk),
        ("boot log.txt", "text/plain", first.pk),
    ]
    page = html_of(client.get(reverse("ticket_detail", args=["acme", ticket.number])))
    for attachment in attachments:
        assert attachment.original_name in page
        assert reverse("attachment_download", args=["acme", ticket.number, attachment.pk]) in page
    download = client.get(reverse("attachment_download", args=["acme", ticket.number, attachments[1].pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == samples.TEXT
    assert download["Content-Type"] == "application/octet-stream"


def test_reply_with_a_too_large_file_keeps_the_body(login, requester, queue, workspace, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=4)
    response = login(requester).post(
        reverse("ticket_detail", args=["acme", ticket.number]),
        {"body": "Here is the dump you asked for.", "attachments": [samples.upload("dump.txt", b"x" * 101)]},
    )
    assert response.status_code in (200, 400)
    html = html_of(response)
    assert escaped(ERROR_TOO_LARGE.format(name="dump.txt", size="101\xa0bytes", limit="100\xa0bytes")) in html
    assert "Here is the dump you asked for." in html
    assert not ticket.messages.exists()


def test_agent_note_attachment_is_hidden_from_the_requester(login, agent, requester, queue, workspace):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=5)
    response = login(agent).post(
        reverse("ticket_detail", args=["acme", ticket.number]),
        {
            "body": "Customer's contract attached.",
            "kind": MessageKind.NOTE,
            "attachments": [samples.upload("contract.pdf", samples.PDF)],
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.message.kind == MessageKind.NOTE
    client = login(requester)
    page = html_of(client.get(reverse("ticket_detail", args=["acme", ticket.number])))
    assert "contract.pdf" not in page
    url = reverse("attachment_download", args=["acme", ticket.number, attachment.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.pdf", samples.ELF, ERROR_BLOCKED_CONTENT.format(name="invoice.pdf")),
        ("run.sh", samples.TEXT, ERROR_BLOCKED_EXTENSION.format(name="run.sh", ext="sh")),
    ],
    ids=["elf-as-pdf", "sh"],
)
def test_reply_refuses_programs_with_a_reason(login, requester, queue, workspace, name, content, message):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=6)
    response = login(requester).post(
        reverse("ticket_detail", args=["acme", ticket.number]),
        {"body": "Attached.", "attachments": [samples.upload(name, content)]},
    )
    assert escaped(message) in html_of(response)
    assert not ticket.messages.exists()
    assert stored_files(workspace) == []
