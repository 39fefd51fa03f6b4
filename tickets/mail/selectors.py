"""Reads of the email channel that ticket pages show to staff."""

from django.db import connection
from django.db.models import OuterRef, Subquery

from helpdesk import compiled_queries
from tickets.mail.failing import address_digest
from tickets.mail.models import FailingAddress, InboundEmail, Mailbox
from tickets.models import Ticket


def failing_addresses_of_ticket(ticket: Ticket, participants) -> list[tuple]:
    """(person, FailingAddress) for the ticket's requester and ``participants`` (the page's
    already loaded TicketParticipant rows) whose address mail fails to. One query."""
    people = [ticket.requester, *(participant.user for participant in participants)]
    by_digest = {address_digest(person.email): person for person in people if person is not None}
    digests = {f"digest{n}": digest for n, digest in enumerate(by_digest)}

    def build(**digests):
        return FailingAddress.objects.filter(digest__in=list(digests.values()))

    # Asked on every staff view of a ticket: its SQL is kept per process and number of people.
    shape = ("failing_addresses_of_ticket", connection.vendor, len(digests))
    rows = compiled_queries.rows_of(shape, build, digests) if digests else []
    return sorted(((by_digest[row.digest], row) for row in rows), key=lambda pair: pair[0].email)


def email_full_text_of_message():
    """The whole email a message's body was trimmed from, as a subquery over the messages (null
    for none): staff read it beside the trimmed body, in the messages' own query."""
    emails = InboundEmail.objects.filter(message_id=OuterRef("pk")).exclude(full_text="")
    return Subquery(emails.values("full_text")[:1])


def mailboxes_of(workspace):
    return Mailbox.objects.of_workspace(workspace).select_related("queue").order_by("address")


def mailbox_of(workspace, mailbox_id: int) -> Mailbox | None:
    """The workspace's mailbox by id, or None (also for another workspace's)."""
    return Mailbox.objects.of_workspace(workspace).select_related("queue").filter(pk=mailbox_id).first()


def recent_inbound(workspace, mailbox: Mailbox | None = None, *, limit: int = 50):
    rows = InboundEmail.objects.of_workspace(workspace).select_related("ticket", "sender", "mailbox")
    if mailbox is not None:
        rows = rows.filter(mailbox=mailbox)
    return rows.order_by("-received_at", "-id")[:limit]
