"""Who may be assigned a queue's tickets and hears about new ones (``queue_staff``): the admins
and granted agents of *that* workspace. A person who is a requester here and an admin of
another workspace is neither offered as an assignee nor told about this workspace's tickets."""

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from tests.conftest import make_member
from tests.factories import MembershipFactory
from tests.tickets.ticket_helpers import new_ticket, url
from tickets.selectors import queue_staff, queue_staff_choices
from workspaces.models import QUEUE_PERMISSION, Role

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


def test_the_assignee_choices_follow_grants_and_restrictions_from_one_view_to_the_next(
    workspace, queue, admin, agent, requester, login
):
    """The choices are read through SQL kept per process (``queue_staff_choices``); what they
    are read from is read afresh on every view."""
    ticket = new_ticket(requester, queue)
    page = url(workspace, "", ticket.number)
    client = login(admin)
    agent_option = f'<option value="{agent.user_id}"'

    assert agent_option in client.get(page).content.decode()
    remove_perm(QUEUE_PERMISSION, agent.user, queue)
    assert agent_option not in client.get(page).content.decode()
    assign_perm(QUEUE_PERMISSION, agent.user, queue)
    assert agent_option in client.get(page).content.decode()
    type(agent).objects.filter(pk=agent.pk).update(restricted_at=timezone.now())
    assert agent_option not in client.get(page).content.decode()
    assert list(queue_staff_choices(queue=queue)) == list(queue_staff(queue=queue)) == [admin.user]
