"""Policies at the right moment: invited people accept the terms and privacy policy before their
first page, creating a workspace records the data-processing agreement, and a material change
is emailed to the people it affects."""

import pytest
from django.core import mail
from django.urls import reverse

from privacy.account.models import PolicyAcceptance, PolicyKind, PolicyVersion
from privacy.account.policies import policy_accept, policy_current
from privacy.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from workspaces.models import Role, User
from workspaces.services import invitation_create

EMAIL = "nina@example.test"


@pytest.fixture
def invited(workspace, admin):
    return invitation_create(workspace=workspace, email=EMAIL, role=Role.REQUESTER, actor=admin.user)


def _accept_invitation(client, token):
    return client.post(
        reverse("invitation_accept", args=[token]),
        {"display_name": "Nina", "password1": PASSWORD, "password2": PASSWORD},
    )


def test_an_invited_person_accepts_the_policies_before_their_first_page(client, workspace, invited):
    _invitation, token = invited
    response = _accept_invitation(client, token)
    user = User.objects.get(email=EMAIL)
    assert PolicyAcceptance.objects.filter(user=user).count() == 0
    workspace_page = reverse("ticket_list", args=["acme"])
    response = client.get(workspace_page)
    assert response.status_code == 302 and response["Location"].startswith("/account/policies/accept/")
    gate = client.get(response["Location"])
    page = gate.content.decode()
    assert "Before you start" in page and "Terms of service" in page and "Privacy policy" in page
    # Not ticking the box records nothing and says why.
    refused = client.post("/account/policies/accept/", {"next": workspace_page})
    assert refused.status_code == 400 and "Tick the box" in refused.content.decode()
    assert client.get(workspace_page).status_code == 302
    accepted = client.post("/account/policies/accept/", {"accept": "on", "next": workspace_page})
    assert accepted["Location"] == workspace_page
    kinds = set(PolicyAcceptance.objects.filter(user=user).values_list("policy__kind", flat=True))
    assert kinds == {PolicyKind.TERMS, PolicyKind.PRIVACY}
    assert AuditEvent.objects.filter(action="account.policy_accepted", actor=user).count() == 2
    assert client.get(workspace_page).status_code == 200


def test_people_who_signed_up_or_were_not_invited_are_not_gated(client, login, requester):
    login(requester)
    assert client.get(reverse("ticket_list", args=["acme"])).status_code == 200


@pytest.mark.django_db
def test_creating_a_workspace_needs_and_records_the_dpa(client):
    user = UserFactory()
    client.force_login(user)
    refused = client.post("/workspaces/new/", {"name": "Initech", "slug": "initech"})
    assert refused.status_code == 200 and "data-processing agreement" in refused.content.decode()
    assert not PolicyAcceptance.objects.filter(user=user).exists()
    response = client.post("/workspaces/new/", {"name": "Initech", "slug": "initech", "accept_dpa": "on"})
    assert response.status_code == 302
    dpa = policy_current(kind=PolicyKind.DPA)
    assert dpa is not None and PolicyAcceptance.objects.filter(user=user, policy=dpa).exists()
    event = AuditEvent.objects.get(action="workspace.dpa_accepted")
    assert event.workspace.slug == "initech" and event.detail["version"] == dpa.version
    # The DPA is the organisation's: nobody is asked to accept it on their own account.
    assert client.get("/account/policies/review/").status_code == 200
    assert "Data-processing agreement" not in client.get("/account/policies/review/").content.decode()


def test_a_material_change_is_emailed_to_the_people_it_affects(
    client, requester, agent, django_capture_on_commit_callbacks, settings
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    old = policy_current(kind=PolicyKind.PRIVACY)
    policy_accept(user=requester.user, policy_ids=[old.pk])  # agent accepted nothing
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    mail.outbox.clear()
    data = {
        "kind": "privacy",
        "version": "2027-01",
        "summary": "We now keep logs for 30 days.",
        "is_material": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/policies/", data)
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[requester.user.email]]
    assert "privacy policy" in mail.outbox[0].subject.lower()
    assert "We now keep logs for 30 days." in mail.outbox[0].body
    event = AuditEvent.objects.get(action="policy.change_announced")
    assert event.detail == {"kind": "privacy", "version": "2027-01", "sent": 1}


def test_a_minor_change_sends_no_email(client, requester, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    policy_accept(user=requester.user, policy_ids=[policy_current(kind=PolicyKind.PRIVACY).pk])
    client.force_login(UserFactory(is_staff=True))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/policies/", {"kind": "privacy", "version": "2027-02", "summary": "Typo fixed."})
    assert mail.outbox == []
    assert PolicyVersion.objects.filter(version="2027-02").exists()


def test_the_gated_person_can_still_reach_their_account(client, workspace, invited):
    _invitation, token = invited
    _accept_invitation(client, token)
    assert client.get("/").status_code == 302
    assert client.get(reverse("account")).status_code == 200
    assert client.get(reverse("account_requests")).status_code == 200
