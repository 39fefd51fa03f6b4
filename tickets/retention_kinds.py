"""The retention kinds tickets owns (closed tickets, internal notes, attachments) and its part of
an inactive requester's expiry, registered in ``TicketsConfig.ready()``.

The kinds are disjoint, so acting on one never changes another's count: notes and attachments
on a ticket that is itself due are counted (and removed) with the ticket.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy

from helpdesk.id_arrays import IdsIn
from privacy.personal_data.retention_kinds import (
    AttachmentBasis,
    Batch,
    HoldSet,
    LeadIn,
    RetentionKind,
    TicketAction,
    cutoff,
    none_of,
    register_hold_lookups,
    register_lead_in,
    register_requester_expiry,
    register_requesters_expiry,
    register_retention_kind,
    split_held,
)
from tickets.anonymize import (
    BATCH,
    RETENTION_MESSAGE,
    attachments_expire,
    messages_anonymize,
    tickets_anonymize,
    tickets_delete,
)
from tickets.holds import LOOKUPS, attachment_held_q, held_tickets, message_held_q, ticket_held_q
from tickets.models import Attachment, Message, MessageKind, Status, Ticket
from workspaces.retention_kinds import REQUESTERS, due_requesters

TICKETS, NOTES, ATTACHMENTS = "tickets", "notes", "attachments"


# What is due ---------------------------------------------------------------------------------------------


def due_tickets(workspace_id: int, policy, holds: HoldSet, now):
    limit = cutoff(policy.tickets_days, now)
    if limit is None:
        return none_of(Ticket), none_of(Ticket)
    expired = Ticket.objects.filter(
        workspace_id=workspace_id, status=Status.CLOSED, closed_at__lt=limit, anonymized_at__isnull=True
    )
    return split_held(expired, holds, ticket_held_q(holds) if holds else None)


def _on_due_ticket(workspace_id, policy, holds, now):
    """True for a row whose ticket is itself due (its whole ticket goes, so it is counted there).

    An EXISTS anti-join: "ticket_id NOT IN (a million ids)" makes PostgreSQL rescan the list for
    every row once it no longer fits in memory (minutes at 1M tickets).
    """
    due, _ = due_tickets(workspace_id, policy, holds, now)
    return Exists(due.filter(pk=OuterRef("ticket_id")))


def due_notes(workspace_id: int, policy, holds: HoldSet, now):
    limit = cutoff(policy.notes_days, now)
    if limit is None:
        return none_of(Message), none_of(Message)
    expired = (
        Message.objects.filter(workspace_id=workspace_id, kind=MessageKind.NOTE, created_at__lt=limit)
        .exclude(body=RETENTION_MESSAGE)
        .exclude(_on_due_ticket(workspace_id, policy, holds, now))
    )
    return split_held(expired, holds, message_held_q(workspace_id, holds) if holds else None)


def due_attachments(workspace_id: int, policy, holds: HoldSet, now):
    limit = cutoff(policy.attachments_days, now)
    if limit is None:
        return none_of(Attachment), none_of(Attachment)
    expired = Attachment.objects.filter(workspace_id=workspace_id)
    if policy.attachments_basis == AttachmentBasis.CLOSED:
        expired = expired.filter(ticket__status=Status.CLOSED, ticket__closed_at__lt=limit)
    else:
        expired = expired.filter(created_at__lt=limit)
    expired = expired.exclude(_on_due_ticket(workspace_id, policy, holds, now))
    return split_held(expired, holds, attachment_held_q(workspace_id, holds) if holds else None)


# The files rows take with them -------------------------------------------------------------------------


def ticket_file_names(ids) -> list[str]:
    return list(Attachment.objects.filter(IdsIn("ticket_id", ids)).order_by().values_list("file", flat=True))


def note_file_names(ids) -> list[str]:
    return list(Attachment.objects.filter(IdsIn("message_id", ids)).order_by().values_list("file", flat=True))


def attachment_file_names(ids) -> list[str]:
    return list(Attachment.objects.filter(IdsIn("pk", ids)).order_by().values_list("file", flat=True))


# Acting on one batch ------------------------------------------------------------------------------------


def tickets_act(batch: Batch) -> int:
    if batch.policy.tickets_action == TicketAction.DELETE:
        tickets_delete(workspace_id=batch.workspace_id, ticket_ids=batch.ids)
    else:
        tickets_anonymize(workspace_id=batch.workspace_id, ticket_ids=batch.ids, now=batch.now)
    return len(batch.ids)


def notes_act(batch: Batch) -> int:
    messages_anonymize(workspace_id=batch.workspace_id, message_ids=batch.ids)
    return len(batch.ids)


def attachments_act(batch: Batch) -> int:
    attachments_expire(workspace_id=batch.workspace_id, attachment_ids=batch.ids)
    return len(batch.ids)


def requester_expire(batch: Batch, user_id: int) -> dict[str, int]:
    """An inactive requester's tickets in the batch's workspace are anonymized, their words
    elsewhere in it redacted, their files deleted; what a legal hold covers stays."""
    return requesters_expire(batch, [user_id])


def _chunks(ids):
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _requesters_tickets(workspace_id: int, requesters, held):
    """The workspace's tickets not yet anonymized whose requester matches ``requesters`` (a
    filter on ``requester_id``), less ``held`` (``held_tickets``): what an inactive requester's
    expiry anonymizes, asked by ``requesters_expire`` and by its lead-in alike."""
    return Ticket.objects.filter(requesters, workspace_id=workspace_id, anonymized_at__isnull=True).exclude(
        pk__in=held
    )


def requesters_expire(batch: Batch, user_ids) -> dict[str, int]:
    """``requester_expire`` for several requesters at once: one statement per table per chunk
    of ``BATCH`` rows, whatever the number of people."""
    workspace_id = batch.workspace_id
    user_ids = sorted(set(user_ids))
    held = held_tickets(workspace_id, batch.holds)
    counts: dict[str, int] = {}

    def add(done):
        for key, value in done.items():
            counts[key] = counts.get(key, 0) + value

    tickets = _requesters_tickets(workspace_id, IdsIn("requester_id", user_ids), held)
    ticket_ids = list(tickets.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(ticket_ids):
        batch.queue_files(ticket_file_names(chunk))
        add(tickets_anonymize(workspace_id=workspace_id, ticket_ids=chunk, now=batch.now))
    words = Message.objects.filter(IdsIn("author_id", user_ids), workspace_id=workspace_id).exclude(
        ticket_id__in=held
    )
    word_ids = list(words.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(word_ids):
        batch.queue_files(note_file_names(chunk))
        messages_anonymize(workspace_id=workspace_id, message_ids=chunk)
        add({"messages_redacted": Message.objects.filter(pk__in=chunk).update(author=None)})
    files = Attachment.objects.filter(IdsIn("uploaded_by_id", user_ids), workspace_id=workspace_id).exclude(
        ticket_id__in=held
    )
    file_ids = list(files.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(file_ids):
        batch.queue_files(attachment_file_names(chunk))
        attachments_expire(workspace_id=workspace_id, attachment_ids=chunk)
    return counts


def due_requesters_tickets(workspace_id: int, policy, holds: HoldSet, now):
    """The tickets ``requesters_expire`` would anonymize for every requester now due in the
    workspace (not those a legal hold keeps): the requesters kind's lead-in."""
    people, _ = due_requesters(workspace_id, policy, holds, now)
    return _requesters_tickets(
        workspace_id, Q(requester_id__in=people.values("user_id")), held_tickets(workspace_id, holds)
    )


def requesters_tickets_act(batch: Batch) -> None:
    tickets_anonymize(workspace_id=batch.workspace_id, ticket_ids=batch.ids, now=batch.now)


REQUESTERS_TICKETS = LeadIn(
    kind=REQUESTERS, due=due_requesters_tickets, act=requesters_tickets_act, file_names=ticket_file_names
)


def _tickets_action(policy) -> str:
    return "deleted" if policy.tickets_action == TicketAction.DELETE else "anonymized"


KINDS = (
    RetentionKind(
        name=TICKETS,
        label=gettext_lazy("Closed tickets"),
        help="Counted from the ticket's closing.",
        days_field="tickets_days",
        position=10,
        action=_tickets_action,
        due=due_tickets,
        act=tickets_act,
        file_names=ticket_file_names,
        # The retention index's order (workspace, closed_at, id): each batch reads only its rows.
        order_by=("closed_at", "pk"),
    ),
    RetentionKind(
        name=NOTES,
        label=gettext_lazy("Internal notes"),
        help="Counted from when the note was written; the note's text is replaced by a marker.",
        days_field="notes_days",
        position=20,
        action="redacted",
        due=due_notes,
        act=notes_act,
        file_names=note_file_names,
    ),
    RetentionKind(
        name=ATTACHMENTS,
        label=gettext_lazy("Attachments"),
        help="Counted from upload (or from the ticket's closing); the file is deleted from storage.",
        days_field="attachments_days",
        position=30,
        moved_by=("attachments_basis",),
        due=due_attachments,
        act=attachments_act,
        file_names=attachment_file_names,
    ),
)


def register_retention() -> None:
    for kind in KINDS:
        register_retention_kind(kind)
    register_requester_expiry(requester_expire)
    register_requesters_expiry(requesters_expire)
    register_lead_in(REQUESTERS_TICKETS)
    register_hold_lookups(LOOKUPS)
