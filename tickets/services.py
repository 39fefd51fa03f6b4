"""Writes on tickets and messages.

Every service runs in one transaction, locks the ticket row it changes (so two agents changing
the same ticket are serialised and each audit event records what really changed), validates
with ``full_clean``, writes its audit event inside the transaction, bumps ``updated_at`` (and
``public_updated_at`` when a requester can see the change: a public reply, the status, the people
on the ticket; never for an internal note or an agent-only field), and only after commit
announces the change: websocket broadcasts (``tickets.realtime``) and email
notifications (``tickets.notifications`` -> Celery tasks). A rolled-back change announces
nothing.

Who may call what is decided by ``tickets.access`` in the views; the services keep the rules
that must hold whoever calls them (a note is written by staff only and never becomes public,
an assignee can see the ticket's queue, participants are members of the workspace...).
Error texts are module constants: views show them and tests import them.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from helpdesk.markdown import mentioned_user_ids
from helpdesk.text import strip_bidi
from privacy.audit import events
from tickets import notifications, realtime, reports, sla
from tickets.access import edit_window_open
from tickets.attachments import attachment_attach, attachments_stored
from tickets.bodies import body_html_of, stored_html_of
from tickets.models import Message, MessageKind, Priority, Status, Ticket, TicketParticipant
from tickets.selectors import membership_of, queue_staff
from workspaces.intake import requester_invite
from workspaces.models import Queue, Workspace
from workspaces.realtime import announce_access_changed

QUEUE_OF_OTHER_WORKSPACE = gettext_lazy("That queue does not belong to this workspace.")
REQUESTER_NOT_MEMBER = gettext_lazy("The requester must be a member of this workspace.")
NOTE_STAFF_ONLY = gettext_lazy("Only agents and admins can write internal notes.")
UNKNOWN_KIND = gettext_lazy("Choose “Public reply” or “Internal note”.")
UNKNOWN_STATUS = gettext_lazy("Choose one of the listed statuses.")
UNKNOWN_PRIORITY = gettext_lazy("Choose one of the listed priorities.")
ASSIGNEE_CANNOT_SEE_QUEUE = gettext_lazy("{name} cannot be assigned: they do not work the {queue} queue.")
PARTICIPANT_NOT_MEMBER = gettext_lazy("Only members of this workspace can be added to a ticket.")
PARTICIPANT_IS_REQUESTER = gettext_lazy("{name} already requested this ticket.")
PARTICIPANT_ALREADY = gettext_lazy("{name} is already on this ticket.")
PARTICIPANT_NOT_ON_TICKET = gettext_lazy("{name} is not on this ticket.")
PERSON_RESTRICTED = gettext_lazy(
    "Processing of {name}'s data is restricted in this workspace: they cannot be given new work or "
    "added to tickets until an admin releases the restriction."
)
EDIT_AUTHOR_RESTRICTED = gettext_lazy(
    "Processing of this person's data is restricted: their messages cannot be changed."
)
EDIT_NOT_AUTHOR = gettext_lazy("Only the author of a message can edit it.")
EDIT_WINDOW_PASSED = gettext_lazy(
    "Messages can be edited for 15 minutes after posting; this one can no longer be changed. "
    "Post a new message instead."
)
EDIT_EMPTY = gettext_lazy("A message cannot be empty.")
EDIT_REDACTED = gettext_lazy(
    "Part of this message was redacted; it can no longer be edited. Post a new message instead."
)
EDIT_CHANGED_SINCE = gettext_lazy(
    "This message was changed (in another window?) since you opened this page; its text now is "
    "shown below. Your text is kept in the box: save again to replace it."
)

# Statuses a requester's reply brings back to "open": the ticket is theirs to reopen.
REOPENED_BY_REPLY = (Status.PENDING, Status.SOLVED, Status.CLOSED)
# What "Send and set ..." on the reply form may set along with a staff reply.
STATUSES_AFTER_REPLY = (Status.PENDING, Status.SOLVED)
STATUS_AFTER_REPLY_REFUSED = gettext_lazy(
    "Only an agent's public reply can set the ticket pending or solved."
)
# Mentions tell colleagues about a note; in a public reply they would show staff to the requester.
MENTION_IN_REPLY = gettext_lazy(
    "Mentions (@name) work in internal notes only. Send this as an internal note, or remove the "
    "mention to reply publicly."
)


def _after_commit(func, *args, **kwargs) -> None:
    # robust: a failing websocket send or mail server never turns a saved change into an error.
    # A named function, not functools.partial: Django logs a robust callback's failure by its
    # __qualname__, which a partial lacks (the logging itself would then raise).
    def announce():
        func(*args, **kwargs)

    announce.__qualname__ = f"after_commit:{getattr(func, '__qualname__', 'call')}"
    transaction.on_commit(announce, robust=True)


def _lock(ticket: Ticket) -> Ticket:
    """Re-read ``ticket`` under a row lock; decisions use the row as it is now."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("workspace", "queue")
        .get(pk=ticket.pk, workspace_id=ticket.workspace_id)
    )


def _display(user) -> str:
    return str(user) if user is not None else "Deleted user"


def _next_ticket_number(workspace: Workspace) -> int:
    # The UPDATE takes a row lock on the workspace, so concurrent creates get distinct numbers.
    Workspace.objects.filter(pk=workspace.pk).update(last_ticket_number=F("last_ticket_number") + 1)
    return Workspace.objects.values_list("last_ticket_number", flat=True).get(pk=workspace.pk)


def _attach_stored(*, ticket: Ticket, message: Message, stored, request) -> None:
    for attachment in stored:
        attachment_attach(attachment=attachment, ticket=ticket, message=message, request=request)


def _set_status(ticket: Ticket, status: str, now) -> str:
    """Change the status on the locked row, keeping ``closed_at`` in step; returns the old one."""
    old = ticket.status
    ticket.status = status
    if status == Status.CLOSED:
        ticket.closed_at = ticket.closed_at if old == Status.CLOSED else now
    else:
        ticket.closed_at = None
    return old


# What a property change (status, priority, assignee, queue) cannot break on a row it just locked:
# the database enforces the foreign keys and the number never changes. full_clean would look
# each of them up again (four queries a change, felt when a bulk change makes hundreds); the
# services check the new assignee and queue themselves.
_UNCHANGED_BY_PROPERTIES = ("workspace", "queue", "requester", "assignee", "properties_changed_by", "number")


def _clean_properties(ticket: Ticket) -> None:
    ticket.full_clean(exclude=_UNCHANGED_BY_PROPERTIES, validate_constraints=False)


def _bump_version(ticket: Ticket, actor) -> list[str]:
    """Count a property change on the locked row; returns the fields to save with it."""
    ticket.version += 1
    ticket.properties_changed_by = actor
    return ["version", "properties_changed_by"]


# Tickets ------------------------------------------------------------------------------------


def ticket_create(
    *,
    workspace: Workspace,
    queue: Queue,
    requester,
    subject: str,
    description: str,
    priority: str = Priority.NORMAL,
    actor=None,
    request=None,
    created_at=None,
    attachments: Iterable = (),
    notify: bool = True,
) -> Ticket:
    """Open ticket ``#n`` (numbered per workspace) with the description as its first public
    message. Audits ``ticket.created`` and ``reply.created``; agents of the queue are emailed
    after commit (unless ``notify`` is false, as for demo data).

    The attachments' bytes are stored before the transaction begins, so no lock (workspace
    counter, audit chain head) is held during an upload; they are removed if it fails."""
    with attachments_stored(
        workspace_id=workspace.pk, uploaded_by=actor or requester, uploads=attachments
    ) as stored:
        return _ticket_create(
            workspace=workspace,
            queue=queue,
            requester=requester,
            subject=subject,
            description=description,
            priority=priority,
            actor=actor,
            request=request,
            created_at=created_at,
            stored=stored,
            notify=notify,
        )


def ticket_create_for_invitee(
    *,
    workspace: Workspace,
    queue: Queue,
    email: str,
    subject: str,
    description: str,
    priority: str = Priority.NORMAL,
    actor,
    request=None,
    attachments: Iterable = (),
):
    """Staff open a ticket for someone who is not a member yet: the address becomes a requester
    with an invitation emailed after commit (``workspaces.intake.requester_invite``), and the
    ticket is theirs. All or nothing. Returns (ticket, invitation). Audits ``member.invited``,
    ``member.added`` and what ``ticket_create`` audits."""
    with attachments_stored(workspace_id=workspace.pk, uploaded_by=actor, uploads=attachments) as stored:
        with transaction.atomic():
            membership, invitation = requester_invite(
                workspace=workspace, email=email, actor=actor, request=request
            )
            ticket = _ticket_create(
                workspace=workspace,
                queue=queue,
                requester=membership.user,
                subject=subject,
                description=description,
                priority=priority,
                actor=actor,
                request=request,
                created_at=None,
                stored=stored,
                notify=True,
            )
        return ticket, invitation


@transaction.atomic
def _ticket_create(
    *, workspace, queue, requester, subject, description, priority, actor, request, created_at, stored, notify
) -> Ticket:
    if queue.workspace_id != workspace.pk:
        raise ValidationError({"queue": QUEUE_OF_OTHER_WORKSPACE})
    if requester is not None and membership_of(workspace_id=workspace.pk, user_id=requester.pk) is None:
        raise ValidationError({"requester": REQUESTER_NOT_MEMBER})
    now = created_at or timezone.now()
    ticket = Ticket(
        workspace=workspace,
        number=0,  # placeholder so full_clean can run before a number is taken
        subject=strip_bidi(subject or "").strip(),
        queue=queue,
        requester=requester,
        priority=priority,
        status=Status.NEW,
        created_at=now,
        updated_at=now,
        public_updated_at=now,
    )
    ticket.full_clean(exclude=["number"], validate_constraints=False)
    message = Message(
        workspace=workspace, ticket=ticket, author=requester, kind=MessageKind.REPLY, body=description
    )
    message.full_clean(exclude=["ticket"])
    message.body_html = body_html_of(message.body)
    sla.on_created(ticket)
    ticket.number = _next_ticket_number(workspace)
    ticket.save()
    reports.ticket_opened(ticket)
    message.ticket = ticket
    message.created_at = now
    message.save()
    actor = actor or requester
    events.ticket_created(ticket=ticket, actor=actor, request=request)
    events.reply_created(message=message, ticket=ticket, actor=actor, request=request)
    _attach_stored(ticket=ticket, message=message, stored=stored, request=request)
    _after_commit(realtime.broadcast_ticket, ticket)
    if notify:
        notifications.notify_ticket_created(ticket=ticket, actor=actor)
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, actor, request=None, notify: bool = True) -> Ticket:
    """Set the status; ``closed_at`` is set on closing and cleared on reopening.
    Audits ``ticket.status_changed``; the requester is emailed when someone else changed it
    (unless ``notify`` is false: a merge tells them in its own reply instead)."""
    if status not in Status.values:
        raise ValidationError({"status": UNKNOWN_STATUS})
    ticket = _lock(ticket)
    if ticket.status == status:
        return ticket
    was = reports.snapshot(ticket)
    now = timezone.now()
    old = _set_status(ticket, status, now)
    ticket.updated_at = ticket.public_updated_at = now
    _clean_properties(ticket)
    ticket.save(
        update_fields=[
            "status",
            "closed_at",
            "updated_at",
            "public_updated_at",
            *_bump_version(ticket, actor),
            *sla.ticket_changed(ticket=ticket, now=now, old_status=old),
        ]
    )
    reports.ticket_changed(ticket, was=was, now=now)
    events.ticket_status_changed(ticket=ticket, old=old, new=status, actor=actor, request=request)
    _after_commit(realtime.broadcast_ticket, ticket)
    if notify:
        notifications.notify_status_changed(ticket=ticket, actor=actor)
    return ticket


@transaction.atomic
def ticket_set_priority(*, ticket: Ticket, priority: str, actor, request=None) -> Ticket:
    """Audits ``ticket.priority_changed``."""
    if priority not in Priority.values:
        raise ValidationError({"priority": UNKNOWN_PRIORITY})
    ticket = _lock(ticket)
    if ticket.priority == priority:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    ticket.updated_at = timezone.now()
    _clean_properties(ticket)
    due_fields = sla.ticket_changed(ticket=ticket, now=ticket.updated_at, priority_changed=True)
    ticket.save(update_fields=["priority", "updated_at", *_bump_version(ticket, actor), *due_fields])
    events.ticket_priority_changed(ticket=ticket, old=old, new=priority, actor=actor, request=request)
    _after_commit(realtime.broadcast_ticket, ticket, public=False)
    return ticket


def _is_restricted(workspace_id: int, user_id: int) -> bool:
    membership = membership_of(workspace_id=workspace_id, user_id=user_id)
    return membership is not None and membership.is_restricted


def _may_be_assigned(user, queue: Queue) -> bool:
    return queue_staff(queue=queue).filter(pk=user.pk).exists()


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, actor, request=None) -> Ticket:
    """Assign to ``assignee`` (an active admin, or an agent granted the ticket's queue) or
    unassign with ``None``. Audits ``ticket.assigned``; the new assignee is emailed unless they
    assigned themselves."""
    ticket = _lock(ticket)
    new_id = assignee.pk if assignee is not None else None
    if ticket.assignee_id == new_id:
        return ticket
    if assignee is not None and _is_restricted(ticket.workspace_id, assignee.pk):
        raise ValidationError({"assignee": PERSON_RESTRICTED.format(name=_display(assignee))})
    if assignee is not None and not _may_be_assigned(assignee, ticket.queue):
        raise ValidationError(
            {"assignee": ASSIGNEE_CANNOT_SEE_QUEUE.format(name=_display(assignee), queue=ticket.queue.name)}
        )
    was = reports.snapshot(ticket)
    old = ticket.assignee_id
    ticket.assignee = assignee
    ticket.updated_at = timezone.now()
    _clean_properties(ticket)
    ticket.save(update_fields=["assignee", "updated_at", *_bump_version(ticket, actor)])
    reports.ticket_changed(ticket, was=was)
    events.ticket_assigned(ticket=ticket, old=old, new=new_id, actor=actor, request=request)
    _after_commit(realtime.broadcast_ticket, ticket, public=False)
    if assignee is not None:
        notifications.notify_assigned(ticket=ticket, actor=actor)
    return ticket


@transaction.atomic
def ticket_move_queue(*, ticket: Ticket, queue: Queue, actor, request=None) -> Ticket:
    """Move the ticket to another queue of its workspace. Audits ``ticket.queue_changed``.

    An assignee who does not work the new queue is unassigned (audited ``ticket.assigned``
    with the reason), so nobody stays responsible for a ticket they cannot open.
    """
    if queue.workspace_id != ticket.workspace_id:
        raise ValidationError({"queue": QUEUE_OF_OTHER_WORKSPACE})
    ticket = _lock(ticket)
    if ticket.queue_id == queue.pk:
        return ticket
    was = reports.snapshot(ticket)
    old_queue_id = ticket.queue_id
    ticket.queue = queue
    ticket.updated_at = timezone.now()
    dropped_assignee = None
    if ticket.assignee_id is not None and not _may_be_assigned(ticket.assignee, queue):
        dropped_assignee = ticket.assignee_id
        ticket.assignee = None
    _clean_properties(ticket)
    ticket.save(update_fields=["queue", "assignee", "updated_at", *_bump_version(ticket, actor)])
    reports.ticket_changed(ticket, was=was)
    events.ticket_queue_changed(ticket=ticket, old=old_queue_id, new=queue.pk, actor=actor, request=request)
    if dropped_assignee is not None:
        events.ticket_assigned(
            ticket=ticket,
            old=dropped_assignee,
            new=None,
            actor=actor,
            request=request,
            reason="queue_changed",
        )
    _after_commit(realtime.broadcast_ticket, ticket, previous_queue_id=old_queue_id, public=False)
    return ticket


@transaction.atomic
def ticket_update(
    *, ticket: Ticket, actor, request=None, status=None, priority=None, queue=None, assignee=None
) -> Ticket:
    """The staff "ticket properties" form: apply each given change through its own service
    (queue first, so the assignee is checked against the queue the ticket ends up in), all or
    nothing. ``assignee`` is a user, or ``False`` to unassign, or ``None`` to leave it."""
    start = _lock(ticket).version
    if queue is not None:
        ticket = ticket_move_queue(ticket=ticket, queue=queue, actor=actor, request=request)
    if assignee is not None:
        ticket = ticket_assign(ticket=ticket, assignee=assignee or None, actor=actor, request=request)
    if priority is not None:
        ticket = ticket_set_priority(ticket=ticket, priority=priority, actor=actor, request=request)
    if status is not None:
        ticket = ticket_set_status(ticket=ticket, status=status, actor=actor, request=request)
    if ticket.version > start + 1:
        # One save is one version, however many fields it changed.
        ticket.version = start + 1
        Ticket.objects.filter(pk=ticket.pk).update(version=ticket.version)
    return ticket


# The properties form (issue 17: no silent overwrite) ----------------------------------------

PROPERTY_LABELS = {"status": "Status", "priority": "Priority", "queue": "Queue", "assignee": "Assignee"}
UNASSIGNED = "Unassigned"
CHANGED_SINCE = gettext_lazy("{by} set {changes} since you opened the page.")
CHANGED_SINCE_BY_SEVERAL = gettext_lazy("Since you opened the page, {changes} (the latest change by {by}).")
PROPERTIES_CONFLICT = gettext_lazy(
    "{since} Your choices are kept below and were not saved: check them and save again to apply them."
)
PROPERTIES_MERGED = gettext_lazy("{since} Your changes were applied on top of theirs.")


@dataclass(frozen=True)
class PropertiesOutcome:
    """What ``ticket_update_properties`` did: the ticket as saved, the fields the person's save
    changed, and a sentence naming what others had changed meanwhile ("" when nothing)."""

    ticket: Ticket
    applied: tuple[str, ...]
    changed_since: str


class PropertiesConflict(Exception):
    """Another person changed a field this save changes too, since the form was shown: nothing
    was saved. ``ticket`` is the ticket as it is now (its version is what the next save needs)."""

    def __init__(self, *, ticket: Ticket, message: str, fields: tuple[str, ...]):
        super().__init__(message)
        self.ticket, self.message, self.fields = ticket, message, fields


def property_values(ticket: Ticket) -> dict:
    """The comparable value of each property: codes for status and priority, ids otherwise."""
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue_id,
        "assignee": ticket.assignee_id,
    }


def _value_label(ticket: Ticket, field: str) -> str:
    if field == "status":
        return ticket.get_status_display()
    if field == "priority":
        return ticket.get_priority_display()
    if field == "queue":
        return ticket.queue.name
    return strip_bidi(str(ticket.assignee)) if ticket.assignee_id else UNASSIGNED


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _changed_since(ticket: Ticket, fields: list[str], seen_version: int) -> str:
    """ "Ann set Status to Pending and Priority to High since you opened the page." """
    if not fields:
        return ""
    parts = [f"{PROPERTY_LABELS[f]} to {_value_label(ticket, f)}" for f in fields]
    name = strip_bidi(_display(ticket.properties_changed_by)) if ticket.properties_changed_by_id else ""
    if ticket.version - seen_version > 1:
        # Several saves since: who made the last one is known, not who made each.
        parts[0] = parts[0].replace(" to ", " was set to ", 1)
        return CHANGED_SINCE_BY_SEVERAL.format(changes=_joined(parts), by=name or "someone")
    return CHANGED_SINCE.format(by=name or "Someone", changes=_joined(parts))


@transaction.atomic
def ticket_update_properties(
    *, ticket: Ticket, actor, seen_version: int, seen: dict, wanted: dict, request=None
) -> PropertiesOutcome:
    """The staff properties form, as a compare-and-set against what the person saw.

    ``seen`` holds the values the form showed (``property_values`` of the ticket then) and
    ``seen_version`` its version; ``wanted`` the submitted ones (``status`` and ``priority`` as
    codes, ``queue`` a Queue, ``assignee`` a user or None). Under the row lock, only the fields
    the person changed (wanted differs from seen) are applied: a field nobody touched is never
    written back, so it sends no email and no event. When the ticket changed since
    (``seen_version`` is older, or a value differs from what was seen), a field changed both by
    someone else and by this save, to another value, raises ``PropertiesConflict`` and nothing
    is saved; changes of other fields are merged on top of the newer ticket.
    """
    locked = _lock(ticket)
    current = property_values(locked)
    wanted_values = {
        "status": wanted["status"],
        "priority": wanted["priority"],
        "queue": wanted["queue"].pk,
        "assignee": wanted["assignee"].pk if wanted["assignee"] is not None else None,
    }
    mine = [f for f in PROPERTY_LABELS if wanted_values[f] != seen[f]]
    # Compared value by value, not only by version: the version says "something changed",
    # the values say which field, whoever changed it.
    others = [f for f in PROPERTY_LABELS if current[f] != seen[f]]
    changed_since = _changed_since(locked, others, seen_version)
    clashes = tuple(f for f in mine if f in others and current[f] != wanted_values[f])
    if clashes:
        raise PropertiesConflict(
            ticket=locked, message=PROPERTIES_CONFLICT.format(since=changed_since), fields=clashes
        )
    # A field someone else already set to the same value needs nothing more.
    todo = [f for f in mine if current[f] != wanted_values[f]]
    changes = {f: wanted[f] for f in todo}
    if "assignee" in changes:
        changes["assignee"] = changes["assignee"] or False
    updated = ticket_update(ticket=locked, actor=actor, request=request, **changes) if changes else locked
    return PropertiesOutcome(ticket=updated, applied=tuple(todo), changed_since=changed_since)


# Participants -------------------------------------------------------------------------------


@transaction.atomic
def participant_add(*, ticket: Ticket, user, actor, request=None) -> TicketParticipant:
    """Add a member of the workspace to the ticket (a requester then sees it: the per-ticket
    grant). Audits ``participant.added``."""
    ticket = _lock(ticket)
    member = membership_of(workspace_id=ticket.workspace_id, user_id=user.pk)
    if member is None:
        raise ValidationError({"user": PARTICIPANT_NOT_MEMBER})
    if member.is_restricted:
        raise ValidationError({"user": PERSON_RESTRICTED.format(name=_display(user))})
    if ticket.requester_id == user.pk:
        raise ValidationError({"user": PARTICIPANT_IS_REQUESTER.format(name=_display(user))})
    if TicketParticipant.objects.filter(ticket_id=ticket.pk, user_id=user.pk).exists():
        raise ValidationError({"user": PARTICIPANT_ALREADY.format(name=_display(user))})
    participant = TicketParticipant(workspace_id=ticket.workspace_id, ticket=ticket, user=user)
    participant.full_clean()
    participant.save()
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now, public_updated_at=now)
    events.participant_added(ticket=ticket, user_id=user.pk, actor=actor, request=request)
    _after_commit(realtime.broadcast_ticket, ticket)
    return participant


@transaction.atomic
def participant_remove(*, ticket: Ticket, user, actor, request=None) -> None:
    """Take a person off the ticket. Audits ``participant.removed``; their open websockets
    re-check access (a requester loses the ticket at once)."""
    ticket = _lock(ticket)
    deleted, _ = TicketParticipant.objects.filter(
        workspace_id=ticket.workspace_id, ticket_id=ticket.pk, user_id=user.pk
    ).delete()
    if not deleted:
        raise ValidationError({"user": PARTICIPANT_NOT_ON_TICKET.format(name=_display(user))})
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now, public_updated_at=now)
    events.participant_removed(ticket=ticket, user_id=user.pk, actor=actor, request=request)
    announce_access_changed(workspace_id=ticket.workspace_id, user_id=user.pk)
    _after_commit(realtime.broadcast_ticket, ticket)


# Messages -----------------------------------------------------------------------------------


def message_post(
    *,
    ticket: Ticket,
    author,
    kind: str,
    body: str,
    request=None,
    created_at=None,
    attachments: Iterable = (),
    notify: bool = True,
    then_status: str | None = None,
) -> Message:
    """Post a public reply or an internal note. Audits ``reply.created`` / ``note.created``.

    Notes are refused unless the author is an agent or admin of the workspace. A reply by
    anyone other than staff (the requester, a participant) reopens a pending, solved or closed
    ticket; the first public reply of staff moves a new ticket to open; ``then_status``
    (pending or solved, staff replies only: "Send and set ...") sets that status in the same
    transaction. Each change is audited ``ticket.status_changed`` with reason "reply". After
    commit: a websocket broadcast (notes to the staff group only) and, for replies only, one
    email per person on the other side (``tickets.notifications.send_reply_posted``), which
    states the new status: no separate status email.

    The attachments' bytes are stored before the transaction begins, so no lock (ticket row,
    audit chain head) is held during an upload; they are removed if it fails.
    """
    with attachments_stored(
        workspace_id=ticket.workspace_id, uploaded_by=author, uploads=attachments
    ) as stored:
        return _message_post(
            ticket=ticket,
            author=author,
            kind=kind,
            body=body,
            request=request,
            created_at=created_at,
            stored=stored,
            notify=notify,
            then_status=then_status,
        )


def _status_after(locked: Ticket, *, kind: str, author_is_staff: bool, then_status: str | None) -> str:
    """The status a message leaves the ticket in (the status flow of issue #17)."""
    if kind != MessageKind.REPLY:
        return locked.status
    if not author_is_staff:
        return Status.OPEN if locked.status in REOPENED_BY_REPLY else locked.status
    if then_status is not None:
        return then_status
    return Status.OPEN if locked.status == Status.NEW else locked.status


@transaction.atomic
def _message_post(*, ticket, author, kind, body, request, created_at, stored, notify, then_status) -> Message:
    if kind not in MessageKind.values:
        raise ValidationError({"kind": UNKNOWN_KIND})
    author_membership = (
        membership_of(workspace_id=ticket.workspace_id, user_id=author.pk) if author is not None else None
    )
    author_is_staff = author_membership is not None and author_membership.is_staff
    if kind == MessageKind.NOTE and not author_is_staff:
        raise ValidationError({"kind": NOTE_STAFF_ONLY})
    if then_status is not None and (
        then_status not in STATUSES_AFTER_REPLY or kind != MessageKind.REPLY or not author_is_staff
    ):
        raise ValidationError(STATUS_AFTER_REPLY_REFUSED)
    mentioned = mentioned_user_ids(body) if author_is_staff else []
    if mentioned and kind == MessageKind.REPLY:
        raise ValidationError({"body": MENTION_IN_REPLY})
    locked = _lock(ticket)
    was = reports.snapshot(locked)
    now = created_at or timezone.now()
    message = Message(
        workspace_id=locked.workspace_id,
        ticket=locked,
        author=author,
        kind=kind,
        body=body,
        created_at=now,
    )
    message.full_clean()
    message.body_html = stored_html_of(body=message.body, kind=kind, workspace_slug=locked.workspace.slug)
    message.save()
    locked.updated_at = max(now, locked.updated_at)
    fields = ["updated_at"]
    if kind == MessageKind.REPLY:
        # A note leaves the requester's "updated" time (and their list order) as it was.
        locked.public_updated_at = max(now, locked.public_updated_at)
        fields.append("public_updated_at")
        if not author_is_staff:
            # Agents' "customer replied" marker (tickets.reads).
            locked.customer_replied_at = now
            fields.append("customer_replied_at")
    status_was = None
    new_status = _status_after(locked, kind=kind, author_is_staff=author_is_staff, then_status=then_status)
    if new_status != locked.status:
        status_was = _set_status(locked, new_status, now)
        fields += ["status", "closed_at", *_bump_version(locked, author)]
    fields += sla.ticket_changed(
        ticket=locked,
        now=now,
        old_status=status_was,
        staff_replied=kind == MessageKind.REPLY and author_is_staff,
    )
    locked.save(update_fields=fields)
    reports.ticket_changed(locked, was=was, now=now)
    if kind == MessageKind.REPLY and author_is_staff:
        reports.first_response(locked, at=now)
    # The caller's instance sees the new state too.
    ticket.updated_at, ticket.status, ticket.closed_at = locked.updated_at, locked.status, locked.closed_at
    ticket.public_updated_at = locked.public_updated_at
    if kind == MessageKind.NOTE:
        events.note_created(message=message, ticket=locked, actor=author, request=request)
    else:
        events.reply_created(message=message, ticket=locked, actor=author, request=request)
    if status_was is not None:
        events.ticket_status_changed(
            ticket=locked,
            old=status_was,
            new=locked.status,
            actor=author,
            request=request,
            reason="reply",
        )
    _attach_stored(ticket=locked, message=message, stored=stored, request=request)
    _after_commit(realtime.broadcast_message, message)
    if status_was is not None:
        _after_commit(realtime.broadcast_ticket, locked)
    if notify and kind == MessageKind.REPLY:
        notifications.notify_reply_posted(message=message)
    if notify and mentioned:
        notifications.notify_mentioned(message=message, user_ids=mentioned, actor=author)
    return message


def body_version(body: str) -> str:
    """A short fingerprint of a message's text: what the edit form posts as the text it showed."""
    return hashlib.sha256(body.encode()).hexdigest()[:32]


@transaction.atomic
def message_edit(
    *, message: Message, editor, body: str, request=None, now=None, seen_version: str | None = None
) -> Message:
    """Correct a message's body: only its author, only within 15 minutes of posting.

    ``seen_version`` (``body_version`` of the text the form showed) makes it a compare-and-set:
    an edit made against a text that has changed since is refused (``EDIT_CHANGED_SINCE``, code
    ``changed_since``) rather than silently replacing the newer text.

    The kind is never touched, so a note stays a note whatever a form sends. Audits
    ``message.edited`` (ticket number and kind, never the text); no email is sent again, except
    to people a note's edit mentions for the first time. A staff reply cannot gain a mention.
    """
    message = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
    if editor is None or message.author_id != editor.pk:
        raise ValidationError(EDIT_NOT_AUTHOR, code="not_author")
    now = now or timezone.now()
    if message.redacted_at is not None:
        raise ValidationError(EDIT_REDACTED, code="redacted")
    if _is_restricted(message.workspace_id, editor.pk):
        raise ValidationError(EDIT_AUTHOR_RESTRICTED, code="restricted")
    if not edit_window_open(message, now=now):
        raise ValidationError(EDIT_WINDOW_PASSED, code="window_passed")
    if not (body or "").strip():
        raise ValidationError({"body": EDIT_EMPTY})
    if seen_version is not None and seen_version != body_version(message.body):
        raise ValidationError(EDIT_CHANGED_SINCE, code="changed_since")
    if body == message.body:
        return message
    mentioned_before = set(mentioned_user_ids(message.body))
    mentioned = [uid for uid in mentioned_user_ids(body) if uid not in mentioned_before]
    if mentioned and not message.is_note:
        raise ValidationError({"body": MENTION_IN_REPLY})
    message.body = body
    message.edited_at = now
    message.full_clean()
    message.body_html = stored_html_of(
        body=body, kind=message.kind, workspace_slug=message.ticket.workspace.slug
    )
    message.save(update_fields=["body", "body_html", "edited_at"])
    ticket = message.ticket
    changed = {"updated_at": now} if message.is_note else {"updated_at": now, "public_updated_at": now}
    Ticket.objects.filter(pk=ticket.pk).update(**changed)
    events.message_edited(message=message, ticket=ticket, editor=editor, request=request)
    _after_commit(realtime.broadcast_message, message)
    if mentioned:
        notifications.notify_mentioned(message=message, user_ids=mentioned, actor=editor)
    return message
