"""Workspace addresses are unique ignoring case: /w/ACME/ can never be a second workspace beside
/w/acme/. Stored in lower case by every path that creates one, refused by a database constraint
for any path that does not, and an upper-case address leads to the lower-case one."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tests.concurrency import run_threads
from tests.factories import UserFactory, WorkspaceFactory
from workspaces.models import WORKSPACE_SLUG_TAKEN, Workspace
from workspaces.onboarding import workspace_start
from workspaces.onboarding_views import SLUG_TAKEN
from workspaces.services import workspace_create

pytestmark = pytest.mark.django_db


def _around(executor, app, suffix):
    """(the migrations just before ours, ours) found by name, so renumbering does not matter."""
    (node,) = [key for key in executor.loader.graph.nodes if key[0] == app and key[1].endswith(suffix)]
    before = [dep for dep in executor.loader.graph.node_map[node].parents if dep.key[0] == app]
    return [dep.key for dep in before], [node]


def _migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# Creating -------------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["ACME", "Acme", "aCmE"])
def test_the_form_refuses_an_address_taken_in_another_case(client, workspace, slug):
    client.force_login(UserFactory())

    response = client.post("/workspaces/new/", {"name": "Copycat", "slug": slug, "accept_dpa": "on"})

    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == [SLUG_TAKEN]
    assert list(Workspace.objects.values_list("slug", flat=True)) == ["acme"]


def test_the_form_stores_an_upper_case_address_in_lower_case(client):
    client.force_login(UserFactory())

    response = client.post("/workspaces/new/", {"name": "Initech", "slug": "InitechHQ", "accept_dpa": "on"})

    assert response.status_code == 302
    assert response["Location"] == "/w/initechhq/"
    assert Workspace.objects.get().slug == "initechhq"


def test_the_service_lower_cases_and_refuses_a_case_variant(workspace):
    created = workspace_create(name="Globex", slug="GLOBEX")
    assert created.slug == "globex"

    with pytest.raises(ValidationError) as refused:
        workspace_create(name="Copycat", slug="ACME")

    assert refused.value.message_dict == {"slug": [WORKSPACE_SLUG_TAKEN]}
    assert Workspace.objects.filter(slug__iexact="acme").count() == 1


def test_workspace_start_refuses_a_case_variant_and_leaves_nothing_behind(workspace):
    owner = UserFactory()
    with pytest.raises(ValidationError):
        workspace_start(name="Copycat", slug="Acme", owner=owner)

    assert not owner.memberships.exists()


def test_the_database_refuses_a_case_variant_written_past_the_services(workspace):
    # Embedded SQLite and PostgreSQL alike: a unique index on lower(slug).
    with pytest.raises(IntegrityError), transaction.atomic():
        Workspace.objects.create(name="Raw", slug="ACME")
    with pytest.raises(IntegrityError), transaction.atomic():
        Workspace.objects.bulk_create([Workspace(name="Raw", slug="AcMe")])

    assert Workspace.objects.count() == 1


def test_the_constraint_is_reported_in_full_clean_with_the_same_message(workspace):
    candidate = Workspace(name="Copycat", slug="ACME")
    with pytest.raises(ValidationError) as refused:
        # clean() lower-cases first, then unique and constraint checks run.
        candidate.full_clean()

    assert str(WORKSPACE_SLUG_TAKEN) in str(refused.value)


@pytest.mark.django_db(transaction=True)
def test_two_people_racing_for_one_address_in_two_cases_get_one_workspace():
    owners = [UserFactory(), UserFactory()]
    outcomes = []

    def start(index):
        try:
            workspace_start(name=f"Race {index}", slug=["race", "RACE"][index], owner=owners[index])
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(error.message_dict["slug"][0])

    run_threads(2, start)

    assert sorted(outcomes) == sorted(["created", WORKSPACE_SLUG_TAKEN])
    assert list(Workspace.objects.values_list("slug", flat=True)) == ["race"]


# Reaching ---------------------------------------------------------------------------------------


def test_an_upper_case_address_redirects_permanently_to_the_lower_case_one(client, workspace, admin):
    client.force_login(admin.user)

    response = client.get("/w/ACME/tickets/?status=open_any&q=printer")

    assert response.status_code == 301
    assert response["Location"] == "/w/acme/tickets/?status=open_any&q=printer"
    assert client.get(response["Location"]).status_code == 200


def test_the_redirect_keeps_the_rest_of_the_path(client, workspace, admin, ticket):
    client.force_login(admin.user)

    response = client.get(f"/w/Acme/tickets/{ticket.number}/")

    assert response.status_code == 301
    assert response["Location"] == f"/w/acme/tickets/{ticket.number}/"


def test_a_form_sent_to_an_upper_case_address_is_not_redirected(client, workspace, admin, ticket):
    client.force_login(admin.user)

    response = client.post(f"/w/ACME/tickets/{ticket.number}/", {"body": "hello", "kind": "reply"})

    assert response.status_code == 404
    assert ticket.messages.count() == 1


def test_a_stranger_learns_nothing_from_the_redirect(client, workspace):
    # Every upper-case address redirects, whether a workspace exists there or not.
    assert client.get("/w/ACME/").status_code == 301
    assert client.get("/w/NOPE/")["Location"] == "/w/nope/"
    assert client.get("/w/nope/").status_code == 302  # then the usual sign-in


# Existing data ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_lower_cases_existing_slugs_and_moves_a_clash_aside():
    executor = MigrationExecutor(connection)
    before, after = _around(executor, "workspaces", "_workspace_slug_ci_unique_name_single_line")
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("workspaces", "Workspace")
        mixed = old.objects.create(name="Mixed", slug="MixedCase")
        lower = old.objects.create(name="Lower", slug="acme")
        clash = old.objects.create(name="Clash", slug="ACME")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        _migrate_to_latest()

    slugs = dict(Workspace.objects.values_list("pk", "slug"))
    assert slugs[mixed.pk] == "mixedcase"
    assert slugs[lower.pk] == "acme"
    assert slugs[clash.pk] == f"acme-{clash.pk}"
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkspaceFactory(slug="MIXEDCASE")
