"""Services behind the workspace admin pages: roles, removal, queues, grants. Invitations are in
test_admin_invitation_services.py."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from guardian.shortcuts import assign_perm

from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import ParticipantFactory, QueueFactory, TicketFactory
from tickets.models import TicketParticipant
from workspaces import services
from workspaces.access import queues_granted_to
from workspaces.models import QUEUE_PERMISSION, Membership, QueueUserObjectPermission, Role
from workspaces.realtime import ACCESS_CHANGED, member_group
from workspaces.services import (
    LAST_ADMIN,
    QUEUE_NAME_TAKEN,
    QUEUE_OF_OTHER_WORKSPACE,
    QUEUES_ONLY_FOR_AGENTS,
    member_queues_set,
    member_remove,
    member_set_role,
    queue_create,
    queue_grant,
    queue_rename,
    queue_revoke,
)


@pytest.fixture
def announced(monkeypatch):
    """Records announce_access_changed calls as (workspace_id, user_id)."""
    calls = []
    monkeypatch.setattr(
        services,
        "announce_access_changed",
        lambda *, workspace_id, user_id: calls.append((workspace_id, user_id)),
    )
    return calls


def events(action, workspace=None):
    qs = AuditEvent.objects.filter(action=action)
    if workspace is not None:
        qs = qs.filter(workspace=workspace)
    return list(qs)


def grant_rows(membership):
    return QueueUserObjectPermission.objects.filter(
        user=membership.user, content_object__workspace=membership.workspace
    )


# Roles ----------------------------------------------------------------------------------------------


def test_set_role_changes_the_role_audits_and_announces(workspace, admin, requester, announced):
    member_set_role(membership=requester, role=Role.AGENT, actor=admin.user)

    requester.refresh_from_db()
    assert requester.role == Role.AGENT
    [event] = events("member.role_changed", workspace)
    assert event.actor == admin.user
    assert event.target_id == str(requester.user_id)
    assert event.detail == {"from": "requester", "to": "agent", "grants_removed": 0}
    assert announced == [(workspace.pk, requester.user_id)]


def test_the_last_admin_cannot_be_demoted(workspace, admin, announced):
    with pytest.raises(ValidationError) as caught:
        member_set_role(membership=admin, role=Role.AGENT, actor=admin.user)

    assert caught.value.messages == [LAST_ADMIN]
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    assert events("member.role_changed") == []
    assert announced == []


def test_an_admin_can_be_demoted_while_another_admin_remains(workspace, admin, announced):
    second = make_member(workspace, Role.ADMIN)
    member_set_role(membership=admin, role=Role.REQUESTER, actor=second.user)
    admin.refresh_from_db()
    assert admin.role == Role.REQUESTER
    # ... and now the remaining admin is the last one.
    with pytest.raises(ValidationError, match="at least one admin"):
        member_set_role(membership=second, role=Role.AGENT, actor=second.user)


def test_admins_of_another_workspace_do_not_count_for_last_admin(workspace, other_workspace, admin):
    make_member(other_workspace, Role.ADMIN)
    with pytest.raises(ValidationError):
        member_set_role(membership=admin, role=Role.AGENT, actor=admin.user)


def test_an_agent_who_stops_being_an_agent_loses_their_queue_grants(workspace, admin, agent, queue):
    assert grant_rows(agent).count() == 1
    member_set_role(membership=agent, role=Role.REQUESTER, actor=admin.user)
    assert grant_rows(agent).count() == 0
    [event] = events("member.role_changed", workspace)
    assert event.detail["grants_removed"] == 1
    # Promoted again later, they start from no queue rather than a stale grant.
    member_set_role(membership=agent, role=Role.AGENT, actor=admin.user)
    assert not queues_granted_to(Membership.objects.get(pk=agent.pk)).exists()


def test_setting_the_same_role_writes_nothing(workspace, admin, requester, announced):
    member_set_role(membership=requester, role=Role.REQUESTER, actor=admin.user)
    assert events("member.role_changed") == []
    assert announced == []


def test_an_unknown_role_is_refused(admin, requester):
    with pytest.raises(ValidationError):
        member_set_role(membership=requester, role="owner", actor=admin.user)
    requester.refresh_from_db()
    assert requester.role == Role.REQUESTER


def test_the_change_and_its_audit_event_commit_together(workspace, admin, requester, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("audit storage down")

    monkeypatch.setattr(services.events, "member_role_changed", broken_audit)
    with pytest.raises(RuntimeError):
        member_set_role(membership=requester, role=Role.AGENT, actor=admin.user)
    requester.refresh_from_db()
    assert requester.role == Role.REQUESTER


# Removal --------------------------------------------------------------------------------------------


def test_removing_a_member_deletes_grants_participations_and_membership_of_that_workspace_only(
    workspace, other_workspace, admin, agent, queue, other_queue, announced
):
    assign_perm(QUEUE_PERMISSION, agent.user, other_queue)
    ticket = TicketFactory(workspace=workspace, queue=other_queue)
    ParticipantFactory(ticket=ticket, user=agent.user)
    # The same person in another workspace keeps everything there.
    elsewhere = Membership.objects.create(workspace=other_workspace, user=agent.user, role=Role.AGENT)
    foreign_queue = QueueFactory(workspace=other_workspace)
    assign_perm(QUEUE_PERMISSION, agent.user, foreign_queue)
    foreign_ticket = TicketFactory(workspace=other_workspace, queue=foreign_queue)
    ParticipantFactory(ticket=foreign_ticket, user=agent.user)

    member_remove(membership=agent, actor=admin.user)

    assert not Membership.objects.filter(pk=agent.pk).exists()
    assert not QueueUserObjectPermission.objects.filter(
        user=agent.user, content_object__workspace=workspace
    ).exists()
    assert not TicketParticipant.objects.filter(user=agent.user, workspace=workspace).exists()
    assert Membership.objects.filter(pk=elsewhere.pk).exists()
    assert QueueUserObjectPermission.objects.filter(user=agent.user, content_object=foreign_queue).exists()
    assert TicketParticipant.objects.filter(user=agent.user, workspace=other_workspace).count() == 1
    [event] = events("member.removed", workspace)
    assert event.detail == {"role": "agent", "grants_removed": 2, "participations_removed": 1}
    assert event.target_id == str(agent.user_id)
    assert announced == [(workspace.pk, agent.user_id)]


def test_the_last_admin_cannot_be_removed(workspace, admin, announced):
    with pytest.raises(ValidationError) as caught:
        member_remove(membership=admin, actor=admin.user)
    assert caught.value.messages == [LAST_ADMIN]
    assert Membership.objects.filter(pk=admin.pk).exists()
    assert events("member.removed") == []
    assert announced == []


def test_removal_tells_the_members_open_websockets_after_commit(
    workspace, admin, requester, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(member_group(workspace.pk, requester.user_id), channel)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        member_remove(membership=requester, actor=admin.user)
    assert callbacks, "the announcement waits for the commit"
    for callback in callbacks:
        callback()

    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == ACCESS_CHANGED
    async_to_sync(layer.group_discard)(member_group(workspace.pk, requester.user_id), channel)


# Queues ---------------------------------------------------------------------------------------------


def test_queue_create_audits_and_refuses_a_duplicate_name_ignoring_case(workspace, other_workspace, admin):
    queue = queue_create(workspace=workspace, name="  Returns ", actor=admin.user)
    assert queue.name == "Returns"
    [event] = events("queue.created", workspace)
    assert event.target_id == str(queue.pk)

    with pytest.raises(ValidationError) as caught:
        queue_create(workspace=workspace, name="returns", actor=admin.user)
    assert caught.value.message_dict == {"name": [QUEUE_NAME_TAKEN.format(name="returns")]}
    # The same name in another workspace is fine: names are unique per workspace.
    queue_create(workspace=other_workspace, name="Returns")


def test_queue_rename_audits_old_and_new_name_and_refuses_a_taken_one(workspace, admin, queue, other_queue):
    queue_rename(queue=queue, name="Help", actor=admin.user)
    queue.refresh_from_db()
    assert queue.name == "Help"
    [event] = events("queue.renamed", workspace)
    assert event.detail == {"from": "Support", "to": "Help"}

    with pytest.raises(ValidationError) as caught:
        queue_rename(queue=queue, name="BILLING", actor=admin.user)
    assert caught.value.message_dict == {"name": [QUEUE_NAME_TAKEN.format(name="BILLING")]}
    queue.refresh_from_db()
    assert queue.name == "Help"


def test_grant_and_revoke_write_and_delete_the_guardian_row(workspace, admin, queue, announced):
    agent = make_member(workspace, Role.AGENT)
    queue_grant(queue=queue, membership=agent, actor=admin.user)
    assert list(queues_granted_to(agent)) == [queue]
    assert grant_rows(agent).count() == 1

    queue_revoke(queue=queue, membership=agent, actor=admin.user)
    assert grant_rows(agent).count() == 0
    assert [e.detail for e in events("queue.access_granted", workspace)] == [{"user_id": agent.user_id}]
    assert [e.detail for e in events("queue.access_revoked", workspace)] == [{"user_id": agent.user_id}]
    assert announced == [(workspace.pk, agent.user_id)]


def test_grants_are_refused_for_non_agents_and_foreign_queues(workspace, other_workspace, admin, requester):
    foreign = QueueFactory(workspace=other_workspace)
    agent = make_member(workspace, Role.AGENT)
    with pytest.raises(ValidationError) as caught:
        queue_grant(queue=QueueFactory(workspace=workspace), membership=requester, actor=admin.user)
    assert caught.value.messages == [QUEUES_ONLY_FOR_AGENTS]
    with pytest.raises(ValidationError) as caught:
        queue_grant(queue=foreign, membership=agent, actor=admin.user)
    assert caught.value.messages == [QUEUE_OF_OTHER_WORKSPACE]
    with pytest.raises(ValidationError):
        queue_revoke(queue=foreign, membership=agent, actor=admin.user)
    assert not QueueUserObjectPermission.objects.exists()


def test_member_queues_set_grants_and_revokes_only_the_difference(
    workspace, admin, agent, queue, other_queue, announced
):
    third = QueueFactory(workspace=workspace, name="Returns")

    granted, revoked = member_queues_set(membership=agent, queues=[other_queue, third], actor=admin.user)

    assert {q.pk for q in granted} == {other_queue.pk, third.pk}
    assert [q.pk for q in revoked] == [queue.pk]
    assert set(queues_granted_to(agent)) == {other_queue, third}
    assert len(events("queue.access_granted", workspace)) == 2
    assert len(events("queue.access_revoked", workspace)) == 1

    granted, revoked = member_queues_set(membership=agent, queues=[other_queue, third], actor=admin.user)
    assert (granted, revoked) == ([], [])
    assert len(events("queue.access_granted", workspace)) == 2


@pytest.mark.parametrize("role", [Role.ADMIN, Role.REQUESTER])
def test_member_queues_set_is_refused_for_non_agents_even_when_empty(
    workspace, admin, queue, role, announced
):
    member = admin if role == Role.ADMIN else make_member(workspace, role)
    with pytest.raises(ValidationError) as caught:
        member_queues_set(membership=member, queues=[], actor=admin.user)
    assert caught.value.messages == [QUEUES_ONLY_FOR_AGENTS]
    assert events("queue.access_revoked") == []
    assert announced == []
