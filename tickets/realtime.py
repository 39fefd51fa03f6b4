"""Announcing ticket changes to open websockets.

Services call ``broadcast_message`` and ``broadcast_ticket`` inside ``transaction.on_commit``, so
a rolled-back change never announces itself. The events carry ids and the kind of event only,
never a body or a field value: each consumer re-reads the row through the same visibility
querysets the pages use and renders it for its own member. A note sent to the wrong group would
therefore still never reach a requester; the separate staff group is a second wall, not the only
one.

Groups:

- ``ticket-<id>-public``: replies and ticket changes a requester can see, for everyone on the
  ticket page;
- ``ticket-<id>-staff``: internal notes and agent-only changes, joined only by admins and agents;
- ``ws-<workspace_id>-queue-<queue_id>``: the ticket list of agents and admins of that queue;
- ``ws-<workspace_id>-user-<user_id>``: the ticket list of a requester (their own tickets and
  the ones they take part in).
"""

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tickets.models import TicketParticipant

# Channel-layer event types; a consumer handles ``message.created`` in ``message_created``.
MESSAGE_CREATED = "message.created"
TICKET_CHANGED = "ticket.changed"


def ticket_public_group(ticket_id: int) -> str:
    return f"ticket-{ticket_id}-public"


def ticket_staff_group(ticket_id: int) -> str:
    return f"ticket-{ticket_id}-staff"


def queue_group(workspace_id: int, queue_id: int) -> str:
    return f"ws-{workspace_id}-queue-{queue_id}"


def user_list_group(workspace_id: int, user_id: int) -> str:
    return f"ws-{workspace_id}-user-{user_id}"


def _send(groups: list[str], event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    for group in dict.fromkeys(groups):
        send(group, event)


def _people_groups(ticket) -> list[str]:
    """The list groups of the requester and the participants of ``ticket``."""
    user_ids = list(
        TicketParticipant.objects.filter(ticket_id=ticket.pk, workspace_id=ticket.workspace_id).values_list(
            "user_id", flat=True
        )
    )
    if ticket.requester_id is not None:
        user_ids.insert(0, ticket.requester_id)
    return [user_list_group(ticket.workspace_id, user_id) for user_id in user_ids]


def broadcast_message(message) -> None:
    """Announce a new message: a note to the staff group only, a reply to the public group.

    Ticket lists hear that the ticket moved; a requester's list does not hear about notes.
    Call it after commit (``transaction.on_commit(lambda: broadcast_message(message))``).
    """
    ticket = message.ticket
    # ``rev`` names this announcement (an edit or a redaction announces the same message
    # again): consumers render once per rev and audience (tickets.live_render). Not content.
    event = {
        "type": MESSAGE_CREATED,
        "ticket_id": message.ticket_id,
        "message_id": message.pk,
        "rev": uuid.uuid4().hex,
    }
    list_event = {"type": TICKET_CHANGED, "ticket_id": message.ticket_id, "ticket_number": ticket.number}
    if message.is_note:
        _send([ticket_staff_group(message.ticket_id)], event)
        _send([queue_group(ticket.workspace_id, ticket.queue_id)], list_event)
        return
    _send([ticket_public_group(message.ticket_id)], event)
    _send([queue_group(ticket.workspace_id, ticket.queue_id), *_people_groups(ticket)], list_event)


def broadcast_ticket(ticket, *, previous_queue_id: int | None = None, public: bool = True) -> None:
    """Announce that a ticket was created or changed (status, priority, assignee, queue...).

    ``previous_queue_id`` names the queue a ticket was moved out of, so that list drops the row.
    ``public=False`` is a change only staff can see (priority, assignee, queue): it goes to the
    ticket's staff group instead of its public one, and the requester's and participants' lists
    are not told, so nothing on a requester's screen moves for it. Call it after commit.
    """
    event = {"type": TICKET_CHANGED, "ticket_id": ticket.pk, "ticket_number": ticket.number}
    page_group = ticket_public_group(ticket.pk) if public else ticket_staff_group(ticket.pk)
    groups = [page_group, queue_group(ticket.workspace_id, ticket.queue_id)]
    if previous_queue_id is not None and previous_queue_id != ticket.queue_id:
        groups.append(queue_group(ticket.workspace_id, previous_queue_id))
    _send([*groups, *(_people_groups(ticket) if public else [])], event)


# Presence (tickets.presence) is announced by the consumers themselves, which never write to the
# database: a ticket page's socket tells the ticket's staff group and its queue's lists that the
# presence of ``ticket_id`` changed; each listener re-reads it and renders it for its member.
PRESENCE_CHANGED = "presence.changed"


def presence_event(ticket_id: int, ticket_number: int) -> dict:
    """The ``presence.changed`` event: ids only, like every event here."""
    return {"type": PRESENCE_CHANGED, "ticket_id": ticket_id, "ticket_number": ticket_number}


# --- bulk changes (tickets/bulk_services.py) ---

BROADCAST_BATCH = 50


def broadcast_tickets(tickets, *, previous_queue_ids: dict | None = None, public: bool = True) -> None:
    """``broadcast_ticket`` for many tickets at once: the same event to the same groups for each
    ticket, but the requesters' and participants' groups are read in one query and every send
    goes out through one ``async_to_sync`` call (a thread hop each is what made 500 separate
    broadcasts slow). Call it after commit."""
    layer = get_channel_layer()
    if layer is None or not tickets:
        return
    previous_queue_ids = previous_queue_ids or {}
    people: dict[int, list[int]] = {}
    if public:
        rows = TicketParticipant.objects.filter(
            ticket_id__in=[t.pk for t in tickets], workspace_id=tickets[0].workspace_id
        ).values_list("ticket_id", "user_id")
        for ticket_id, user_id in rows:
            people.setdefault(ticket_id, []).append(user_id)
    sends = []
    for ticket in tickets:
        event = {"type": TICKET_CHANGED, "ticket_id": ticket.pk, "ticket_number": ticket.number}
        page_group = ticket_public_group(ticket.pk) if public else ticket_staff_group(ticket.pk)
        groups = [page_group, queue_group(ticket.workspace_id, ticket.queue_id)]
        previous = previous_queue_ids.get(ticket.pk)
        if previous is not None and previous != ticket.queue_id:
            groups.append(queue_group(ticket.workspace_id, previous))
        if public:
            user_ids = ([ticket.requester_id] if ticket.requester_id is not None else []) + people.get(
                ticket.pk, []
            )
            groups += [user_list_group(ticket.workspace_id, user_id) for user_id in user_ids]
        sends += [(group, event) for group in dict.fromkeys(groups)]

    async def send_all():
        # A few dozen sends in flight at once instead of one round trip after another; each
        # group still gets one event per ticket (their order across tickets does not matter).
        for start in range(0, len(sends), BROADCAST_BATCH):
            await asyncio.gather(*(layer.group_send(g, e) for g, e in sends[start : start + BROADCAST_BATCH]))

    async_to_sync(send_all)()
