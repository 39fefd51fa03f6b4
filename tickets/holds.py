"""What legal holds cover among tickets and their people (registered as the ``HoldLookups``).

A person hold covers, in its workspace, the tickets they requested, take part in, are assigned
or wrote in, the messages they wrote and the files they uploaded; a ticket hold covers the
ticket, its messages and files. The ``*_held_q`` filters are what the retention selectors
(tickets/retention_kinds.py) exclude, so the preview and the sweep spare exactly the same rows.
The holds themselves (placing, releasing, ``holds_in``) are privacy/retention/holds.py.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from privacy.personal_data.retention_kinds import HoldLookups, HoldSet
from tickets.models import Attachment, Message, Ticket, TicketParticipant
from workspaces.models import Membership, User

# Filters (for querysets of the hold's workspace) --------------------------------------------------------


def ticket_held_q(holds: HoldSet) -> Q:
    """Tickets covered by the holds (a workspace hold is handled by the callers)."""
    q = Q(pk__in=sorted(holds.ticket_ids))
    if holds.user_ids:
        users = sorted(holds.user_ids)
        q |= Q(requester_id__in=users) | Q(assignee_id__in=users)
        q |= Q(Exists(TicketParticipant.objects.filter(ticket_id=OuterRef("pk"), user_id__in=users)))
        q |= Q(Exists(Message.objects.filter(ticket_id=OuterRef("pk"), author_id__in=users)))
    return q


def held_tickets(workspace_id: int, holds: HoldSet):
    return Ticket.objects.filter(workspace_id=workspace_id).filter(ticket_held_q(holds)).values("pk")


def message_held_q(workspace_id: int, holds: HoldSet) -> Q:
    if not holds:
        return Q(pk__in=[])
    return Q(ticket_id__in=held_tickets(workspace_id, holds)) | Q(author_id__in=sorted(holds.user_ids))


def attachment_held_q(workspace_id: int, holds: HoldSet) -> Q:
    if not holds:
        return Q(pk__in=[])
    return Q(ticket_id__in=held_tickets(workspace_id, holds)) | Q(uploaded_by_id__in=sorted(holds.user_ids))


# Lookups ----------------------------------------------------------------------------------------------


def held_for_erasure(user_id: int, *, workspace_id: int | None = None, ticket_id: int | None = None):
    """``(ticket ids, message ids, attachment ids)`` of the person's that one hold keeps from their
    account erasure: under a ticket hold (``ticket_id``), that ticket if they are on it, with its
    messages and files; under a workspace or person hold (``workspace_id``), their tickets there
    (requested or taking part), the messages they wrote and the files they uploaded there, and
    the files on those tickets."""
    mine = Q(requester_id=user_id) | Q(
        Exists(TicketParticipant.objects.filter(ticket_id=OuterRef("pk"), user_id=user_id))
    )
    mine |= Q(Exists(Message.objects.filter(ticket_id=OuterRef("pk"), author_id=user_id)))
    if ticket_id is not None:
        tickets = set(Ticket.objects.filter(pk=ticket_id).filter(mine).values_list("pk", flat=True))
        messages = set(Message.objects.filter(ticket_id__in=tickets).values_list("pk", flat=True))
        files = set(Attachment.objects.filter(ticket_id__in=tickets).values_list("pk", flat=True))
        return tickets, messages, files
    tickets = set(Ticket.objects.filter(workspace_id=workspace_id).filter(mine).values_list("pk", flat=True))
    messages = set(
        Message.objects.filter(workspace_id=workspace_id, author_id=user_id).values_list("pk", flat=True)
    )
    files = set(
        Attachment.objects.filter(workspace_id=workspace_id)
        .filter(Q(uploaded_by_id=user_id) | Q(ticket_id__in=tickets))
        .values_list("pk", flat=True)
    )
    return tickets, messages, files


def person_in_workspace(workspace, email: str):
    """The person with this address among the workspace's members and its tickets' people."""
    email = (email or "").strip().lower()
    if not email:
        return None
    connected = (
        Q(pk__in=Membership.objects.filter(workspace_id=workspace.pk).values("user_id"))
        | Q(pk__in=Ticket.objects.filter(workspace_id=workspace.pk).values("requester_id"))
        | Q(pk__in=TicketParticipant.objects.filter(workspace_id=workspace.pk).values("user_id"))
    )
    return User.objects.filter(email__iexact=email).filter(connected).first()


def ticket_in_workspace(workspace, number: int):
    return Ticket.objects.filter(workspace_id=workspace.pk, number=number).first()


def held_items(workspace_id: int, holds: HoldSet, limit: int):
    """(tickets covered, total): the newest ``limit`` tickets the holds keep."""
    tickets = Ticket.objects.filter(workspace_id=workspace_id)
    if not holds.workspace:
        tickets = tickets.filter(ticket_held_q(holds))
    total = tickets.count()
    rows = list(tickets.select_related("queue", "requester").order_by("-updated_at", "-id")[:limit])
    return rows, total


def held_audit_targets(workspace_id: int, holds: HoldSet) -> dict[str, list[str]]:
    """The tickets whose audit events the holds keep: the held tickets, and under a person hold
    every ticket it covers."""
    ids = set(holds.ticket_ids)
    if holds.user_ids:
        tickets = Ticket.objects.filter(workspace_id=workspace_id).filter(ticket_held_q(holds))
        ids |= set(tickets.values_list("pk", flat=True))
    return {"tickets.ticket": [str(t) for t in sorted(ids)]}


LOOKUPS = HoldLookups(
    find_person=person_in_workspace,
    find_ticket=ticket_in_workspace,
    items=held_items,
    erasure=held_for_erasure,
    audit_targets=held_audit_targets,
)
