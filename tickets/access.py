"""Who may reach a ticket, a message, a file or a participant, and what they may do there: the
one place every ticket view, consumer, notification and export asks.

``visible_<things>(membership)`` are the scoped querysets every read starts from. Each
``get_<thing>_or_404`` fetches with the workspace in the query and the member's visibility
applied, and answers the same 404 for a row that does not exist, one of another workspace and
one the member may not see. The ``can_*`` helpers decide actions; a view answers 404 when they
say no, so a requester cannot even learn that an agent-only action exists.
"""

from datetime import timedelta

from django.db import connection
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from helpdesk import compiled_queries
from tickets.models import Attachment, Message, Status, Ticket, TicketParticipant
from workspaces.access import NOT_FOUND
from workspaces.models import Membership

# Authors may correct a message for this long after posting it.
MESSAGE_EDIT_WINDOW = timedelta(minutes=15)


# Tickets ----------------------------------------------------------------------------------------


def visible_tickets(membership: Membership):
    """Admins: every ticket of the workspace. Agents: those of the queues granted to them.
    Requesters: the ones they requested or take part in. One SQL query."""
    return Ticket.objects.visible_to(membership)


def get_ticket_or_404(membership: Membership, number: int, *, extras=None) -> Ticket:
    """The ticket ``number`` of the member's workspace, if they may see it; 404 otherwise.

    ``extras``: ``(name, add, values)``, where ``add(tickets, membership, **values(membership))``
    returns the queryset with what a page reads along with the ticket (annotations): one
    statement instead of a query each. ``values`` are what changes from view to view (a time)."""
    values = {"number": int(number)}
    if extras is not None:
        values.update(extras[2](membership))

    def build(number, **extra_values):
        tickets = visible_tickets(membership).select_related("workspace", "queue", "requester", "assignee")
        if extras is not None:
            tickets = extras[1](tickets, membership, **extra_values)
        return tickets.filter(number=number).order_by("pk")[:1]

    # Compiled once per member (helpdesk.compiled_queries): every ticket page asks this.
    shape = ("ticket_of_member", connection.vendor, membership.workspace_id, membership.user_id)
    shape += (membership.role, None if extras is None else extras[0])
    found = compiled_queries.rows_of(shape, build, values)
    if not found:
        raise Http404(NOT_FOUND)
    return found[0]


def find_visible_ticket(membership: Membership, ticket_id: int) -> Ticket | None:
    """The ticket by id if the member may see it, else None: for callers that re-check after a
    change (a list row pushed over a websocket, a notification) rather than answer a URL."""
    return (
        visible_tickets(membership)
        .select_related("queue", "requester", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


def can_see_ticket(membership: Membership, ticket_id: int) -> bool:
    return visible_tickets(membership).filter(pk=ticket_id).exists()


# Messages ---------------------------------------------------------------------------------------


def visible_messages(membership: Membership):
    """Messages of the member's visible tickets; internal notes only for admins and agents."""
    return Message.objects.visible_to(membership)


def messages_of_ticket(membership: Membership, ticket: Ticket):
    """The messages of ``ticket``, already reached through ``get_ticket_or_404``, that the member
    may read (no notes for requesters). The ticket's visibility was checked when it was reached,
    so unlike ``visible_messages`` the query does not join the visible tickets again."""
    return Message.objects.filter(workspace_id=membership.workspace_id, ticket_id=ticket.pk).readable_by(
        membership
    )


def get_message_or_404(membership: Membership, ticket: Ticket, message_id: int) -> Message:
    """A message of ``ticket`` the member may see (never a note for a requester), or 404."""
    message = (
        visible_messages(membership)
        .select_related("author")
        .filter(ticket_id=ticket.pk, pk=message_id)
        .first()
    )
    if message is None:
        raise Http404(NOT_FOUND)
    return message


def find_visible_message(membership: Membership, message_id: int) -> Message | None:
    """A message if this member may read it (notifications re-check with this), else None."""
    return visible_messages(membership).select_related("ticket", "author").filter(pk=message_id).first()


# Attachments ------------------------------------------------------------------------------------


def visible_attachments(membership: Membership):
    """Attachments this member may fetch: on visible tickets, and not on messages they cannot
    see (a requester never reaches a file on an internal note). One SQL query."""
    return Attachment.objects.filter(
        workspace_id=membership.workspace_id,
        ticket__in=visible_tickets(membership).values("id"),
        # A redacted file has no bytes left: nothing to download or export.
        redacted_at__isnull=True,
    ).filter(Q(message__isnull=True) | Q(message__in=visible_messages(membership).values("id")))


def get_attachment_or_404(membership: Membership, number: int, attachment_id: int) -> Attachment:
    """The attachment at ``/tickets/<number>/attachments/<id>/``, or the same 404 for missing,
    another workspace's, or not visible to this member."""
    attachment = visible_attachments(membership).filter(ticket__number=number, pk=attachment_id).first()
    if attachment is None:
        raise Http404(NOT_FOUND)
    return attachment


# Participants -----------------------------------------------------------------------------------
# Whoever may see a ticket sees who takes part in it: these take a ticket already reached
# through ``get_ticket_or_404``.


def visible_participants(ticket: Ticket):
    return (
        TicketParticipant.objects.filter(workspace_id=ticket.workspace_id, ticket_id=ticket.pk)
        .select_related("user")
        .order_by("added_at", "id")
    )


def participants_of(ticket: Ticket) -> list[TicketParticipant]:
    """``visible_participants`` read through SQL kept per process (the ticket page's)."""

    def build(workspace_id, ticket_id):
        return visible_participants(Ticket(pk=ticket_id, workspace_id=workspace_id))

    shape = ("visible_participants", connection.vendor)
    return compiled_queries.rows_of(
        shape, build, {"workspace_id": ticket.workspace_id, "ticket_id": ticket.pk}
    )


def get_participant_or_404(ticket: Ticket, user_id: int) -> TicketParticipant:
    participant = visible_participants(ticket).filter(user_id=user_id).first()
    if participant is None:
        raise Http404(NOT_FOUND)
    return participant


# Actions ----------------------------------------------------------------------------------------


def is_staff(membership: Membership) -> bool:
    return membership.is_staff


def can_post_note(membership: Membership) -> bool:
    return membership.is_staff


def can_change_status(membership: Membership, ticket: Ticket, status: str | None = None) -> bool:
    """Staff set any status. A requester may only close a ticket they requested."""
    if membership.is_staff:
        return True
    if ticket.requester_id != membership.user_id:
        return False
    return status in (None, Status.CLOSED) and ticket.status != Status.CLOSED


def can_close(membership: Membership, ticket: Ticket) -> bool:
    return ticket.status != Status.CLOSED and can_change_status(membership, ticket, Status.CLOSED)


def can_change_priority(membership: Membership) -> bool:
    return membership.is_staff


def can_assign(membership: Membership) -> bool:
    return membership.is_staff


def can_move_queue(membership: Membership) -> bool:
    return membership.is_staff


def can_manage_participants(membership: Membership) -> bool:
    return membership.is_staff


def can_choose_requester(membership: Membership) -> bool:
    return membership.is_staff


def edit_window_open(message: Message, *, now=None) -> bool:
    # A redacted message is never edited again: an edit must not bring the redacted text back.
    if message.redacted_at is not None:
        return False
    return (now or timezone.now()) - message.created_at <= MESSAGE_EDIT_WINDOW


def can_redact(membership: Membership) -> bool:
    """Admins redact; agents too when their workspace allows it (Security settings)."""
    if membership.is_admin:
        return True
    return membership.is_agent and membership.workspace.agents_may_redact


def can_edit_message(membership: Membership, message: Message, *, now=None) -> bool:
    """Only the author, and only within ``MESSAGE_EDIT_WINDOW``. A note's author must still be
    staff (someone demoted to requester cannot reach their old notes)."""
    if message.author_id is None or message.author_id != membership.user_id:
        return False
    if message.is_note and not membership.is_staff:
        return False
    return edit_window_open(message, now=now)
