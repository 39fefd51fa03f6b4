"""Email notifications about tickets.

Services call the ``notify_*`` functions inside their transaction; each schedules a Celery task
with ids only (never a body) after commit. The task calls the matching ``send_*`` function,
which re-reads everything from the database and asks, for every recipient, the same visibility
functions the pages use: a requester's email can only ever carry a message that
``Message.objects.visible_to(their membership)`` returns, so a note's text cannot reach them.

One email per recipient (never a To: list of several people), only to active members, never
to the person who caused the event, with a link to the ticket.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from helpdesk.site import absolute_url
from tickets.models import Message, MessageKind, Ticket, TicketParticipant
from tickets.selectors import membership_of, queue_staff, visible_message, visible_ticket

logger = logging.getLogger(__name__)


def _schedule(task, *args) -> None:
    transaction.on_commit(lambda: task.delay(*args), robust=True)


# Scheduling (called by services, inside their transaction) ----------------------------------


def notify_ticket_created(*, ticket, actor) -> None:
    from tickets import tasks

    _schedule(tasks.send_ticket_created, ticket.pk, actor.pk if actor is not None else None)


def notify_reply_posted(*, message) -> None:
    if message.kind != MessageKind.REPLY:
        return  # notes are never announced by email, to anyone
    from tickets import tasks

    _schedule(tasks.send_reply_posted, message.pk)


def notify_status_changed(*, ticket, actor) -> None:
    from tickets import tasks

    _schedule(tasks.send_status_changed, ticket.pk, actor.pk if actor is not None else None)


def notify_assigned(*, ticket, actor) -> None:
    from tickets import tasks

    _schedule(tasks.send_ticket_assigned, ticket.pk, actor.pk if actor is not None else None)


# Sending (called by the tasks, outside any request) -----------------------------------------


def ticket_url(ticket) -> str:
    return absolute_url(
        reverse("ticket_detail", kwargs={"slug": ticket.workspace.slug, "number": ticket.number})
    )


def _send_one(*, template: str, user, context: dict) -> bool:
    """Render and send one email to one person. Logs ids only, never addresses or text."""
    context = {**context, "recipient": user, "site_url": settings.SITE_URL}
    subject = " ".join(render_to_string(f"tickets/email/{template}_subject.txt", context).split())
    body = render_to_string(f"tickets/email/{template}.txt", context)
    try:
        EmailMessage(subject=subject, body=body, to=[user.email]).send()
    except Exception:  # noqa: BLE001 - one failed address must not stop the others
        logger.warning("Ticket email %s to user %s could not be sent", template, user.pk, exc_info=True)
        return False
    return True


def _recipient_membership(ticket, user):
    """The recipient's membership if they are an active member who may still see the ticket."""
    if user is None or not user.is_active or not user.email:
        return None
    membership = membership_of(workspace_id=ticket.workspace_id, user_id=user.pk)
    if membership is None or visible_ticket(membership=membership, ticket_id=ticket.pk) is None:
        return None
    return membership


def _ticket(ticket_id: int):
    return (
        Ticket.objects.select_related("workspace", "queue", "requester", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


def send_ticket_created(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the agents and admins who work the ticket's queue. Returns the number sent."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    sent = 0
    for user in queue_staff(queue=ticket.queue).exclude(pk=actor_id):
        if _recipient_membership(ticket, user) is None:
            continue
        sent += _send_one(template="ticket_created", user=user, context=_context(ticket))
    return sent


def send_reply_posted(*, message_id: int) -> int:
    """Tell the requester and the participants (not the author) about a public reply."""
    stub = Message.objects.filter(pk=message_id).values("ticket_id", "author_id").first()
    if stub is None:
        return 0
    ticket = _ticket(stub["ticket_id"])
    people = [ticket.requester] if ticket.requester is not None else []
    participants = TicketParticipant.objects.filter(ticket_id=ticket.pk).select_related("user")
    people += [p.user for p in participants]
    sent, seen = 0, set()
    for user in people:
        if user.pk in seen or user.pk == stub["author_id"]:
            continue
        seen.add(user.pk)
        membership = _recipient_membership(ticket, user)
        if membership is None:
            continue
        # The text comes from the recipient's own view of the conversation, nowhere else.
        message = visible_message(membership=membership, message_id=message_id)
        if message is None or message.kind != MessageKind.REPLY:
            continue
        sent += _send_one(
            template="reply_posted", user=user, context={**_context(ticket), "message": message}
        )
    return sent


def _send_unless_actor(ticket, user, *, actor_id: int | None, template: str) -> int:
    """Email ``user`` about ``ticket``, unless they made the change themselves."""
    if user is None or user.pk == actor_id or _recipient_membership(ticket, user) is None:
        return 0
    return int(_send_one(template=template, user=user, context=_context(ticket)))


def send_status_changed(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the requester that someone else changed the status."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    return _send_unless_actor(ticket, ticket.requester, actor_id=actor_id, template="status_changed")


def send_ticket_assigned(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the assignee, unless they took the ticket themselves."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    return _send_unless_actor(ticket, ticket.assignee, actor_id=actor_id, template="ticket_assigned")


def _context(ticket) -> dict:
    return {"ticket": ticket, "workspace": ticket.workspace, "url": ticket_url(ticket)}
