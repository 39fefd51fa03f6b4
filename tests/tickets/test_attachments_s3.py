"""Attachments on S3 (moto's server over HTTP): private random keys, short presigned downloads,
complete deletion on versioned buckets."""

import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from helpdesk.storage import PRESIGNED_MAX_SECONDS, delete_stored_file
from privacy.audit.models import AuditEvent
from tests.factories import MessageFactory
from tests.tickets import attachment_samples as samples
from tests.tickets.s3 import moto_s3_endpoint_fixture, s3_bucket_fixture  # noqa: F401  (fixtures)
from tickets.attachments import attachment_add, attachment_delete_file
from tickets.models import MessageKind


def fetch(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback moto
            return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


@pytest.fixture
def reply(ticket):
    return MessageFactory(ticket=ticket, kind=MessageKind.REPLY)


def add(ticket, message, name="Überweisung März.pdf", content=samples.PDF):
    return attachment_add(
        ticket=ticket,
        message=message,
        uploaded_by=ticket.requester,
        upload=samples.upload(name, content, content_type="text/html"),
    )


def download_url(attachment):
    return reverse("attachment_download", args=["acme", attachment.ticket.number, attachment.pk])


def test_storage_is_s3_for_these_tests(s3_bucket):
    from storages.backends.s3 import S3Storage

    assert isinstance(default_storage, S3Storage) or isinstance(default_storage._wrapped, S3Storage)
    assert default_storage.bucket_name == s3_bucket.name


def test_upload_goes_to_a_random_private_key(s3_bucket, ticket, reply):
    attachment = add(ticket, reply)
    key = attachment.file.name
    assert s3_bucket.keys() == [key]
    assert key.startswith(f"attachments/{ticket.workspace_id}/")
    assert "rweisung" not in key and not key.endswith(".pdf")
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=key)
    # The object's type is ours (sniffed), not the browser's "text/html".
    assert head["ContentType"] == "application/pdf"
    acl = s3_bucket.client.get_object_acl(Bucket=s3_bucket.name, Key=key)
    assert all("AllUsers" not in str(grant.get("Grantee", {})) for grant in acl["Grants"])
    status, _, _ = fetch(f"{s3_bucket.endpoint}/{s3_bucket.name}/{key}")
    assert status == 403


def test_download_redirects_to_a_short_presigned_url_that_works(s3_bucket, login, admin, ticket, reply):
    attachment = add(ticket, reply)
    response = login(admin).get(download_url(attachment))
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    location = response["Location"]
    assert location.startswith(f"{s3_bucket.endpoint}/{s3_bucket.name}/{attachment.file.name}?")
    query = parse_qs(urlsplit(location).query)
    assert 0 < int(query["X-Amz-Expires"][0]) <= PRESIGNED_MAX_SECONDS
    assert int(query["X-Amz-Expires"][0]) == 120
    assert query["response-content-type"] == ["application/pdf"]
    disposition = query["response-content-disposition"][0]
    assert disposition.startswith("inline; filename=\"Uberweisung Marz.pdf\"; filename*=UTF-8''")
    status, body, headers = fetch(location)
    assert status == 200
    assert body == samples.PDF
    assert headers["content-type"] == "application/pdf"
    assert unquote(headers["content-disposition"].split("UTF-8''", 1)[1]) == "Überweisung März.pdf"
    assert (
        AuditEvent.objects.filter(action="attachment.downloaded", target_id=str(attachment.pk)).count() == 1
    )


def test_html_on_s3_is_forced_to_download_as_octet_stream(s3_bucket, login, admin, ticket, reply):
    attachment = add(ticket, reply, name="page.png", content=samples.HTML)
    response = login(admin).get(download_url(attachment))
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["response-content-type"] == ["application/octet-stream"]
    assert query["response-content-disposition"][0].startswith('attachment; filename="page.png"')
    status, body, headers = fetch(response["Location"])
    assert status == 200 and body == samples.HTML
    assert headers["content-type"] == "application/octet-stream"
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=attachment.file.name)
    assert head["ContentType"] == "application/octet-stream"


def test_configured_expiry_above_five_minutes_is_capped(s3_bucket, settings, login, admin, ticket, reply):
    s3_bucket.use(settings, expire=3600)
    attachment = add(ticket, reply)
    response = login(admin).get(download_url(attachment))
    query = parse_qs(urlsplit(response["Location"]).query)
    assert int(query["X-Amz-Expires"][0]) == PRESIGNED_MAX_SECONDS


def test_presigned_url_stops_working_after_its_expiry(s3_bucket, settings, login, admin, ticket, reply):
    s3_bucket.use(settings, expire=1)
    attachment = add(ticket, reply)
    location = login(admin).get(download_url(attachment))["Location"]
    assert parse_qs(urlsplit(location).query)["X-Amz-Expires"] == ["1"]
    time.sleep(2.1)
    status, body, _ = fetch(location)
    assert status == 403
    assert b"expired" in body


def test_requester_cannot_get_a_presigned_url_for_a_note(s3_bucket, login, requester, agent, ticket):
    note = MessageFactory(ticket=ticket, kind=MessageKind.NOTE, author=agent.user)
    attachment = add(ticket, note)
    response = login(requester).get(download_url(attachment))
    assert response.status_code == 404
    assert "Location" not in response


def test_download_query_count_on_s3(s3_bucket, login, admin, ticket, reply, django_assert_max_num_queries):
    attachment = add(ticket, reply)
    client = login(admin)
    with django_assert_max_num_queries(10):
        response = client.get(download_url(attachment))
    assert response.status_code == 302


def test_delete_file_removes_every_version_on_a_versioned_bucket(
    s3_bucket, ticket, reply, django_capture_on_commit_callbacks
):
    s3_bucket.client.put_bucket_versioning(
        Bucket=s3_bucket.name, VersioningConfiguration={"Status": "Enabled"}
    )
    attachment = add(ticket, reply)
    key = attachment.file.name
    # A second version of the same key (an overwrite, as a retried upload would make).
    s3_bucket.client.put_object(Bucket=s3_bucket.name, Key=key, Body=b"second version")
    assert len(s3_bucket.versions(key)) == 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        attachment_delete_file(attachment)
    assert len(s3_bucket.versions(key)) == 2  # nothing happens before commit
    for callback in callbacks:
        callback()
    assert s3_bucket.versions(key) == []
    assert s3_bucket.keys() == []


def test_plain_delete_would_leave_versions_behind(s3_bucket, ticket, reply):
    """Why versions are deleted one by one: a plain delete only adds a delete marker."""
    s3_bucket.client.put_bucket_versioning(
        Bucket=s3_bucket.name, VersioningConfiguration={"Status": "Enabled"}
    )
    attachment = add(ticket, reply)
    default_storage.delete(attachment.file.name)
    assert len(s3_bucket.versions(attachment.file.name)) == 2  # the version and a delete marker
    delete_stored_file(storage=default_storage, name=attachment.file.name)
    assert s3_bucket.versions(attachment.file.name) == []


def test_delete_file_on_an_unversioned_bucket(s3_bucket, ticket, reply, django_capture_on_commit_callbacks):
    attachment = add(ticket, reply)
    other = add(ticket, reply, name="other.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete_file(attachment)
    assert s3_bucket.keys() == [other.file.name]
