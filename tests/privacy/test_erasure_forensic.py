"""The forensic test: erase a person, then search every column of every table and every object
(every version) in the S3 bucket for their email, name and IP address. Nothing may be found;
other people's tickets and messages are all still there and readable."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from privacy.account.consents import consents_set
from privacy.account.models import ErasureRequest, ErasureState, PolicyVersion
from privacy.account.policies import policy_accept
from tests.conftest import make_member
from tests.factories import PASSWORD
from tests.privacy.selfservice_support import _fresh_policy_cache  # noqa: F401 (fixture)
from tests.tickets.s3 import moto_s3_endpoint_fixture, s3_bucket_fixture  # noqa: F401 (fixtures)
from tickets.attachments import attachment_add
from tickets.models import Attachment, Message, MessageKind, Ticket
from tickets.services import message_post, ticket_create
from workspaces.models import Invitation, Membership, Role

EMAIL = "zelda.quokkafeather@forensic-example.org"
NAME = "Zelda Quokkafeather"
IP = "203.0.113.77"
NEEDLES = (EMAIL, NAME, IP)
UA = "ForensicBrowser/1.0 (Zelda Quokkafeather edition)"


def request_from(user, *, ip=IP):
    request = RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=UA)
    request.user = user
    return request


def database_hits(needles) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column of every table whose text holds a needle."""
    hits = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                for needle in needles:
                    sql = (
                        f"SELECT COUNT(*) FROM {quote(table)} "  # noqa: S608 - names from introspection
                        f"WHERE LOWER(CAST({quote(column.name)} AS TEXT)) LIKE %s"
                    )
                    cursor.execute(sql, [f"%{needle.lower()}%"])
                    if cursor.fetchone()[0]:
                        hits.append((table, column.name, needle))
    return hits


def _blob_texts(body: bytes):
    yield body
    if body[:4] == b"PK\x03\x04":  # an export archive: look inside too
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in archive.namelist():
                yield name.encode()
                yield archive.read(name)


def bucket_hits(bucket, needles) -> list[tuple[str, str]]:
    hits = []
    listing = bucket.client.list_object_versions(Bucket=bucket.name)
    for version in listing.get("Versions", []):
        body = bucket.client.get_object(
            Bucket=bucket.name, Key=version["Key"], VersionId=version["VersionId"]
        )["Body"].read()
        for text in _blob_texts(body):
            for needle in needles:
                if needle.lower().encode() in text.lower():
                    hits.append((version["Key"], needle))
    return hits


@pytest.fixture
def versioned_bucket(s3_bucket):
    s3_bucket.client.put_bucket_versioning(
        Bucket=s3_bucket.name, VersioningConfiguration={"Status": "Enabled"}
    )
    return s3_bucket


@pytest.mark.django_db(transaction=True)
def test_nothing_of_an_erased_person_is_left_anywhere(client, versioned_bucket, settings):
    settings.ACCOUNT_ERASURE_GRACE_DAYS = 14
    from tests.factories import QueueFactory, WorkspaceFactory

    workspace = WorkspaceFactory(slug="acme", name="Acme")
    queue = QueueFactory(workspace=workspace, name="Support")
    admin = make_member(workspace, Role.ADMIN)
    agent = make_member(workspace, Role.AGENT)
    other = make_member(workspace, Role.REQUESTER)
    zelda_membership = make_member(workspace, Role.REQUESTER, email=EMAIL, display_name=NAME)
    zelda = zelda_membership.user
    Invitation.objects.create(
        workspace=workspace,
        email=EMAIL,
        role=Role.REQUESTER,
        token_hash="f" * 64,
        invited_by=admin.user,
        expires_at="2030-01-01T00:00:00Z",
    )

    # She signs in from her address (auth.login event, axes access log) ...
    response = client.post(
        reverse("login"), {"username": EMAIL, "password": PASSWORD}, REMOTE_ADDR=IP, HTTP_USER_AGENT=UA
    )
    assert response.status_code == 302
    # ... opens a ticket, replies, uploads a file (on a versioned bucket: two versions of it).
    request = request_from(zelda)
    ticket = ticket_create(
        workspace=workspace,
        queue=queue,
        requester=zelda,
        subject=f"Refund for {NAME}",
        description=f"Hello, this is {NAME}. Write to me at {EMAIL}.",
        request=request,
    )
    reply = message_post(
        ticket=ticket, author=zelda, kind=MessageKind.REPLY, body="Order 1234.", request=request
    )
    upload = attachment_add(
        ticket=ticket,
        message=reply,
        uploaded_by=zelda,
        upload=SimpleUploadedFile(
            f"{NAME} receipt.txt", f"Receipt for {NAME} <{EMAIL}>".encode(), "text/plain"
        ),
        request=request,
    )
    versioned_bucket.client.put_object(
        Bucket=versioned_bucket.name, Key=upload.file.name, Body=f"second version, {EMAIL}".encode()
    )
    # Agents write about her: a public reply, an internal note with her name and email, a file.
    agent_reply = message_post(ticket=ticket, author=agent.user, kind=MessageKind.REPLY, body="We are on it.")
    note = message_post(
        ticket=ticket,
        author=agent.user,
        kind=MessageKind.NOTE,
        body=f"Called {NAME} ({EMAIL}); she asked for a refund. zelda quokkafeather again.",
    )
    agent_file = attachment_add(
        ticket=ticket,
        message=agent_reply,
        uploaded_by=agent.user,
        upload=SimpleUploadedFile("refund-form.txt", b"Refund form, blank.", "text/plain"),
    )
    # Another requester mentions her in their own ticket.
    other_ticket = ticket_create(
        workspace=workspace,
        queue=queue,
        requester=other.user,
        subject=f"Complaint about {NAME}",
        description=f"{NAME} <{EMAIL}> took my parking space. Also: Zelda's car is blue.",
    )
    other_reply = message_post(
        ticket=other_ticket,
        author=other.user,
        kind=MessageKind.REPLY,
        body="Any news? Nothing about her here.",
    )
    # Consents, a policy acceptance, an export (its ZIP lands in the bucket) and a pending
    # email change.
    consents_set(user=zelda, answers={"product_updates": True}, request=request)
    policy_accept(user=zelda, policy_ids=PolicyVersion.objects.values_list("pk", flat=True))
    client.post(reverse("account_export_create"), REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)
    client.post(
        reverse("account_email"),
        {"email-new_email": "zelda.new@forensic-example.org", "email-password": PASSWORD},
        REMOTE_ADDR=IP,
    )
    # A failed sign-in attempt on her account from her address.
    client.post(reverse("logout"))
    client.post(
        reverse("login"), {"username": EMAIL, "password": "wrong"}, REMOTE_ADDR=IP, HTTP_USER_AGENT=UA
    )
    client.post(
        reverse("login"), {"username": EMAIL, "password": PASSWORD}, REMOTE_ADDR=IP, HTTP_USER_AGENT=UA
    )

    before = set(database_hits(NEEDLES))
    assert ("tickets_message", "body", EMAIL) in before  # the search does find things
    assert ("privacy_auditevent", "ip_address", IP) in before
    assert bucket_hits(versioned_bucket, NEEDLES)

    # She deletes her account from the page; the operator erases it at once.
    response = client.post(
        reverse("account_delete"),
        {"delete-password": PASSWORD, "delete-confirm": "DELETE"},
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=UA,
    )
    assert response.status_code == 302
    from django.core.management import call_command

    call_command("erase_user", EMAIL, "--now", stdout=io.StringIO())

    erasure = ErasureRequest.objects.get(user=zelda)
    assert erasure.state == ErasureState.DONE, erasure.error
    assert erasure.masked_name == "Z" + "*" * 4 + " Q" + "*" * 12
    assert erasure.masked_email == "z" + "*" * 18 + "@f" + "*" * 15 + ".org"

    assert database_hits(NEEDLES) == []
    assert bucket_hits(versioned_bucket, NEEDLES) == []
    assert not versioned_bucket.versions(upload.file.name)

    # Everyone else's words are still there and readable, with the pseudonym in place.
    pseudonym = erasure.pseudonym
    assert pseudonym.startswith("Deleted user ")
    assert Ticket.objects.filter(pk=other_ticket.pk).exists()
    other_ticket.refresh_from_db()
    assert other_ticket.subject == f"Complaint about {pseudonym}"
    visible = Message.objects.visible_to(Membership.objects.get(pk=other.pk)).filter(ticket=other_ticket)
    bodies = list(visible.order_by("pk").values_list("body", flat=True))
    assert bodies == [
        f"{pseudonym} <{pseudonym}> took my parking space. Also: Zelda's car is blue.",
        other_reply.body,
    ]
    note.refresh_from_db()
    assert note.body == f"Called {pseudonym} ({pseudonym}); she asked for a refund. {pseudonym} again."
    agent_reply.refresh_from_db()
    assert agent_reply.body == "We are on it."
    assert Attachment.objects.filter(pk=agent_file.pk).exists()
    assert agent_file.file.name in versioned_bucket.keys()
    assert not Attachment.objects.filter(pk=upload.pk).exists()
    # Her own ticket stays in the workspace's history, shown under her pseudonym.
    ticket.refresh_from_db()
    assert ticket.requester_id == zelda.pk
    zelda.refresh_from_db()
    assert str(zelda) == pseudonym
    assert not zelda.has_usable_password() and not zelda.is_active
    assert not Membership.objects.filter(user=zelda).exists()
