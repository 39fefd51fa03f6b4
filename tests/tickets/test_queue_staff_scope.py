"""Who may be assigned a queue's tickets and hears about new ones (``queue_staff``): the admins
and granted agents of *that* workspace. A person who is a requester here and an admin of
another workspace is neither offered as an assignee nor told about this workspace's tickets."""

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from tests.conftest import make_member
from tests.factories import MembershipFactory
from tests.tickets.ticket_helpers import new_ticket, properties_data, url
from tickets.selectors import queue_staff, queue_staff_choices
from workspaces.models import QUEUE_PERMISSION, Role
from workspaces.restriction import member_restrict

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_elsewhere(workspace, other_workspace):
    """A requester of ``workspace`` who is an admin of ``other_workspace``."""
    here = make_member(workspace, Role.REQUESTER, display_name="Rita Elsewhere")
    MembershipFactory(workspace=other_workspace, user=here.user, role=Role.ADMIN)
    return here


def test_an_admin_of_another_workspace_is_not_staff_of_this_queue(queue, admin, agent, admin_elsewhere):
    staff = set(queue_staff(queue=queue))
    assert staff == {admin.user, agent.user}


def test_nor_offered_as_assignee_nor_told_of_new_tickets(
    workspace, queue, admin, agent, requester, admin_elsewhere, login, mailoutbox
):
    ticket = new_ticket(requester, queue)
    page = login(admin).get(url(workspace, "", ticket.number)).content.decode()
    assert "Rita Elsewhere" not in page
    assert admin_elsewhere.user.email not in {address for mail in mailoutbox for address in mail.to}


def test_the_assignee_choices_follow_grants_restrictions_and_names_from_one_view_to_the_next(
    workspace, queue, admin, agent, requester, login
):
    """The choices are kept in the workspace's cache (``staff_by_queue``) and forgotten by every
    change they are made from: a grant, a restriction, a name, an active flag."""
    ticket = new_ticket(requester, queue)
    page = url(workspace, "", ticket.number)
    client = login(admin)
    agent_option = f'<option value="{agent.user_id}"'

    assert agent_option in client.get(page).content.decode()
    remove_perm(QUEUE_PERMISSION, agent.user, queue)
    assert agent_option not in client.get(page).content.decode()
    assign_perm(QUEUE_PERMISSION, agent.user, queue)
    assert agent_option in client.get(page).content.decode()
    agent.user.display_name = "Renamed Agent"
    agent.user.save(update_fields=["display_name"])
    assert "Renamed Agent" in client.get(page).content.decode()
    agent.user.is_active = False
    agent.user.save(update_fields=["is_active"])
    assert agent_option not in client.get(page).content.decode()
    agent.user.is_active = True
    agent.user.save(update_fields=["is_active"])
    assert agent_option in client.get(page).content.decode()
    member_restrict(membership=agent, reason="Contests the data", actor=admin.user)
    assert agent_option not in client.get(page).content.decode()
    assert list(queue_staff_choices(queue=queue)) == list(queue_staff(queue=queue)) == [admin.user]


def test_a_kept_choice_that_is_out_of_date_is_still_refused_when_posted(
    workspace, queue, admin, agent, requester, login
):
    """A write around the ORM sends no signal, so the kept choices may still offer the agent
    (until ``workspace_cache.TTL``): the post is checked against the database all the same."""
    ticket = new_ticket(requester, queue)
    client = login(admin)
    page = client.get(url(workspace, "", ticket.number)).content.decode()
    assert f'<option value="{agent.user_id}"' in page
    type(agent).objects.filter(pk=agent.pk).update(restricted_at=timezone.now())
    response = client.post(
        url(workspace, "", ticket.number, "properties"), properties_data(ticket, assignee=agent.user_id)
    )
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.assignee_id is None
