"""Helpers shared by the ticket page and service tests (not a test module)."""

from guardian.shortcuts import assign_perm

from tests.factories import MembershipFactory, QueueFactory, UserFactory
from tickets.models import MessageKind
from tickets.services import message_post, ticket_create
from workspaces.models import QUEUE_PERMISSION, Role


def member(workspace, role, **user_kwargs):
    return MembershipFactory(workspace=workspace, role=role, user=UserFactory(**user_kwargs))


def agent_of(workspace, *queues, **user_kwargs):
    membership = member(workspace, Role.AGENT, **user_kwargs)
    for queue in queues:
        assign_perm(QUEUE_PERMISSION, membership.user, queue)
    return membership


def new_ticket(membership, queue, subject="Printer on fire", description="It smokes.", **kwargs):
    """A ticket opened by ``membership``'s person through the service (numbering, audit...)."""
    return ticket_create(
        workspace=membership.workspace,
        queue=queue,
        requester=membership.user,
        subject=subject,
        description=description,
        **kwargs,
    )


def reply(ticket, membership, body="A reply", **kwargs):
    return message_post(ticket=ticket, author=membership.user, kind=MessageKind.REPLY, body=body, **kwargs)


def note(ticket, membership, body="A note", **kwargs):
    return message_post(ticket=ticket, author=membership.user, kind=MessageKind.NOTE, body=body, **kwargs)


def url(workspace, name="", number=None, *rest):
    base = f"/w/{workspace.slug}/tickets/"
    if number is None:
        return base + name
    tail = "/".join(str(part) for part in rest)
    return f"{base}{number}/" + (f"{tail}/" if tail else "")


__all__ = ["QueueFactory", "agent_of", "member", "new_ticket", "note", "reply", "url"]
