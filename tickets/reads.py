"""What each staff member has read: the list's "unread" and "customer replied" markers.

Opening a ticket's page records when (``TicketRead``, one row per person and ticket, upserted),
unless the person had already seen the ticket as it is: the marker would not change, and a view
of an unchanged ticket writes nothing (nor keeps a trail of every time a person looked).
A ticket is unread for an agent when it changed after they last opened it, and "customer
replied" when the requester or a participant replied after that. A ticket the agent never opened
counts from when they joined the workspace, so a new agent's list is not all unread, and an
existing workspace does not light up every old ticket the day this shipped.

Only staff have markers; requesters' pages never record or show reads.
"""

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from tickets.models import Ticket, TicketRead

UNREAD = "unread"
CUSTOMER_REPLIED = "customer_replied"


def mark_seen(*, membership, ticket: Ticket, now=None) -> None:
    """Record that ``membership``'s person (staff) has just seen ``ticket``. Safe from two tabs.

    One upsert written out rather than ``bulk_create(update_conflicts=True)``: it runs on a view
    of a ticket by staff that changed since they last saw it, and the ORM took twice as long to
    build it as the database to run it. The same statement on PostgreSQL and SQLite (both have
    ``ON CONFLICT ... DO UPDATE``)."""
    if not membership.is_staff or _seen_as_it_is(ticket, membership):
        return
    seen_at = connection.ops.adapt_datetimefield_value(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_MARK_SEEN, [ticket.workspace_id, ticket.pk, membership.user_id, seen_at])


def _seen_as_it_is(ticket: Ticket, membership) -> bool:
    """Whether the member has a read (``ticket.seen_at``, read with the ticket by
    ``with_seen_at``) that ``marker`` finds later than every change: a new one would show the
    same markers, now and after any later change."""
    return getattr(ticket, "seen_at", None) is not None and marker(ticket=ticket, membership=membership) == ""


# TicketRead's table and unique (ticket, user) key: tests/tickets/test_read_markers.py opens a
# ticket twice (two tabs) and finds one row.
_MARK_SEEN = (
    'INSERT INTO "tickets_ticketread" ("workspace_id", "ticket_id", "user_id", "seen_at")'
    " VALUES (%s, %s, %s, %s)"
    ' ON CONFLICT ("ticket_id", "user_id") DO UPDATE SET "seen_at" = EXCLUDED."seen_at"'
)


def with_seen_at(tickets, membership):
    """``tickets`` annotated with ``seen_at``: when this member last opened each (or None).

    A correlated lookup on the (ticket, user) unique index: one query for the page, whatever the
    number of rows.
    """
    if not membership.is_staff:
        return tickets
    return tickets.annotate(
        seen_at=Subquery(
            TicketRead.objects.filter(ticket_id=OuterRef("pk"), user_id=membership.user_id).values("seen_at")[
                :1
            ]
        )
    )


def seen_at_of(*, membership, ticket: Ticket):
    """When this member last opened ``ticket`` (for one row rendered on its own, e.g. live)."""
    if not membership.is_staff:
        return None
    return (
        TicketRead.objects.filter(ticket_id=ticket.pk, user_id=membership.user_id)
        .values_list("seen_at", flat=True)
        .first()
    )


def marker(*, ticket: Ticket, membership) -> str:
    """``CUSTOMER_REPLIED``, ``UNREAD`` or "" for this staff member's row of ``ticket``.

    Needs ``ticket.seen_at`` (``with_seen_at`` or set by the caller); without it, no marker.
    """
    if not membership.is_staff or not hasattr(ticket, "seen_at"):
        return ""
    since = ticket.seen_at or membership.created_at
    if ticket.customer_replied_at and ticket.customer_replied_at > since:
        return CUSTOMER_REPLIED
    if ticket.updated_at > since:
        return UNREAD
    return ""
