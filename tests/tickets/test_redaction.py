"""Redaction (tickets/redaction.py): the redacted text leaves every column, the file leaves every
S3 version, the page says so, the audit log keeps the reason and never the text, and an edit
made concurrently cannot bring the text back."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from privacy.audit.models import AuditEvent
from tests.tickets import attachment_samples as samples
from tests.tickets.s3 import moto_s3_endpoint_fixture, s3_bucket_fixture  # noqa: F401  (fixtures)
from tests.tickets.ticket_helpers import reply
from tickets import redaction
from tickets.attachments import attachment_add
from tickets.models import Attachment, Message
from tickets.services import EDIT_REDACTED, body_version, message_edit

SECRET = "IBAN DE44 5001 0517 5407 3249 31"


@pytest.fixture
def secret_reply(ticket, requester):
    return reply(ticket, requester, body=f"My account is **{SECRET}**, please refund. {SECRET}")


def redact_url(message):
    return reverse("message_redact", args=["acme", message.ticket.number, message.pk])


def _columns_hold(text: str) -> list[str]:
    """Every text column of every table that still holds ``text`` (a raw scan of the database)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            description = connection.introspection.get_table_description(cursor, table)
            for column in description:
                type_name = str(column.type_code).lower()
                if connection.vendor == "postgresql" and column.type_code not in (25, 1043, 3802, 114):
                    continue
                if connection.vendor == "sqlite" and not any(
                    t in type_name for t in ("text", "char", "json", "varchar")
                ):
                    continue
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{column.name}" AS TEXT) LIKE %s',
                    [f"%{text}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


def test_admin_redacts_text_gone_from_every_column_and_audited_without_it(
    client, login, admin, ticket, secret_reply, django_capture_on_commit_callbacks
):
    login(admin)
    assert "tickets_message.body" in _columns_hold("5407 3249")  # the scan does find it
    page = client.get(redact_url(secret_reply))
    assert page.status_code == 200 and SECRET in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(redact_url(secret_reply), {"text": SECRET, "reason": "Bank details"})
    assert response.status_code == 302
    secret_reply.refresh_from_db()
    assert secret_reply.body == "My account is **[redacted]**, please refund. [redacted]"
    assert "[redacted]" in secret_reply.body_html and SECRET not in secret_reply.body_html
    assert secret_reply.redacted_at is not None
    assert _columns_hold("5407 3249") == []
    event = AuditEvent.objects.get(action="message.redacted")
    assert event.detail == {"ticket": ticket.number, "kind": "reply", "places": 2, "reason": "Bank details"}
    assert event.actor_id == admin.user_id
    page = client.get(reverse("ticket_detail", args=["acme", ticket.number])).content.decode()
    assert "[redacted]" in page and "Redacted " in page and SECRET not in page


def test_text_not_in_the_message_is_refused_and_nothing_changes(client, login, admin, secret_reply):
    login(admin)
    response = client.post(redact_url(secret_reply), {"text": "not there", "reason": "x"})
    assert response.status_code == 400
    assert str(redaction.REDACT_TEXT_NOT_FOUND) in response.content.decode()
    secret_reply.refresh_from_db()
    assert SECRET in secret_reply.body and secret_reply.redacted_at is None
    assert not AuditEvent.objects.filter(action="message.redacted").exists()


def test_agents_redact_only_when_the_workspace_allows_it(client, login, agent, secret_reply, workspace):
    login(agent)
    assert client.get(redact_url(secret_reply)).status_code == 404
    workspace.agents_may_redact = True
    workspace.save()
    assert client.get(redact_url(secret_reply)).status_code == 200
    response = client.post(redact_url(secret_reply), {"text": SECRET, "reason": "Bank details"})
    assert response.status_code == 302
    secret_reply.refresh_from_db()
    assert SECRET not in secret_reply.body


def test_requester_cannot_redact(client, login, requester, secret_reply):
    login(requester)
    assert client.post(redact_url(secret_reply), {"text": SECRET, "reason": "x"}).status_code == 404
    secret_reply.refresh_from_db()
    assert SECRET in secret_reply.body


def test_admin_sets_the_agents_may_redact_setting_on_the_security_page(client, login, admin, workspace):
    login(admin)
    url = reverse("admin_security", args=["acme"])
    assert "Agents may redact" in client.get(url).content.decode()
    response = client.post(url, {"privacy_settings": "1", "agents_may_redact": "on"})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.agents_may_redact and not workspace.reveal_viewer_names
    event = AuditEvent.objects.get(action="settings.changed", detail__setting="agents_may_redact")
    assert event.detail == {"setting": "agents_may_redact", "old": False, "new": True}


# Two writers ----------------------------------------------------------------------------------


def test_an_edit_form_opened_before_the_redaction_cannot_bring_the_text_back(ticket, requester, admin):
    message = reply(ticket, requester, body=f"Card {SECRET}")
    seen = body_version(message.body)  # the author's edit form, opened before the redaction
    redaction.message_redact(message=message, text=SECRET, reason="Card", actor=admin.user)
    with pytest.raises(Exception) as refused:
        message_edit(message=message, editor=requester.user, body=f"Card {SECRET} (fixed)", seen_version=seen)
    assert str(EDIT_REDACTED) in str(refused.value)
    message.refresh_from_db()
    assert SECRET not in message.body


def test_a_redaction_against_an_edited_text_redacts_what_is_there_now(ticket, requester, admin):
    message = reply(ticket, requester, body=f"Card {SECRET}")
    message_edit(message=message, editor=requester.user, body=f"Card number: {SECRET}!")
    redaction.message_redact(message=message, text=SECRET, reason="Card", actor=admin.user)
    message.refresh_from_db()
    assert message.body == "Card number: [redacted]!"


@pytest.mark.django_db(transaction=True)
def test_two_writers_at_once_never_leave_the_text(ticket, requester, admin):
    """The author edits while an admin redacts, in two connections at the same moment: whichever
    takes the message's row lock first, the redacted text is not in the body afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("Row locks between two connections need PostgreSQL (SQLite serialises the file).")
    message = reply(ticket, requester, body=f"Card {SECRET}")
    seen = body_version(message.body)
    start = threading.Barrier(2)
    errors = []

    def edit():
        start.wait()
        try:
            message_edit(
                message=message, editor=requester.user, body=f"Card {SECRET} thanks", seen_version=seen
            )
        except Exception as error:  # noqa: BLE001 - a refusal is one of the allowed outcomes
            errors.append(error)
        finally:
            connection.close()

    def redact():
        start.wait()
        try:
            redaction.message_redact(message=message, text=SECRET, reason="Card", actor=admin.user)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit), threading.Thread(target=redact)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    body = Message.objects.get(pk=message.pk).body
    if SECRET in body:
        # Only possible if the redaction ran before the edit and the edit was not refused.
        pytest.fail(f"The text came back ({errors!r})")
    assert "[redacted]" in body


# Attachments ------------------------------------------------------------------------------------


def test_attachment_redaction_deletes_every_s3_version(
    s3_bucket, client, login, admin, ticket, secret_reply, django_capture_on_commit_callbacks
):
    s3_bucket.client.put_bucket_versioning(
        Bucket=s3_bucket.name, VersioningConfiguration={"Status": "Enabled"}
    )
    attachment = attachment_add(
        ticket=ticket,
        message=secret_reply,
        uploaded_by=ticket.requester,
        upload=samples.upload("statement.txt", f"Statement {SECRET}\n".encode(), content_type="text/plain"),
    )
    key = attachment.file.name
    # A second version of the key, as an overwrite or a retried upload would leave.
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=key, Body=f"v2 {SECRET}".encode())
    assert len(s3_bucket.versions(key)) == 2
    login(admin)
    url = reverse("attachment_redact", args=["acme", ticket.number, attachment.pk])
    assert "statement.txt" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Bank statement"})
    assert response.status_code == 302
    assert s3_bucket.versions(key) == []
    # No object version anywhere in the bucket holds the text.
    listing = s3_bucket.client.list_object_versions(Bucket=s3_bucket.name)
    for version in listing.get("Versions", []):
        body = s3_bucket.client.get_object(
            Bucket=s3_bucket.name, Key=version["Key"], VersionId=version["VersionId"]
        )
        assert SECRET.encode() not in body["Body"].read()
    attachment.refresh_from_db()
    assert attachment.redacted_at is not None and attachment.original_name == "" and not attachment.file
    event = AuditEvent.objects.get(action="attachment.redacted")
    assert event.detail["reason"] == "Bank statement" and "statement" not in str(event.detail).replace(
        "Bank statement", ""
    )
    page = client.get(reverse("ticket_detail", args=["acme", ticket.number])).content.decode()
    assert "File redacted" in page and "statement.txt" not in page
    download = reverse("attachment_download", args=["acme", ticket.number, attachment.pk])
    assert client.get(download).status_code == 404


def test_attachment_redaction_deletes_the_local_file(
    client, login, admin, ticket, secret_reply, django_capture_on_commit_callbacks
):
    attachment = attachment_add(
        ticket=ticket,
        message=secret_reply,
        uploaded_by=ticket.requester,
        upload=samples.upload("statement.txt", b"Statement\n", content_type="text/plain"),
    )
    path = attachment.file.path
    login(admin)
    url = reverse("attachment_redact", args=["acme", ticket.number, attachment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"reason": "Bank statement"}).status_code == 302
    import os

    assert not os.path.exists(path)
    assert Attachment.objects.get(pk=attachment.pk).redacted_at is not None


def test_a_reason_is_required(client, login, admin, ticket, secret_reply):
    login(admin)
    response = client.post(redact_url(secret_reply), {"text": SECRET, "reason": "  "})
    assert response.status_code == 400
    secret_reply.refresh_from_db()
    assert SECRET in secret_reply.body
