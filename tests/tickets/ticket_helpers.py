"""Helpers shared by the ticket page and service tests (not a test module)."""

import copy

from guardian.shortcuts import assign_perm

from tests.factories import MembershipFactory, QueueFactory, UserFactory
from tickets.models import MessageKind, Ticket
from tickets.selectors import ticket_list_page
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


def bulk_copies(ticket, count, **varying) -> None:
    """Save ``count`` copies of ``ticket`` at once (``bulk_create``: no service, no audit), for
    tests that need a table big enough for PostgreSQL to plan as it would in production. The
    copies are numbered past any number the workspace will give; ``varying`` maps a field to
    a function of the copy's index (0, 1, ...)."""
    copies = []
    for n in range(count):
        twin = copy.copy(ticket)
        twin.pk, twin.number = None, 100_000 + n
        for name, value_of in varying.items():
            setattr(twin, name, value_of(n))
        copies.append(twin)
    Ticket.objects.bulk_create(copies)


def walk_pages(membership, filters, page_size):
    """Follow the list's "Older" links to the end, then its "Newer" links back to the start:
    (the pages going forwards, the pages coming back), each page the primary keys of its rows."""
    pages, cursor = [], None
    while True:
        page = ticket_list_page(membership=membership, filters=filters, after=cursor, page_size=page_size)
        pages.append([t.pk for t in page.tickets])
        if page.older_cursor is None:
            break
        cursor = page.older_cursor
    back, cursor = [], page.newer_cursor
    while cursor is not None:
        page = ticket_list_page(membership=membership, filters=filters, before=cursor, page_size=page_size)
        back.append([t.pk for t in page.tickets])
        cursor = page.newer_cursor
    return pages, back
