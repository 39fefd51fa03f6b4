"""workspaces.access: members, queues, invitations and queue grants never cross workspaces, and
a foreign id answers the same 404 as a missing one."""

import pytest
from django.http import Http404
from guardian.shortcuts import assign_perm

from tests.conftest import make_member
from tests.factories import QueueFactory
from tests.tickets.ticket_helpers import agent_of
from workspaces import access
from workspaces.models import QUEUE_PERMISSION, Invitation, Role
from workspaces.services import invitation_create


def _404(call, *args):
    with pytest.raises(Http404) as error:
        call(*args)
    assert str(error.value) == access.NOT_FOUND


def test_members_of_another_workspace_answer_404(workspace, other_workspace, admin, requester):
    foreign = make_member(other_workspace, Role.ADMIN)
    assert access.get_member_or_404(admin, requester.pk) == requester
    assert set(access.visible_members(admin)) == {admin, requester}
    _404(access.get_member_or_404, admin, foreign.pk)
    _404(access.get_member_or_404, admin, 999_999)
    assert foreign not in access.visible_members(admin)


def test_only_admins_see_other_members(workspace, admin, agent, requester):
    for member in (agent, requester):
        assert list(access.visible_members(member)) == [member]
        _404(access.get_member_or_404, member, admin.pk)


def test_queues_of_another_workspace_answer_404(workspace, other_workspace, queue, requester):
    foreign = QueueFactory(workspace=other_workspace)
    assert access.get_queue_or_404(requester, queue.pk) == queue
    _404(access.get_queue_or_404, requester, foreign.pk)
    assert foreign not in access.visible_queues(requester)


def test_invitations_of_another_workspace_answer_404(workspace, other_workspace, admin, requester):
    foreign_admin = make_member(other_workspace, Role.ADMIN)
    invitation_create(workspace=workspace, email="nina@example.test", role=Role.REQUESTER, actor=admin.user)
    invitation_create(
        workspace=other_workspace, email="otto@example.test", role=Role.REQUESTER, actor=foreign_admin.user
    )
    ours = Invitation.objects.get(workspace=workspace)
    theirs = Invitation.objects.get(workspace=other_workspace)
    assert access.get_invitation_or_404(admin, ours.pk) == ours
    _404(access.get_invitation_or_404, admin, theirs.pk)
    _404(access.get_invitation_or_404, requester, ours.pk)
    assert list(access.visible_invitations(admin)) == [ours]


def test_grants_are_scoped_to_the_workspace(workspace, other_workspace, queue, other_queue, admin, requester):
    foreign_queue = QueueFactory(workspace=other_workspace)
    agent = agent_of(workspace, queue)
    # The same person also works a queue of another workspace: it never shows up in this one.
    assign_perm(QUEUE_PERMISSION, agent.user, foreign_queue)
    assert set(
        access.granted_queue_ids(agent.user_id, workspace.pk).values_list("content_object_id", flat=True)
    ) == {queue.pk}
    assert set(access.granted_queue_ids(agent.user_id).values_list("content_object_id", flat=True)) == {
        queue.pk,
        foreign_queue.pk,
    }
    assert list(access.queues_granted_to(agent)) == [queue]
    assert set(access.queues_granted_to(admin)) == {queue, other_queue}
    assert not access.queues_granted_to(requester).exists()
    assert set(access.queue_grants(workspace_id=workspace.pk).values_list("user_id", flat=True)) == {
        agent.user_id
    }
