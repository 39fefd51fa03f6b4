"""Invitation pages: the admin's invite form and revoke button, and the invitee's link page."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_member
from tests.factories import QueueFactory, UserFactory
from workspaces.access import queues_granted_to
from workspaces.models import Invitation, Membership, Role, User
from workspaces.services import (
    ALREADY_MEMBER,
    INVITATION_EXPIRED,
    INVITATION_REVOKED,
    INVITATION_UNKNOWN,
    INVITATION_USED,
    INVITATION_WRONG_ACCOUNT,
    invitation_create,
    invitation_revoke,
)
from workspaces.views import INVITATION_REVOKED_DONE, INVITATION_SENT, INVITATION_SIGN_IN

EMAIL = "nina@example.test"
PASSWORD = "a-long-unusual-passphrase"


def url(name, workspace, **kwargs):
    return reverse(name, kwargs={"slug": workspace.slug, **kwargs})


def accept_url(token):
    return reverse("invitation_accept", kwargs={"token": token})


def flashes(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def invited(workspace, admin, queue):
    """A pending agent invitation to nina@ with the Support queue; yields (invitation, token)."""
    return invitation_create(
        workspace=workspace, email=EMAIL, role=Role.AGENT, queues=[queue], actor=admin.user
    )


# The admin side -------------------------------------------------------------------------------------


def test_invite_sends_an_email_whose_link_opens_the_invitation(
    login, workspace, admin, queue, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://testserver"
    client = login(admin)
    assert client.get(url("admin_invite", workspace)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("admin_invite", workspace),
            {"email": EMAIL, "role": Role.AGENT, "queues": [queue.pk]},
            follow=True,
        )

    assert INVITATION_SENT.format(email=EMAIL, days=settings.INVITATION_VALID_DAYS) in flashes(response)
    assert EMAIL in response.content.decode()  # listed under pending invitations
    [message] = mail.outbox
    link = re.search(r"http://testserver(/invitations/[\w-]+/)", message.body).group(1)
    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    assert workspace.name in page.content.decode()


def test_invite_form_errors_are_clear_and_keep_the_input(login, workspace, admin, requester, queue):
    client = login(admin)
    response = client.post(
        url("admin_invite", workspace), {"email": requester.user.email, "role": Role.AGENT}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": [ALREADY_MEMBER.format(email=requester.user.email)]}
    assert f'value="{requester.user.email}"' in response.content.decode()

    response = client.post(url("admin_invite", workspace), {"email": "not-an-email", "role": Role.AGENT})
    assert "email" in response.context["form"].errors
    response = client.post(
        url("admin_invite", workspace), {"email": EMAIL, "role": Role.REQUESTER, "queues": [queue.pk]}
    )
    assert "queues" in response.context["form"].errors
    assert not Invitation.objects.exists()


def test_a_queue_of_another_workspace_is_not_a_choice(login, workspace, other_workspace, admin):
    foreign = QueueFactory(workspace=other_workspace)
    response = login(admin).post(
        url("admin_invite", workspace), {"email": EMAIL, "role": Role.AGENT, "queues": [foreign.pk]}
    )
    assert "queues" in response.context["form"].errors
    assert not Invitation.objects.exists()


def test_revoke_from_the_members_page(login, workspace, admin, invited):
    invitation, token = invited
    response = login(admin).post(
        url("admin_invitation_revoke", workspace, invitation_id=invitation.pk), follow=True
    )
    assert INVITATION_REVOKED_DONE.format(email=EMAIL) in flashes(response)
    assert f'id="invitation-{invitation.pk}"' not in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_an_invitation_of_another_workspace_answers_404(login, workspace, other_workspace, admin):
    foreign_admin = make_member(other_workspace, Role.ADMIN)
    foreign, _ = invitation_create(
        workspace=other_workspace, email=EMAIL, role=Role.AGENT, actor=foreign_admin.user
    )
    response = login(admin).post(url("admin_invitation_revoke", workspace, invitation_id=foreign.pk))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_members_page_query_count_is_flat_in_invitations(
    login, workspace, admin, queue, django_assert_max_num_queries
):
    client = login(admin)
    invitation_create(
        workspace=workspace, email="a0@example.test", role=Role.AGENT, queues=[queue], actor=admin.user
    )
    with django_assert_max_num_queries(12) as few:
        client.get(url("admin_members", workspace))
    for index in range(1, 10):
        invitation_create(
            workspace=workspace,
            email=f"a{index}@example.test",
            role=Role.AGENT,
            queues=[queue],
            actor=admin.user,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("admin_members", workspace))
    assert response.content.decode().count('<tr id="invitation-') == 10


# The invitee side -----------------------------------------------------------------------------------


def test_a_new_person_sets_name_and_password_and_lands_in_the_workspace(client, workspace, queue, invited):
    invitation, token = invited
    page = client.get(accept_url(token))
    assert page.status_code == 200
    assert b"Create your account" in page.content
    assert not User.objects.filter(email=EMAIL).exists()  # GET creates nothing

    response = client.post(
        accept_url(token), {"display_name": "Nina", "password1": PASSWORD, "password2": PASSWORD}, follow=True
    )

    # Invited, they skipped the sign-up form: the terms and privacy policy come first
    # (tests/privacy/test_policy_moments.py), then the workspace.
    assert response.redirect_chain[-1][0].startswith("/account/policies/accept/?next=")
    response = client.post(
        "/account/policies/accept/", {"accept": "on", "next": url("ticket_list", workspace)}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("ticket_list", workspace)
    user = User.objects.get(email=EMAIL)
    assert user.email_confirmed_at is not None and user.is_active
    assert response.context["user"] == user  # signed in
    membership = Membership.objects.get(workspace=workspace, user=user)
    assert list(queues_granted_to(membership)) == [queue]


def test_password_mistakes_are_explained_and_nothing_is_created(client, invited):
    _, token = invited
    response = client.post(
        accept_url(token), {"display_name": "Nina", "password1": PASSWORD, "password2": "other"}
    )
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert 'value="Nina"' in response.content.decode()
    response = client.post(
        accept_url(token), {"display_name": "Nina", "password1": "12345678", "password2": "12345678"}
    )
    assert "password1" in response.context["form"].errors
    assert not User.objects.filter(email=EMAIL).exists()


def test_an_existing_account_is_sent_to_sign_in_and_comes_back(client, workspace, invited):
    _, token = invited
    user = UserFactory(email=EMAIL)
    response = client.get(accept_url(token))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={accept_url(token)}"
    login_page = client.get(response["Location"])
    assert INVITATION_SIGN_IN.format(email=EMAIL, workspace=workspace.name) in flashes(login_page)

    client.force_login(user)
    page = client.get(accept_url(token))
    assert page.status_code == 200
    assert not Membership.objects.filter(user=user).exists()  # GET shows, POST accepts
    response = client.post(accept_url(token))
    assert response.status_code == 302
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.AGENT


def test_a_different_signed_in_account_is_refused(client, workspace, invited):
    _, token = invited
    client.force_login(UserFactory(email="someone.else@example.test"))
    for response in (client.get(accept_url(token)), client.post(accept_url(token))):
        assert response.status_code == 403
        assert str(INVITATION_WRONG_ACCOUNT) in response.content.decode()
    assert not Membership.objects.filter(workspace=workspace).exclude(role=Role.ADMIN).exists()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        ("expire", INVITATION_EXPIRED),
        ("use", INVITATION_USED),
        ("revoke", INVITATION_REVOKED),
    ],
)
def test_an_unusable_link_says_why(client, admin, invited, spoil, message):
    invitation, token = invited
    if spoil == "expire":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif spoil == "use":
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    else:
        invitation_revoke(invitation=invitation, actor=admin.user)
    for response in (
        client.get(accept_url(token)),
        client.post(accept_url(token), {"display_name": "N", "password1": PASSWORD, "password2": PASSWORD}),
    ):
        assert response.status_code == 410
        assert str(message) in response.content.decode()
    assert not User.objects.filter(email=EMAIL).exists()


def test_an_unknown_token_answers_404_with_a_message(client, invited):
    response = client.get(accept_url("not-a-real-token"))
    assert response.status_code == 404
    assert str(INVITATION_UNKNOWN) in response.content.decode()


def test_a_link_works_once_even_for_the_same_browser(client, workspace, invited):
    _, token = invited
    client.post(accept_url(token), {"display_name": "Nina", "password1": PASSWORD, "password2": PASSWORD})
    response = client.post(accept_url(token))
    assert response.status_code == 410
    assert str(INVITATION_USED) in response.content.decode()
    assert Membership.objects.filter(workspace=workspace, user__email=EMAIL).count() == 1
