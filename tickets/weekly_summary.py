"""What the weekly summary says about tickets, per workspace the person belongs to.

Agents and admins: how many open tickets they can see, how many of those are assigned to them,
and the one waiting longest for an answer (new or open, least recently updated). Requesters:
their open tickets. Counted through ``tickets.access.visible_tickets``, the same scope as the
pages, so a summary never names a ticket its reader could not open. Registered with
``helpdesk.digest`` from ``TicketsConfig.ready``."""

from django.urls import reverse

from helpdesk.site import absolute_url
from tickets.access import visible_tickets
from tickets.models import Status
from tickets.selectors import memberships_of_user

# A requester with many open tickets gets the count and the most recent ones, not a long list.
LISTED_TICKETS = 10


def _ticket_link(workspace, ticket) -> str:
    return absolute_url(reverse("ticket_detail", kwargs={"slug": workspace.slug, "number": ticket.number}))


def _staff_section(membership) -> dict:
    open_tickets = visible_tickets(membership).open()
    oldest = open_tickets.filter(status__in=[Status.NEW, Status.OPEN]).order_by("updated_at", "id").first()
    return {
        "open_count": open_tickets.count(),
        "assigned_count": open_tickets.filter(assignee_id=membership.user_id).count(),
        "oldest": oldest,
        "oldest_url": _ticket_link(membership.workspace, oldest) if oldest is not None else "",
    }


def _requester_section(membership) -> dict:
    open_tickets = visible_tickets(membership).open().order_by("-public_updated_at", "-id")
    listed = list(open_tickets[:LISTED_TICKETS])
    return {
        "open_count": open_tickets.count(),
        "tickets": [{"ticket": t, "url": _ticket_link(membership.workspace, t)} for t in listed],
    }


def summary_sections(user) -> list[dict]:
    sections = []
    for membership in memberships_of_user(user_id=user.pk):
        if membership.is_restricted:
            # Restriction of processing: nothing of that workspace is emailed to them.
            continue
        workspace = membership.workspace
        section = {
            "workspace": workspace,
            "is_staff": membership.is_staff,
            "list_url": absolute_url(reverse("ticket_list", kwargs={"slug": workspace.slug})),
        }
        section.update(_staff_section(membership) if membership.is_staff else _requester_section(membership))
        sections.append(section)
    return sections
