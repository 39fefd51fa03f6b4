"""Invitation services: create, revoke, accept (signed in or with a new account)."""

import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from privacy.audit.models import AuditEvent
from tests.factories import QueueFactory, UserFactory
from workspaces.access import queues_granted_to
from workspaces.models import Invitation, Membership, Role, User
from workspaces.services import (
    ALREADY_MEMBER,
    INVITATION_ACCOUNT_EXISTS,
    INVITATION_ALREADY_MEMBER,
    INVITATION_EXPIRED,
    INVITATION_REVOKED,
    INVITATION_USED,
    INVITATION_WRONG_ACCOUNT,
    QUEUE_OF_OTHER_WORKSPACE,
    QUEUES_ONLY_FOR_AGENTS,
    InvitationError,
    invitation_accept,
    invitation_accept_new_account,
    invitation_create,
    invitation_revoke,
)


def actions(workspace=None):
    qs = AuditEvent.objects.order_by("id")
    if workspace is not None:
        qs = qs.filter(workspace=workspace)
    return [e.action for e in qs]


@pytest.fixture
def invite(workspace, admin):
    def make(email="new.agent@example.test", role=Role.AGENT, queues=()):
        return invitation_create(workspace=workspace, email=email, role=role, queues=queues, actor=admin.user)

    return make


def test_create_stores_only_the_token_hash_and_emails_the_link_after_commit(
    workspace, admin, queue, settings, django_capture_on_commit_callbacks
):
    settings.INVITATION_VALID_DAYS = 3
    settings.SITE_URL = "https://help.example.test"
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invitation_create(
            workspace=workspace,
            email=" New.Agent@Example.TEST ",
            role=Role.AGENT,
            queues=[queue],
            actor=admin.user,
        )

    assert len(token) >= 40
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert invitation.email == "new.agent@example.test"
    assert list(invitation.queues.all()) == [queue]
    assert before + timedelta(days=3) <= invitation.expires_at <= timezone.now() + timedelta(days=3)
    [message] = mail.outbox
    assert message.to == ["new.agent@example.test"]
    assert f"https://help.example.test/invitations/{token}/" in message.body
    assert workspace.name in message.subject
    [event] = AuditEvent.objects.filter(action="member.invited")
    assert event.workspace == workspace
    assert event.detail == {"role": "agent", "queue_ids": [queue.pk]}
    assert token not in str(event.detail) and "new.agent" not in str(event.detail)


def test_no_email_leaves_when_the_transaction_rolls_back(
    workspace, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation_create(workspace=workspace, email="x@example.test", role=Role.REQUESTER, actor=admin.user)
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_inviting_a_current_member_is_refused(workspace, admin, requester):
    with pytest.raises(ValidationError) as caught:
        invitation_create(
            workspace=workspace, email=requester.user.email.upper(), role=Role.AGENT, actor=admin.user
        )
    assert caught.value.message_dict == {"email": [ALREADY_MEMBER.format(email=requester.user.email)]}
    assert not Invitation.objects.exists()


def test_queues_are_only_for_agents_and_only_of_this_workspace(workspace, other_workspace, admin, queue):
    with pytest.raises(ValidationError) as caught:
        invitation_create(workspace=workspace, email="a@example.test", role=Role.REQUESTER, queues=[queue])
    assert caught.value.message_dict == {"queues": [QUEUES_ONLY_FOR_AGENTS]}
    with pytest.raises(ValidationError) as caught:
        invitation_create(
            workspace=workspace,
            email="a@example.test",
            role=Role.AGENT,
            queues=[QueueFactory(workspace=other_workspace)],
        )
    assert caught.value.message_dict == {"queues": [QUEUE_OF_OTHER_WORKSPACE]}


def test_a_new_invitation_to_the_same_address_withdraws_the_older_one(workspace, invite):
    first, first_token = invite()
    second, second_token = invite(email="NEW.agent@example.test")

    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    assert actions(workspace).count("invitation.revoked") == 1
    user = UserFactory(email="new.agent@example.test")
    with pytest.raises(InvitationError) as caught:
        invitation_accept(invitation=first, user=user)
    assert caught.value.message == INVITATION_REVOKED


def test_revoke_marks_it_audits_and_cannot_repeat(workspace, admin, invite):
    invitation, _ = invite()
    invitation_revoke(invitation=invitation, actor=admin.user)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert actions(workspace)[-1] == "invitation.revoked"
    with pytest.raises(InvitationError) as caught:
        invitation_revoke(invitation=invitation, actor=admin.user)
    assert caught.value.message == INVITATION_REVOKED


def test_accept_creates_membership_and_grants_and_is_single_use(workspace, queue, other_queue, invite):
    invitation, _ = invite(queues=[queue])
    user = UserFactory(email="new.agent@example.test")

    membership = invitation_accept(invitation=invitation, user=user)

    assert membership.role == Role.AGENT and membership.workspace == workspace
    assert list(queues_granted_to(membership)) == [queue]
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert actions(workspace)[-3:] == ["member.added", "queue.access_granted", "invitation.accepted"]
    accepted = AuditEvent.objects.get(action="invitation.accepted")
    assert accepted.actor == user
    assert accepted.detail == {"role": "agent", "queue_ids": [queue.pk]}

    with pytest.raises(InvitationError) as caught:
        invitation_accept(invitation=invitation, user=user)
    assert caught.value.message == INVITATION_USED


def test_accept_is_refused_for_another_email_an_expired_link_or_a_member(workspace, invite, requester):
    invitation, _ = invite()
    with pytest.raises(InvitationError) as caught:
        invitation_accept(invitation=invitation, user=UserFactory(email="someone.else@example.test"))
    assert caught.value.message == INVITATION_WRONG_ACCOUNT

    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvitationError) as caught:
        invitation_accept(invitation=invitation, user=UserFactory(email="new.agent@example.test"))
    assert caught.value.message == INVITATION_EXPIRED

    # A person who joined some other way meanwhile: the stale invitation cannot add them twice.
    stale = Invitation.objects.create(
        workspace=workspace,
        email=requester.user.email,
        role=Role.ADMIN,
        token_hash="x" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    with pytest.raises(InvitationError) as caught:
        invitation_accept(invitation=stale, user=requester.user)
    assert caught.value.message == INVITATION_ALREADY_MEMBER
    assert Membership.objects.get(pk=requester.pk).role == Role.REQUESTER
    assert Membership.objects.filter(workspace=workspace).count() == 2


def test_accept_with_a_new_account_creates_a_confirmed_active_user(workspace, queue, invite):
    invitation, _ = invite(queues=[queue])

    membership = invitation_accept_new_account(
        invitation=invitation, display_name="  Nina Agent ", password="a-long-unusual-passphrase"
    )

    user = membership.user
    assert user.email == "new.agent@example.test"
    assert user.display_name == "Nina Agent"
    assert user.is_active and user.email_confirmed_at is not None
    assert user.check_password("a-long-unusual-passphrase")
    assert list(queues_granted_to(membership)) == [queue]
    assert AuditEvent.objects.filter(action="account.created", actor=user, workspace=None).exists()


def test_a_weak_password_creates_nothing(invite):
    invitation, _ = invite()
    with pytest.raises(ValidationError):
        invitation_accept_new_account(invitation=invitation, display_name="Nina", password="12345678")
    assert not User.objects.filter(email="new.agent@example.test").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_new_account_is_refused_when_the_address_already_has_one(invite):
    invitation, _ = invite()
    UserFactory(email="new.agent@example.test")
    with pytest.raises(InvitationError) as caught:
        invitation_accept_new_account(
            invitation=invitation, display_name="X", password="a-long-unusual-passphrase"
        )
    assert caught.value.message == INVITATION_ACCOUNT_EXISTS


def test_a_requester_invitation_grants_no_queue(workspace, admin, queue):
    invitation, _ = invitation_create(
        workspace=workspace, email="r@example.test", role=Role.REQUESTER, actor=admin.user
    )
    membership = invitation_accept(invitation=invitation, user=UserFactory(email="r@example.test"))
    assert membership.role == Role.REQUESTER
    assert not queues_granted_to(membership).exists()
