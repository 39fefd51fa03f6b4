"""Which ticket an incoming reply belongs to.

In order of trust: the signed reply address it was sent to (``support+r-<ticket>-<person>-<sig>``),
then our own signed Message-IDs in In-Reply-To/References, then a ``[#number]`` in the subject.
Whatever found the ticket, the sender must be one of its people (the requester, a participant,
or staff who may see it): a token forwarded to a stranger, or a guessed ``[#12]``, never lands a
stranger's words in someone else's ticket.
"""

import re
from dataclasses import dataclass

from tickets.access import can_see_ticket
from tickets.mail.addresses import parse_reply_address, ticket_ids_in_references
from tickets.mail.models import Mailbox
from tickets.mail.parse import ParsedEmail
from tickets.models import Ticket

_SUBJECT_NUMBER = re.compile(r"\[#(\d{1,9})\]")


@dataclass(frozen=True)
class Thread:
    ticket: Ticket | None
    # How it was found: token, references, subject ("" when no ticket was named).
    via: str
    # A ticket was named but the sender is not one of its people.
    stranger: bool = False


def _own_mailbox_addresses(mailbox: Mailbox) -> set[str]:
    return set(Mailbox.objects.filter(workspace_id=mailbox.workspace_id).values_list("address", flat=True))


def _named_ticket(mailbox: Mailbox, parsed: ParsedEmail) -> tuple[Ticket | None, str]:
    own = _own_mailbox_addresses(mailbox)
    for address in parsed.recipients:
        token = parse_reply_address(address)
        if token is not None and token.mailbox_address in own:
            ticket = Ticket.objects.filter(workspace_id=mailbox.workspace_id, pk=token.ticket_id).first()
            if ticket is not None:
                return ticket, "token"
    for ticket_id in ticket_ids_in_references(parsed.in_reply_to, parsed.references):
        ticket = Ticket.objects.filter(workspace_id=mailbox.workspace_id, pk=ticket_id).first()
        if ticket is not None:
            return ticket, "references"
    return None, ""


def thread_of(*, mailbox: Mailbox, parsed: ParsedEmail, membership) -> Thread:
    """The ticket ``parsed`` replies to, for a sender with ``membership`` (None: not a member)."""
    ticket, via = _named_ticket(mailbox, parsed)
    if ticket is not None:
        if membership is not None and can_see_ticket(membership, ticket.pk):
            return Thread(ticket, via)
        return Thread(None, via, stranger=True)
    match = _SUBJECT_NUMBER.search(parsed.subject)
    if match and membership is not None:
        ticket = Ticket.objects.filter(workspace_id=mailbox.workspace_id, number=int(match.group(1))).first()
        # Only for the ticket's own people; for anyone else a "[#12]" says nothing.
        if ticket is not None and can_see_ticket(membership, ticket.pk):
            return Thread(ticket, "subject")
    return Thread(None, "")
