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

Each email to one person is recorded (``tickets.mail.models.OutboundEmail``, no text) and sent by
its own task, ``deliver_email_task``, after commit: it renders from the recipient's view at that
moment, sends with the workspace's From, Reply-To and threading headers
(``tickets.mail.outgoing``), retries what a mail server refused for now and records what it
refused for good, so a failure never undoes or repeats the change that caused the email.

The tasks are defined here, next to what they call, so scheduling needs no import of
``tickets.tasks``; that module is only the face Celery's autodiscovery finds.
"""

from celery import shared_task
from django.db import transaction
from django.urls import reverse

from helpdesk import outbound
from helpdesk.markdown import Rendered
from helpdesk.site import absolute_url
from privacy.audit import events
from tickets import sla_state
from tickets.access import can_see_ticket, find_visible_message, visible_attachments, visible_participants
from tickets.bodies import message_html
from tickets.mail import outgoing
from tickets.mail.failing import address_is_failing, address_mark_failing
from tickets.mail.models import OutboundKind, OutboundStatus
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


def notify_sla_breached(*, ticket) -> None:
    _schedule(send_sla_breached_task, ticket.pk)


# Sending (called by the tasks, outside any request) -----------------------------------------


def ticket_url(ticket) -> str:
    return absolute_url(
        reverse("ticket_detail", kwargs={"slug": ticket.workspace.slug, "number": ticket.number})
    )


# What each kind of ticket email is: its templates and the preference that governs it.
_EMAILS = {
    OutboundKind.TICKET_CREATED: ("ticket_created", outbound.TICKET),
    OutboundKind.REPLY: ("ticket_reply_posted", outbound.REPLY),
    OutboundKind.STATUS: ("ticket_status_changed", outbound.TICKET),
    OutboundKind.ASSIGNED: ("ticket_assigned", outbound.ASSIGNMENT),
    OutboundKind.MENTION: ("ticket_mentioned", outbound.MENTION),
    # The person wrote to us and waits for this; it never waits for an hourly digest.
    OutboundKind.ACKNOWLEDGEMENT: ("ticket_acknowledgement", outbound.ACCOUNT),
    OutboundKind.SLA_BREACH: ("ticket_sla_breached", outbound.TICKET),
}


def _queue_one(ticket, user, kind: str, *, message=None) -> int:
    """Record one email to ``user`` and deliver it after commit (``deliver_email_task``, with
    retries). Returns 1 if queued, 0 if they turned this kind of email off."""
    if not outbound.wants(user, _EMAILS[kind][1]):
        return 0
    email = outgoing.email_record(ticket=ticket, recipient=user, kind=kind, message=message)
    _schedule(deliver_email_task, email.pk)
    return 1


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
        sent += _queue_one(ticket, user, OutboundKind.TICKET_CREATED)
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
        sent += _queue_one(ticket, user, OutboundKind.REPLY, message=message)
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
        sent += _queue_one(ticket, user, OutboundKind.MENTION, message=message)
    return sent


def _send_unless_actor(ticket, user, *, actor_id: int | None, kind: str) -> int:
    """Email ``user`` about ``ticket``, unless they made the change themselves."""
    if user is None or user.pk == actor_id or _recipient_membership(ticket, user) is None:
        return 0
    return _queue_one(ticket, user, kind)


def send_status_changed(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the requester that someone else changed the status."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    return _send_unless_actor(ticket, ticket.requester, actor_id=actor_id, kind=OutboundKind.STATUS)


def send_ticket_assigned(*, ticket_id: int, actor_id: int | None) -> int:
    """Tell the assignee, unless they took the ticket themselves."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    return _send_unless_actor(ticket, ticket.assignee, actor_id=actor_id, kind=OutboundKind.ASSIGNED)


def send_sla_breached(*, ticket_id: int) -> int:
    """Tell the staff who answer the ticket (``_staff_to_tell``: the assignee, else the queue's
    agents, else the admins) that it missed a service-level target. Staff only, ever."""
    ticket = _ticket(ticket_id)
    if ticket is None:
        return 0
    sent = 0
    for user in _staff_to_tell(ticket):
        membership = _recipient_membership(ticket, user)
        if membership is None or not membership.is_staff:
            continue
        sent += _queue_one(ticket, user, OutboundKind.SLA_BREACH)
    return sent


def send_acknowledgement(ticket, recipient) -> int:
    """An automatic "we received your request" to ``recipient`` (the person who opened
    ``ticket`` by email). Call it inside the transaction that opened the ticket: it is sent after
    commit, as an auto-reply (``Auto-Submitted: auto-replied``, ``X-Auto-Response-Suppress: All``)
    so that robots do not answer it. Returns 1 if queued.

    Against mail loops with robots that ignore those headers (RFC 3834): one acknowledgement per
    ticket, and at most ``outgoing.ACKNOWLEDGEMENTS_PER_DAY`` to one person a day."""
    if _recipient_membership(ticket, recipient) is None:
        return 0
    if not outgoing.acknowledgement_allowed(ticket=ticket, recipient=recipient):
        return 0
    return _queue_one(ticket, recipient, OutboundKind.ACKNOWLEDGEMENT)


def _context(ticket) -> dict:
    return {"ticket": ticket, "workspace": ticket.workspace, "url": ticket_url(ticket)}


# Delivering one email (called by ``deliver_email_task``) -----------------------------------


def _attachment_links(membership, ticket, message) -> list[dict]:
    """The files of a public reply, as links to the ticket's download page (which asks the
    reader to sign in and checks their access): files never travel in an email."""
    rows = visible_attachments(membership).filter(message_id=message.pk).order_by("pk")
    return [
        {
            "name": attachment.original_name,
            "url": absolute_url(
                reverse(
                    "attachment_download",
                    kwargs={
                        "slug": ticket.workspace.slug,
                        "number": ticket.number,
                        "attachment_id": attachment.pk,
                    },
                )
            ),
        }
        for attachment in rows
    ]


def _failed(email, error: str) -> str:
    outgoing.email_finish(email, status=OutboundStatus.FAILED, error=error)
    events.email_failed(
        email=email, message_id_hash=outgoing.message_id_hash(email.email_message_id), error=error
    )
    return OutboundStatus.FAILED


def deliver_email(*, email_id: int) -> str:
    """One attempt at one recorded email; returns its status afterwards. The text is rendered
    now, from the recipient's own view of the ticket (so a reply that became invisible to them,
    or a person who lost access, gets nothing). A transient failure returns RETRY (the task
    tries again later), a permanent one FAILED (shown to staff on the ticket); both audited
    without address or text."""
    email = outgoing.email_claim(email_id)
    if email is None:
        return OutboundStatus.SKIPPED  # finished, or another attempt holds it
    ticket, user = email.ticket, email.recipient
    membership = _recipient_membership(ticket, user)
    if membership is None:
        outgoing.email_finish(email, status=OutboundStatus.SKIPPED, error="no_access")
        return OutboundStatus.SKIPPED
    if address_is_failing(user.email):
        return _failed(email, "address_failing")
    template, preference = _EMAILS[email.kind]
    sender = outgoing.sender_for(ticket)
    context = {**_context(ticket), "reply_by_email": sender.reply_by_email}
    markdown = None
    if email.kind == OutboundKind.SLA_BREACH:
        context["sla_targets"] = sla_state.targets(ticket)
    if email.kind in (OutboundKind.REPLY, OutboundKind.MENTION):
        # A reply email carries a public reply; a mention (to staff only) the note it is in.
        expected = MessageKind.REPLY if email.kind == OutboundKind.REPLY else MessageKind.NOTE
        message = find_visible_message(membership, email.message_id) if email.message_id else None
        if message is None or message.kind != expected:
            outgoing.email_finish(email, status=OutboundStatus.SKIPPED, error="not_visible")
            return OutboundStatus.SKIPPED
        context["message"] = message
        # Files of a note are never referenced in an email, even to staff.
        if message.kind == MessageKind.REPLY:
            context["attachments"] = _attachment_links(membership, ticket, message)
        # The HTML stored when the reply was written: no render per recipient.
        markdown = {"body": Rendered(message.body, message_html(message))}
    try:
        sent = outbound.send(
            user,
            template,
            context,
            kind=preference,
            markdown=markdown,
            raise_errors=True,
            from_email=sender.from_header,
            reply_to=outgoing.reply_to_for(email, sender),
            headers=outgoing.headers_for(email, sender),
        )
    except Exception as error:  # noqa: BLE001 - classified: retried, or recorded as failed
        severity, code = outgoing.classify_error(error)
        if severity == outgoing.TRANSIENT and email.attempts < outgoing.MAX_ATTEMPTS:
            outgoing.email_finish(email, status=OutboundStatus.RETRY, error=code)
            return OutboundStatus.RETRY
        if severity == outgoing.PERMANENT and outgoing.refused_recipient(error):
            address_mark_failing(user.email, reason=code)
        return _failed(email, code)
    if not sent:
        outgoing.email_finish(email, status=OutboundStatus.SKIPPED, error="not_wanted")
        return OutboundStatus.SKIPPED
    outgoing.email_finish(email, status=OutboundStatus.SENT)
    events.email_sent(email=email, message_id_hash=outgoing.message_id_hash(email.email_message_id))
    return OutboundStatus.SENT


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


@shared_task(bind=True, name="tickets.deliver_email", max_retries=outgoing.MAX_ATTEMPTS)
def deliver_email_task(self, email_id: int) -> str:
    """Sends one email; a transient failure (4xx, lost connection) tries again with backoff:
    1, 2, 4, 8, 16 minutes. In the embedded default (eager) they run at once."""
    status = deliver_email(email_id=email_id)
    # Embedded default (eager, no worker to come back later): the attempts run now, one after
    # the other; the row's attempt count ends the loop.
    while status == OutboundStatus.RETRY and self.request.is_eager:
        status = deliver_email(email_id=email_id)
    if status == OutboundStatus.RETRY:
        raise self.retry(countdown=outgoing.retry_delay(self.request.retries))
    return status


@shared_task(name="tickets.send_ticket_assigned")
def send_ticket_assigned_task(ticket_id: int, actor_id: int | None = None) -> int:
    return send_ticket_assigned(ticket_id=ticket_id, actor_id=actor_id)


@shared_task(name="tickets.send_sla_breached")
def send_sla_breached_task(ticket_id: int) -> int:
    return send_sla_breached(ticket_id=ticket_id)


# --- bulk changes (tickets/bulk_services.py): the same emails, one queued task per bulk ---


@shared_task(name="tickets.send_status_changed_many")
def send_status_changed_many_task(ticket_ids: list[int], actor_id: int | None = None) -> int:
    return sum(send_status_changed(ticket_id=ticket_id, actor_id=actor_id) for ticket_id in ticket_ids)


@shared_task(name="tickets.send_ticket_assigned_many")
def send_ticket_assigned_many_task(ticket_ids: list[int], actor_id: int | None = None) -> int:
    return sum(send_ticket_assigned(ticket_id=ticket_id, actor_id=actor_id) for ticket_id in ticket_ids)


def notify_status_changed_many(*, tickets, actor) -> None:
    """``notify_status_changed`` for each ticket, queued as one task (500 tickets changed in one
    request were 500 messages to the broker before the response could go)."""
    if tickets:
        _schedule(
            send_status_changed_many_task, [t.pk for t in tickets], actor.pk if actor is not None else None
        )


def notify_assigned_many(*, tickets, actor) -> None:
    """``notify_assigned`` for each ticket, queued as one task."""
    if tickets:
        _schedule(
            send_ticket_assigned_many_task, [t.pk for t in tickets], actor.pk if actor is not None else None
        )
