"""Erasure after a change of name and of address: nothing of any name or address the person
ever had is left outside legal holds: not in any text, char or JSON column of any model, not in
any version of any S3 object, not in the session store. What erasure cannot rewrite (a PDF an
agent uploaded that names the person) is listed in the erasure record and in the workspace's
audit log for staff to review, or deleted when the workspace says so."""

import importlib
import io
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.apps import apps as django_apps
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.db.models.functions import Cast
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from privacy.account import signup as signup_services
from privacy.account.models import ErasureRequest, ErasureState, PastIdentifier
from privacy.audit.models import AuditEvent
from privacy.retention.policies import policy_update
from tests.conftest import make_member
from tests.factories import PASSWORD, QueueFactory, WorkspaceFactory
from tests.privacy.selfservice_support import _fresh_policy_cache  # noqa: F401 (fixture)
from tests.privacy.test_erasure_forensic import bucket_hits
from tests.tickets.s3 import moto_s3_endpoint_fixture, s3_bucket_fixture  # noqa: F401 (fixtures)
from tickets.attachments import attachment_add
from tickets.models import Attachment, Message, MessageKind
from tickets.services import message_post, ticket_create
from workspaces.models import Role

OLD_EMAIL = "ysolde.brackenridge@old-example.org"
NEW_EMAIL = "ysolde.v@new-example.net"
OLD_NAME = "Ysolde Brackenridge"
NEW_NAME = "Ysolde Vantongeren"
IP = "198.51.100.23"
UA = "IdentifierBrowser/2.0 (Ysolde edition)"
NEEDLES = (OLD_EMAIL, NEW_EMAIL, OLD_NAME, NEW_NAME, IP, UA)
INITIAL_POLICIES = importlib.import_module("privacy.migrations.0003_initial_policies")
PDF = b"%PDF-1.4\n1 0 obj << /Title (Invoice for Ysolde Brackenridge) >> endobj\n%%EOF\n"


def model_text_hits(needles) -> list[tuple[str, str, str]]:
    """(model, field, needle) for every text, char (email included), JSON and IP field of every
    installed model whose value holds a needle (case-insensitive)."""
    kinds = (models.TextField, models.CharField, models.JSONField, models.GenericIPAddressField)
    hits = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, kinds):
                continue
            rows = model._base_manager.annotate(_text=Cast(field.name, models.TextField()))
            for needle in needles:
                if rows.filter(_text__icontains=needle).exists():
                    hits.append((model._meta.label, field.name, needle))
    return hits


def session_hits(needles) -> list[tuple[str, str]]:
    hits = []
    for session in Session.objects.all():
        text = repr(session.get_decoded()).lower()
        hits += [(session.pk, n) for n in needles if n.lower() in text]
    return hits


@pytest.fixture
def versioned_bucket(s3_bucket):
    s3_bucket.client.put_bucket_versioning(
        Bucket=s3_bucket.name, VersioningConfiguration={"Status": "Enabled"}
    )
    return s3_bucket


def _sign_in(client, email):
    response = client.post(
        reverse("login"), {"username": email, "password": PASSWORD}, REMOTE_ADDR=IP, HTTP_USER_AGENT=UA
    )
    assert response.status_code == 302


def _world():
    workspace = WorkspaceFactory(slug="acme", name="Acme")
    queue = QueueFactory(workspace=workspace, name="Support")
    make_member(workspace, Role.ADMIN)
    agent = make_member(workspace, Role.AGENT).user
    person = make_member(workspace, Role.REQUESTER, email=OLD_EMAIL, display_name=OLD_NAME).user
    return workspace, queue, agent, person


def _change_name_and_address(client, mailoutbox):
    response = client.post(
        reverse("account_profile"),
        {"profile-display_name": NEW_NAME, "profile-language": "en", "profile-time_zone": "UTC"},
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=UA,
    )
    assert response.status_code == 302
    client.post(
        reverse("account_email"),
        {"email-new_email": NEW_EMAIL, "email-password": PASSWORD},
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=UA,
    )
    link = re.search(r"/account/email/confirm/[^/\s]+/", mailoutbox[-1].body).group(0)
    response = client.post(link, REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_erasure_after_a_name_and_an_address_change_leaves_none_of_them(
    client, versioned_bucket, settings, mailoutbox
):
    workspace, queue, agent, person = _world()
    request = RequestFactory().post("/", REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)
    request.user = person
    _sign_in(client, OLD_EMAIL)  # the lockout log keeps this row under the OLD address
    ticket = ticket_create(
        workspace=workspace,
        queue=queue,
        requester=person,
        subject="Invoice",
        description="Hi.",
        request=request,
    )
    reply = message_post(ticket=ticket, author=agent, kind=MessageKind.REPLY, body="Sent.")
    message_post(ticket=ticket, author=agent, kind=MessageKind.NOTE, body=f"{OLD_NAME} <{OLD_EMAIL}> called.")
    text_file = attachment_add(
        ticket=ticket,
        message=reply,
        uploaded_by=agent,
        upload=SimpleUploadedFile("notes.txt", f"Customer: {OLD_NAME}, {OLD_EMAIL}\n".encode(), "text/plain"),
    )
    pdf = attachment_add(
        ticket=ticket,
        message=reply,
        uploaded_by=agent,
        upload=SimpleUploadedFile("invoice.pdf", PDF, "application/pdf"),
    )
    _change_name_and_address(client, mailoutbox)
    message_post(
        ticket=ticket, author=agent, kind=MessageKind.NOTE, body=f"{NEW_NAME} wrote from {NEW_EMAIL}."
    )
    client.post(reverse("logout"))
    _sign_in(client, NEW_EMAIL)

    assert set(PastIdentifier.objects.filter(user=person).values_list("value", flat=True)) == {
        OLD_NAME,
        OLD_EMAIL,
    }
    before = model_text_hits(NEEDLES)
    assert ("axes.AccessLog", "username", OLD_EMAIL) in before
    assert ("tickets.Message", "body", OLD_EMAIL) in before
    assert bucket_hits(versioned_bucket, NEEDLES)

    client.post(
        reverse("account_delete"),
        {"delete-password": PASSWORD, "delete-confirm": "DELETE"},
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=UA,
    )
    call_command("erase_user", NEW_EMAIL, "--now", stdout=io.StringIO())
    erasure = ErasureRequest.objects.get(user=person)
    assert erasure.state == ErasureState.DONE, erasure.error

    # Only the PDF the agent uploaded may still name her: listed, not removed.
    assert model_text_hits(NEEDLES) == []
    assert session_hits(NEEDLES) == []
    assert [key for key, _ in bucket_hits(versioned_bucket, NEEDLES)] == [pdf.file.name]
    assert erasure.kept == [
        {
            "what": "attachment",
            "workspace_id": workspace.pk,
            "ticket": ticket.number,
            "attachment": pdf.pk,
            "reason": "content_not_rewritable",
            "outcome": "review",
        }
    ]
    flagged = AuditEvent.objects.get(action="attachment.erasure_flagged")
    assert flagged.workspace_id == workspace.pk and flagged.detail["attachment"] == pdf.pk
    # The agent's text file stays, rewritten with the pseudonym; no old version keeps her.
    text_file.refresh_from_db()
    with text_file.file.open("rb") as handle:
        assert handle.read().decode() == f"Customer: {erasure.pseudonym}, {erasure.pseudonym}\n"
    assert Message.objects.filter(ticket=ticket, body__contains=erasure.pseudonym).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_workspace_can_have_unrewritable_files_deleted(client, versioned_bucket, mailoutbox):
    workspace, queue, agent, person = _world()
    policy_update(workspace=workspace, actor=None, values={"erasure_files": "delete"})
    ticket = ticket_create(
        workspace=workspace, queue=queue, requester=person, subject="Invoice", description="Hi."
    )
    pdf = attachment_add(
        ticket=ticket, uploaded_by=agent, upload=SimpleUploadedFile("invoice.pdf", PDF, "application/pdf")
    )
    call_command("erase_user", OLD_EMAIL, "--now", stdout=io.StringIO())
    erasure = ErasureRequest.objects.get(user=person)
    assert erasure.state == ErasureState.DONE, erasure.error
    assert not Attachment.objects.filter(pk=pdf.pk).exists()
    assert bucket_hits(versioned_bucket, NEEDLES) == []
    assert [entry["outcome"] for entry in erasure.kept] == ["deleted"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ending", ["rejected", "purged"])
def test_a_signup_that_ends_unconfirmed_leaves_no_address_ip_or_browser(client, ending, mailoutbox):
    INITIAL_POLICIES.publish(django_apps, None)
    policies = signup_services.policies_current()
    data = {
        "display_name": OLD_NAME,
        "email": OLD_EMAIL,
        "password1": "a long enough pass phrase 42",
        "password2": "a long enough pass phrase 42",
        "accept_policies": "on",
        "age_confirmed": "on",
        "policies_shown": f"{policies.terms.pk},{policies.privacy.pk}",
    }
    response = client.post(reverse("signup"), data, REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)
    assert response.status_code == 302
    assert session_hits([OLD_EMAIL])
    assert model_text_hits([IP, UA])  # the account.signup event
    if ending == "rejected":
        link = re.search(r"/accounts/signup/reject/[^/\s]+/", mailoutbox[-1].body).group(0)
        client.post(link, REMOTE_ADDR=IP, HTTP_USER_AGENT=UA)
        assert AuditEvent.objects.filter(action="account.signup_rejected").exists()
    else:
        signup_services.signups_purge(now=timezone.now() + timedelta(days=30))
        assert AuditEvent.objects.filter(action="account.signups_purged").exists()
    assert session_hits(NEEDLES) == []
    assert model_text_hits(NEEDLES) == []
