"""Staff open a ticket for someone who is not a member yet (README "A way in for requesters"): the
address becomes an invited requester, is emailed, and takes the account up through the link."""

import re

import pytest
from django.core import mail

from privacy.audit import actions
from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import UserFactory
from tickets.forms import NOT_A_MEMBER_INVITE
from tickets.models import Ticket
from workspaces.models import Invitation, Membership, Role, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "pale-orange-kettle-42"
LINK_RE = re.compile(r"https?://\S+?(/invitations/[\w-]+/)")


def open_for(client, queue, email, django_capture_on_commit_callbacks, **extra):
    data = {
        "requester": email,
        "subject": "Caller cannot sign in",
        "queue": queue.pk,
        "priority": "normal",
        "description": "Phoned in at 9.",
        **extra,
    }
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/w/acme/tickets/new/", data)


def test_a_typo_is_not_invited_without_the_box(
    client, workspace, agent, queue, django_capture_on_commit_callbacks
):
    client.force_login(agent.user)

    response = open_for(client, queue, "new.caller@example.test", django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert str(NOT_A_MEMBER_INVITE) in response.content.decode()
    assert not User.objects.filter(email="new.caller@example.test").exists()
    assert not Ticket.objects.exists() and mail.outbox == []


def test_agent_opens_a_ticket_for_a_new_address_who_then_takes_it_up(
    client, workspace, agent, queue, django_capture_on_commit_callbacks
):
    client.force_login(agent.user)

    response = open_for(
        client, queue, "New.Caller@example.test", django_capture_on_commit_callbacks, invite_requester="on"
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get(workspace=workspace)
    person = ticket.requester
    assert person.email == "new.caller@example.test"
    assert person.is_pending_signup and not person.has_usable_password()
    assert Membership.objects.get(user=person, workspace=workspace).role == Role.REQUESTER
    invitation = Invitation.objects.get(email="new.caller@example.test", workspace=workspace)
    assert invitation.role == Role.REQUESTER and invitation.invited_by == agent.user
    assert AuditEvent.objects.filter(action=actions.MEMBER_INVITED, actor=agent.user).exists()
    assert AuditEvent.objects.filter(
        action=actions.MEMBER_ADDED, actor=agent.user, target_id=str(person.pk)
    ).exists()
    invite_mail = [m for m in mail.outbox if m.to == ["new.caller@example.test"]]
    assert len(invite_mail) == 1
    link = LINK_RE.search(invite_mail[0].body).group(1)

    # The caller opens the link: no sign-in page for an account they cannot sign in to.
    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    accepted = client.post(
        link, {"display_name": "New Caller", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    person.refresh_from_db()
    assert person.is_active and person.email_confirmed_at is not None and person.check_password(NEW_PASSWORD)
    assert Membership.objects.filter(user=person).count() == 1
    # Invited, they accept the terms and privacy policy first (the gate), then see their ticket.
    gated = client.get(f"/w/acme/tickets/{ticket.number}/")
    assert gated.status_code == 302 and gated["Location"].startswith("/account/policies/accept/")
    client.post("/account/policies/accept/", {"accept": "on"})
    detail = client.get(f"/w/acme/tickets/{ticket.number}/")
    assert detail.status_code == 200 and "Phoned in at 9." in detail.content.decode()


def test_the_placeholder_cannot_sign_in_before_taking_the_account_up(
    client, workspace, agent, queue, django_capture_on_commit_callbacks
):
    client.force_login(agent.user)
    open_for(client, queue, "caller@example.test", django_capture_on_commit_callbacks, invite_requester="on")
    client.logout()
    response = client.post("/accounts/login/", {"username": "caller@example.test", "password": NEW_PASSWORD})
    assert response.status_code == 200  # the form again, with its error: nobody got in
    assert client.get("/w/acme/tickets/1/").status_code == 302


def test_existing_account_of_another_workspace_becomes_requester(
    client, workspace, other_workspace, agent, queue, django_capture_on_commit_callbacks
):
    elsewhere = make_member(other_workspace, Role.ADMIN, email="known@example.test")
    client.force_login(agent.user)

    open_for(client, queue, "known@example.test", django_capture_on_commit_callbacks, invite_requester="on")

    ticket = Ticket.objects.get(workspace=workspace)
    assert ticket.requester_id == elsewhere.user_id
    elsewhere.user.refresh_from_db()
    assert elsewhere.user.is_active and elsewhere.user.has_usable_password()
    # Signed in, they accept the invitation without being told they are already a member.
    invite_mail = next(m for m in mail.outbox if m.to == ["known@example.test"])
    link = LINK_RE.search(invite_mail.body).group(1)
    client.force_login(elsewhere.user)
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 302
    assert Invitation.objects.get(email="known@example.test").accepted_at is not None


def test_a_requester_cannot_invite_anyone(
    client, workspace, requester, queue, django_capture_on_commit_callbacks
):
    client.force_login(requester.user)

    response = open_for(
        client, queue, "someone@example.test", django_capture_on_commit_callbacks, invite_requester="on"
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.requester_id == requester.user_id
    assert not User.objects.filter(email="someone@example.test").exists()
    assert not Invitation.objects.exists()


def test_an_existing_member_is_not_invited_again(
    client, workspace, agent, requester, queue, django_capture_on_commit_callbacks
):
    client.force_login(agent.user)

    open_for(client, queue, requester.user.email, django_capture_on_commit_callbacks, invite_requester="on")

    assert Ticket.objects.get().requester_id == requester.user_id
    assert not Invitation.objects.exists()
    assert not [m for m in mail.outbox if m.to == [requester.user.email]]


def test_member_of_another_workspace_agent_cannot_reach_the_form(client, workspace, other_workspace):
    stranger = make_member(other_workspace, Role.AGENT)
    client.force_login(stranger.user)
    assert client.get("/w/acme/tickets/new/").status_code == 404
    assert not UserFactory._meta.model.objects.filter(email="x@example.test").exists()
