import pytest

from privacy.audit.models import AuditEvent
from tests.factories import UserFactory, WorkspaceFactory
from workspaces.models import Membership, Queue, Role, Workspace
from workspaces.onboarding_views import SLUG_TAKEN


@pytest.mark.django_db
def test_a_person_starts_a_workspace_and_becomes_its_admin(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post("/workspaces/new/", {"name": "Initech Support", "slug": "", "accept_dpa": "on"})

    assert response.status_code == 302
    assert response["Location"] == "/w/initech-support/"
    workspace = Workspace.objects.get(slug="initech-support")
    assert Membership.objects.get(workspace=workspace, user=user).role == Role.ADMIN
    assert Queue.objects.filter(workspace=workspace).count() == 1
    actions = set(AuditEvent.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert {"workspace.created", "member.added", "queue.created", "workspace.dpa_accepted"} <= actions


@pytest.mark.django_db
def test_a_taken_address_is_refused_and_the_name_is_kept(client):
    WorkspaceFactory(slug="initech")
    client.force_login(UserFactory())

    response = client.post("/workspaces/new/", {"name": "Initech", "slug": "initech", "accept_dpa": "on"})

    assert response.status_code == 200
    assert str(SLUG_TAKEN) in response.content.decode()
    assert 'value="Initech"' in response.content.decode()
    assert Workspace.objects.filter(slug="initech").count() == 1


@pytest.mark.django_db
def test_starting_a_workspace_needs_sign_in(client):
    response = client.get("/workspaces/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
