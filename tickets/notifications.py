"""Email notifications about tickets.

Services call the ``notify_*`` functions inside their transaction; each schedules a Celery task
with ids only (never a body) after commit. The task calls the matching ``send_*`` function,
which re-reads everything from the database and asks, for every recipient, the same visibility
functions the pages use: a requester's email can only ever carry a message that
``tickets.access.find_visible_message`` returns for their membership, so a note's text cannot
reach them.

One email per recipient (never a To: list of several people), only to active members, never
to the person who caused the event, with a link to the ticket. Every email goes through
``helpdesk.outbound``, which renders the text and HTML parts and skips people who turned that
kind of email off (replies, assignments, mentions).

The tasks are defined here, next to what they call, so scheduling needs no import of
``tickets.tasks``; that module is only the face Celery's autodiscovery finds.
"""

from celery import shared_task
from django.db import transaction
from django.urls import reverse

from helpdesk import outbound
from helpdesk.markdown import Rendered
from helpdesk.site import absolute_url
from tickets.access import can_see_ticket, find_visible_message, visible_participants
from tickets.bodies import message_html
from tickets.models import MessageKind
from tickets.selectors import (
    membership_of,
    message_ticket_and_author,
    queue_agents,
    queue_staff,
    ticket_by_id,
    workspace_admins,
    workspace_users,
)


def _schedule(task, *args) -> None:
    transaction.on_commit(lambda: task.delay(*args), robust=True)


# Scheduling (called by services, inside their transaction) ----------------------------------


def notify_ticket_created(*, ticket, actor) -> None:
    _schedule(send_ticket_created_task, ticket.pk, actor.pk if actor is not None else None)


def notify_reply_posted(*, message) -> None:
    if message.kind != MessageKind.REPLY:
        return  # notes are never announced by email, to anyone
    _schedule(send_reply_posted_task, message.pk)


def notify_mentioned(*, message, user_ids, actor) -> None:
    """Tell the people an internal note mentions (``@[Name](user:ID)``), never its author."""
    user_ids = [uid for uid in user_ids if actor is None or uid != actor.pk]
    if user_ids and message.kind == MessageKind.NOTE:
        _schedule(send_mentioned_task, message.pk, user_ids)


def notify_status_changed(*, ticket, actor) -> None:
    _schedule(send_status_changed_task, ticket.pk, actor.pk if actor is not None else None)


def notify_assigned(*, ticket, actor) -> None:
    _schedule(send_ticket_assigned_task, ticket.pk, actor.pk if actor is not None else None)


# Sending (called by the tasks, outside any request) -----------------------------------------


def ticket_url(ticket) -> str:
    return absolute_url(
        reverse("ticket_detail", kwargs={"slug": ticket.workspace.slug, "number": ticket.number})
    )


def _send_one(*, template: str, user, context: dict, kind: str, markdown=None) -> bool:
    """Email one person, if they want ``kind``. The outbound pipeline logs ids only."""
    return outbound.send(user, template, context, kind=kind, markdown=markdown)


def _recipient_membership(ticket, user):
    """The recipient's membership if they are an active member who may still see the ticket."""
    if user is None or not user.is_active or not user.email:
        return None
    membership = membership_of(workspace_id=ticket.workspace_id, user_id=user.pk)
    if membership is None or not can_see_ticket(membership, ticket.pk):
        return None
    if membership.is_restricted:
        # Restriction of processing: the person's data here is frozen; no email about it.
        return None
    return membership


def _ticket(ticket_id: int):
    return ticket_by_id(ticket_id=ticket_id)


def send_ticket_created(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the agents and admins who work the ticket's queue. Returns the number sent."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    sent = 0
    for user in queue_staff(queue=ticket.queue).exclude(pk=actor_id):
        if _recipient_membership(ticket, user) is None:
            continue
        sent += _send_one(
            template="ticket_created", user=user, context=_context(ticket), kind=outbound.TICKET
        )
    return sent


def _staff_to_tell(ticket) -> list:
    """Who answers a requester's reply: the assignee; on an unassigned ticket, the agents
    granted its queue (the admins only when no agent works it, so a reply never goes unheard)."""
    if ticket.assignee is not None:
        return [ticket.assignee]
    agents = list(queue_agents(queue=ticket.queue))
    return agents or list(workspace_admins(workspace_id=ticket.workspace_id))


def send_reply_posted(*, message_id: int) -> int:
    """Tell the people on the other side of a public reply (never its author): for a staff
    reply, the requester and the participants; for a requester's or participant's reply, the
    staff who answer it (``_staff_to_tell``) and the other people on the ticket."""
    stub = message_ticket_and_author(message_id=message_id)
    if stub is None:
        return 0
    ticket = _ticket(stub["ticket_id"])
    if ticket is None:
        return 0
    author_membership = (
        membership_of(workspace_id=ticket.workspace_id, user_id=stub["author_id"])
        if stub["author_id"] is not None
        else None
    )
    people = [] if author_membership is not None and author_membership.is_staff else _staff_to_tell(ticket)
    if ticket.requester is not None:
        people.append(ticket.requester)
    people += [p.user for p in visible_participants(ticket)]
    sent, seen = 0, set()
    for user in people:
        if user.pk in seen or user.pk == stub["author_id"]:
            continue
        seen.add(user.pk)
        membership = _recipient_membership(ticket, user)
        if membership is None:
            continue
        # The text comes from the recipient's own view of the conversation, nowhere else.
        message = find_visible_message(membership, message_id)
        if message is None or message.kind != MessageKind.REPLY:
            continue
        sent += _send_one(
            template="ticket_reply_posted",
            user=user,
            context={**_context(ticket), "message": message},
            kind=outbound.REPLY,
            # The HTML stored when the reply was written: no render per recipient.
            markdown={"body": Rendered(message.body, message_html(message))},
        )
    return sent


def send_mentioned(*, message_id: int, user_ids: list[int]) -> int:
    """Email each mentioned person who is staff and may see the ticket and the note now; a
    mention of anyone else (a requester, an agent of another queue, someone of another
    workspace) sends nothing. The note's text comes from the recipient's own view of it."""
    stub = message_ticket_and_author(message_id=message_id)
    if stub is None:
        return 0
    ticket = _ticket(stub["ticket_id"])
    if ticket is None:
        return 0
    sent = 0
    for user in workspace_users(workspace_id=ticket.workspace_id, user_ids=user_ids):
        if user.pk == stub["author_id"]:
            continue
        membership = _recipient_membership(ticket, user)
        if membership is None or not membership.is_staff:
            continue
        message = find_visible_message(membership, message_id)
        if message is None or message.kind != MessageKind.NOTE:
            continue
        sent += _send_one(
            template="ticket_mentioned",
            user=user,
            context={**_context(ticket), "message": message},
            kind=outbound.MENTION,
            markdown={"body": Rendered(message.body, message_html(message))},
        )
    return sent


def _send_unless_actor(ticket, user, *, actor_id: int | None, template: str, kind: str) -> int:
    """Email ``user`` about ``ticket``, unless they made the change themselves."""
    if user is None or user.pk == actor_id or _recipient_membership(ticket, user) is None:
        return 0
    return int(_send_one(template=template, user=user, context=_context(ticket), kind=kind))


def send_status_changed(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the requester that someone else changed the status."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    return _send_unless_actor(
        ticket, ticket.requester, actor_id=actor_id, template="ticket_status_changed", kind=outbound.TICKET
    )


def send_ticket_assigned(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the assignee, unless they took the ticket themselves."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    return _send_unless_actor(
        ticket, ticket.assignee, actor_id=actor_id, template="ticket_assigned", kind=outbound.ASSIGNMENT
    )


def _context(ticket) -> dict:
    return {"ticket": ticket, "workspace": ticket.workspace, "url": ticket_url(ticket)}


# Celery tasks (ids only; ``tickets.tasks`` re-exports them under their short names) -----------


@shared_task(name="tickets.send_ticket_created")
def send_ticket_created_task(ticket_id: int, actor_id: int | None = None) -> int:
    return send_ticket_created(ticket_id=ticket_id, actor_id=actor_id)


@shared_task(name="tickets.send_reply_posted")
def send_reply_posted_task(message_id: int) -> int:
    return send_reply_posted(message_id=message_id)


@shared_task(name="tickets.send_mentioned")
def send_mentioned_task(message_id: int, user_ids: list[int]) -> int:
    return send_mentioned(message_id=message_id, user_ids=user_ids)


@shared_task(name="tickets.send_status_changed")
def send_status_changed_task(ticket_id: int, actor_id: int | None = None) -> int:
    return send_status_changed(ticket_id=ticket_id, actor_id=actor_id)


@shared_task(name="tickets.send_ticket_assigned")
def send_ticket_assigned_task(ticket_id: int, actor_id: int | None = None) -> int:
    return send_ticket_assigned(ticket_id=ticket_id, actor_id=actor_id)
