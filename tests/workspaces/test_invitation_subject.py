"""An invitation always reaches the invitee or the inviter hears that it did not.

Workspace names are one line (refused at the edge); a name stored before that rule still makes a
valid one-line subject; and a mail failure is shown to the inviting admin and audited, never
swallowed.
"""

import smtplib
import unicodedata

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.urls import reverse

from helpdesk.single_line import SINGLE_LINE_ERROR, single_line
from privacy.audit import actions
from privacy.audit.models import AuditEvent
from tests.factories import UserFactory
from workspaces.models import Invitation, Role, Workspace
from workspaces.services import invitation_create, workspace_create
from workspaces.views import INVITATION_NOT_SENT, INVITATION_SENT

EMAIL = "nina@example.test"
# Names written before names were checked (or straight into the database).
BROKEN_NAMES = [
    "Acme\nSupport",
    "Acme\r\nBcc: attacker@example.test",
    "Acme\x00Support",
    "Acme\x1b[31mSupport",
    "Acme\u2028Support",
    "Acme\x85Support",
    "Acme\tSupport",
]


class RefusingBackend(BaseEmailBackend):
    """A mail server that hangs up on every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def _invite(client, workspace):
    return client.post(
        reverse("admin_invite", kwargs={"slug": workspace.slug}),
        {"email": EMAIL, "role": Role.REQUESTER},
        follow=True,
    )


def sent_message():
    return INVITATION_SENT.format(email=EMAIL, days=settings.INVITATION_VALID_DAYS)


def _flashes(response):
    return [str(m) for m in response.context["messages"]]


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


# Existing names with line breaks still send -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", BROKEN_NAMES)
def test_an_invitation_from_a_workspace_with_a_broken_name_is_sent(client, workspace, admin, name):
    if "\x00" in name and connection.vendor == "postgresql":
        pytest.skip("PostgreSQL cannot store a NUL character, so no such name exists there")
    Workspace.objects.filter(pk=workspace.pk).update(name=name)
    client.force_login(admin.user)

    response = _invite(client, workspace)

    assert len(mail.outbox) == 1
    subject = mail.outbox[0].subject
    assert subject.startswith("You are invited to Acme")
    assert not _has_control(subject)
    assert mail.outbox[0].message()["Bcc"] is None
    assert "Support" in subject or "Bcc: attacker@example.test" in subject
    assert _flashes(response) == [sent_message()]


def test_single_line_collapses_every_break_and_control():
    assert single_line("Acme\r\n\tSupport\u2028\x00 Team ") == "Acme Support Team"
    assert single_line("R&D — Ünïcode") == "R&D — Ünïcode"


# New names are one line ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", BROKEN_NAMES)
def test_starting_a_workspace_refuses_a_name_with_a_break(client, name):
    client.force_login(UserFactory())

    response = client.post("/workspaces/new/", {"name": name, "slug": "acme-new"})

    assert response.status_code == 200
    assert str(SINGLE_LINE_ERROR) in response.context["form"].errors["name"]
    assert str(SINGLE_LINE_ERROR) in response.content.decode()
    assert not Workspace.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_name_with_a_break():
    with pytest.raises(ValidationError) as refused:
        workspace_create(name="Acme\nEvil", slug="acme-evil")

    assert refused.value.message_dict == {"name": [SINGLE_LINE_ERROR]}
    assert not Workspace.objects.exists()


@pytest.mark.django_db
def test_a_name_with_spaces_around_is_trimmed_not_refused():
    assert workspace_create(name="  Acme Support  ", slug="acme-support").name == "Acme Support"


# A failure is never silent ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_mail_failure_is_shown_to_the_inviter_and_audited(client, workspace, admin, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    client.force_login(admin.user)

    response = _invite(client, workspace)

    assert response.status_code == 200
    assert _flashes(response) == [INVITATION_NOT_SENT.format(email=EMAIL)]
    assert sent_message() not in response.content.decode()
    invitation = Invitation.objects.get(workspace=workspace)
    assert invitation.is_pending  # kept: inviting again sends a new link
    failed = AuditEvent.objects.get(action=actions.INVITATION_EMAIL_FAILED)
    assert (failed.workspace_id, failed.actor_id, failed.target_id) == (
        workspace.pk,
        admin.user_id,
        str(invitation.pk),
    )
    assert failed.detail == {"error": "SMTPServerDisconnected"}
    assert EMAIL not in str(failed.detail)


@pytest.mark.django_db(transaction=True)
def test_inviting_again_after_a_failure_sends_a_new_link(client, workspace, admin, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    client.force_login(admin.user)
    _invite(client, workspace)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    response = _invite(client, workspace)

    assert _flashes(response) == [sent_message()]
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert Invitation.objects.filter(workspace=workspace, revoked_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_service_reports_the_outcome_after_commit(workspace, admin, settings):
    invitation, _token = invitation_create(
        workspace=workspace, email=EMAIL, role=Role.REQUESTER, actor=admin.user
    )
    assert invitation.email_sent is True

    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    again, _token = invitation_create(workspace=workspace, email=EMAIL, role=Role.REQUESTER, actor=admin.user)
    assert again.email_sent is False
