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


def properties_data(ticket, **changes):
    """A post of the ticket page's properties form as shown for ``ticket`` now (values, hidden
    "seen" values and version), with ``changes`` made by the person."""
    ticket.refresh_from_db()
    values = {
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue_id,
        "assignee": ticket.assignee_id or "",
    }
    seen = {f"seen_{name}": value for name, value in values.items()}
    return {**values, **seen, "version": ticket.version, **changes}


def url(workspace, name="", number=None, *rest):
    base = f"/w/{workspace.slug}/tickets/"
    if number is None:
        return base + name
    tail = "/".join(str(part) for part in rest)
    return f"{base}{number}/" + (f"{tail}/" if tail else "")


__all__ = ["QueueFactory", "agent_of", "member", "new_ticket", "note", "properties_data", "reply", "url"]
