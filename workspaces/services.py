"""Writes on workspaces, memberships and queues. Every change here is audited."""

from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from privacy.audit import audit_record
from tickets.querysets import QUEUE_PERMISSION
from workspaces.models import Membership, Queue, QueueUserObjectPermission, Workspace


@transaction.atomic
def workspace_create(*, name: str, slug: str, actor=None) -> Workspace:
    workspace = Workspace(name=name, slug=slug)
    workspace.full_clean()
    workspace.save()
    audit_record(action="workspace.created", actor=actor, workspace=workspace, target=workspace)
    return workspace


@transaction.atomic
def membership_create(*, workspace: Workspace, user, role: str, actor=None, request=None) -> Membership:
    membership = Membership(workspace=workspace, user=user, role=role)
    membership.full_clean()
    membership.save()
    audit_record(
        action="member.added",
        request=request,
        actor=actor,
        workspace=workspace,
        target=user,
        detail={"role": role},
    )
    return membership


@transaction.atomic
def queue_create(*, workspace: Workspace, name: str, actor=None, request=None) -> Queue:
    queue = Queue(workspace=workspace, name=name)
    queue.full_clean()
    queue.save()
    audit_record(action="queue.created", request=request, actor=actor, workspace=workspace, target=queue)
    return queue


@transaction.atomic
def queue_grant(*, queue: Queue, membership: Membership, actor=None, request=None) -> None:
    """Let an agent see and work the tickets of ``queue``."""
    assert membership.workspace_id == queue.workspace_id
    assign_perm(QUEUE_PERMISSION, membership.user, queue)
    audit_record(
        action="queue.access_granted",
        request=request,
        actor=actor,
        workspace=queue.workspace,
        target=queue,
        detail={"user_id": membership.user_id},
    )


@transaction.atomic
def queue_revoke(*, queue: Queue, membership: Membership, actor=None, request=None) -> None:
    assert membership.workspace_id == queue.workspace_id
    remove_perm(QUEUE_PERMISSION, membership.user, queue)
    audit_record(
        action="queue.access_revoked",
        request=request,
        actor=actor,
        workspace=queue.workspace,
        target=queue,
        detail={"user_id": membership.user_id},
    )


def queues_granted_to(membership: Membership):
    """The queues this member may work: all for admins, granted ones for agents, none else."""
    queues = Queue.objects.of_workspace(membership.workspace_id)
    if membership.is_admin:
        return queues
    if membership.is_agent:
        return queues.filter(
            id__in=QueueUserObjectPermission.objects.filter(
                user_id=membership.user_id, permission__codename=QUEUE_PERMISSION
            ).values("content_object_id")
        )
    return queues.none()
