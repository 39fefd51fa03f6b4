"""Who may reach a ticket and what they may do on it: the one place every ticket view asks.

``access_ticket`` fetches with the workspace in the query and the member's visibility applied,
and answers the same 404 for a ticket that does not exist, one of another workspace and one the
member may not see. The ``can_*`` helpers decide actions; a view answers 404 when they say no,
so a requester cannot even learn that an agent-only action exists.
"""

from datetime import timedelta

from django.http import Http404
from django.utils import timezone

from tickets.models import Message, Status, Ticket
from workspaces.access import NOT_FOUND
from workspaces.models import Membership

# Authors may correct a message for this long after posting it.
MESSAGE_EDIT_WINDOW = timedelta(minutes=15)


def access_ticket(*, membership: Membership, number: int) -> Ticket:
    """The ticket ``number`` of the member's workspace, if they may see it; 404 otherwise."""
    ticket = (
        Ticket.objects.visible_to(membership)
        .select_related("workspace", "queue", "requester", "assignee")
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404(NOT_FOUND)
    return ticket


def access_message(*, membership: Membership, ticket: Ticket, message_id: int) -> Message:
    """A message of ``ticket`` the member may see (never a note for a requester), or 404."""
    message = (
        Message.objects.visible_to(membership)
        .select_related("author")
        .filter(ticket_id=ticket.pk, pk=message_id)
        .first()
    )
    if message is None:
        raise Http404(NOT_FOUND)
    return message


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
    return (now or timezone.now()) - message.created_at <= MESSAGE_EDIT_WINDOW


def can_edit_message(membership: Membership, message: Message, *, now=None) -> bool:
    """Only the author, and only within ``MESSAGE_EDIT_WINDOW``. A note's author must still be
    staff (someone demoted to requester cannot reach their old notes)."""
    if message.author_id is None or message.author_id != membership.user_id:
        return False
    if message.is_note and not membership.is_staff:
        return False
    return edit_window_open(message, now=now)
