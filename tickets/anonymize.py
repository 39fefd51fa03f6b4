"""Anonymizing tickets, messages and attachments: the building blocks retention (a closed ticket,
an internal note, an attachment, an inactive requester's words) and account erasure use.

Every function runs inside the caller's transaction; storage deletes are queued with
``transaction.on_commit`` (every S3 version). They are idempotent: run twice, the second run
changes nothing.
"""

from __future__ import annotations

import logging

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from helpdesk.id_arrays import IdsIn
from privacy.audit.log import chain_for
from privacy.audit.maintenance import audit_events_anonymize_targets
from privacy.audit.models import AuditEvent
from privacy.personal_data.models import Pseudonym
from privacy.personal_data.pseudonyms import pseudonyms_ensure
from tickets import reports
from tickets.attachments import attachment_files_delete_on_commit
from tickets.bodies import body_html_of
from tickets.markers import REDACTED_MESSAGE, RETENTION_MESSAGE, RETENTION_SUBJECT
from tickets.models import Attachment, CustomField, CustomFieldValue, Message, Ticket, TicketParticipant
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

# Tickets per statement when a requester's tickets are anonymized (the sweep's own batch size is
# DEFAULT_BATCH in privacy/retention/sweep.py): the statements cost the same per call whatever
# their size, and 2,000 ids stay well under SQLite's bound parameters.
BATCH = 2000
IDS_PER_STATEMENT = 10_000
TICKET, MESSAGE, ATTACHMENT = "tickets.ticket", "tickets.message", "tickets.attachment"


class InRows(Func):
    """``column IN (subquery)`` as a filter; on PostgreSQL ``column = ANY(ARRAY(subquery))``.

    The planner guesses the rows of an ``IN (subquery)`` semi-join and, for a batch's 2,000
    tickets, hash-joined every audit event of the workspace against them (a read of the whole
    table, 120 ms at 100k tickets, growing with it). As an array it is an InitPlan run once,
    and the (target_type, target_id) index is probed per id."""

    output_field = BooleanField()

    def __init__(self, column: str, rows):
        super().__init__(F(column), Subquery(rows))

    def _parts(self, compiler):
        column, column_params = compiler.compile(self.source_expressions[0])
        rows, row_params = compiler.compile(self.source_expressions[1])
        return column, rows, [*column_params, *row_params]

    def as_sql(self, compiler, connection, **extra):
        column, rows, params = self._parts(compiler)
        return f"{column} IN {rows}", params

    def as_postgresql(self, compiler, connection, **extra):
        column, rows, params = self._parts(compiler)
        return f"{column} = ANY(ARRAY{rows})", params


class PairsIn(Func):
    """``(a, b) IN (subquery of pairs)`` as a filter (row values: PostgreSQL, SQLite 3.15+).

    Evaluated once and hashed, where a correlated subquery per row ("the requester of this
    row's ticket") runs an index probe per message, and made PostgreSQL estimate the batch's
    message statements costly enough to JIT-compile them (70 ms a batch of compiling)."""

    output_field = BooleanField()

    def __init__(self, first: str, second: str, rows):
        super().__init__(F(first), F(second), Subquery(rows))

    def as_sql(self, compiler, connection, **extra):
        (first, p1), (second, p2), (rows, p3) = (compiler.compile(e) for e in self.source_expressions)
        return f"({first}, {second}) IN {rows}", [*p1, *p2, *p3]


def _fit(model, field_name: str, value: str) -> str:
    max_length = model._meta.get_field(field_name).max_length
    return value[:max_length] if max_length else value


def attachments_delete(queryset) -> int:
    """Delete attachments: their bytes from storage (after commit, every version) and their rows.

    Two statements for a retention batch (their names, then the rows by id, so a row added
    meanwhile is neither deleted nor forgotten) and one after-commit callback for the files."""
    rows = list(queryset.order_by().values_list("pk", "file"))
    if not rows:
        return 0
    attachment_files_delete_on_commit(name for _, name in rows)
    manager, label = queryset.model._base_manager, queryset.model._meta.label
    deleted = 0
    # Chunks stay under SQLite's 32,766 bound parameters (an erased person's uploads).
    for start in range(0, len(rows), IDS_PER_STATEMENT):
        chunk = IdsIn("pk", (pk for pk, _ in rows[start : start + IDS_PER_STATEMENT]))
        deleted += manager.filter(chunk).delete()[1].get(label, 0)
    return deleted


def messages_redact(queryset, *, marker: str = REDACTED_MESSAGE) -> int:
    """Replace message bodies (and their stored HTML) with a marker; author and time stay (the
    thread still reads)."""
    return queryset.exclude(body=marker, body_html=body_html_of(marker)).update(
        body=marker, body_html=body_html_of(marker)
    )


def message_anonymize(message, *, marker: str = RETENTION_MESSAGE) -> None:
    """Anonymize one message: its body, and its attachments (bytes and rows)."""
    attachments_delete(Attachment.objects.filter(message_id=message.pk))
    messages_redact(Message.objects.filter(pk=message.pk), marker=marker)


def ticket_anonymize(
    ticket, *, subject_marker: str = RETENTION_SUBJECT, body_marker: str = RETENTION_MESSAGE
) -> dict[str, int]:
    """Anonymize a whole ticket and keep what the workspace's figures need.

    Keeps queue, priority, status, timestamps, message count and kind and the values of custom
    fields not marked personal. Removes the subject, every message body, every attachment (bytes
    and rows), the participants and the personal custom field values; requester and
    authors are shown through their pseudonyms by retention when it detaches them.
    """
    counts = {
        "attachments_deleted": attachments_delete(Attachment.objects.filter(ticket_id=ticket.pk)),
        "messages_redacted": messages_redact(Message.objects.filter(ticket_id=ticket.pk), marker=body_marker),
        "participants_removed": TicketParticipant.objects.filter(ticket_id=ticket.pk).delete()[0],
        "field_values_erased": personal_field_values_delete([ticket.pk]),
    }
    Ticket.objects.filter(pk=ticket.pk).update(subject=_fit(Ticket, "subject", subject_marker))
    return counts


def personal_field_values_delete(ticket_ids) -> int:
    """Delete the values of custom fields marked "may hold personal data" on these tickets
    (issue 13); values of other fields are the workspace's and stay. One DELETE: the personal
    fields are a subquery, not a join, so the rows go without being listed first."""
    personal = CustomField.objects.filter(personal=True).values("pk")
    rows = CustomFieldValue.objects.filter(IdsIn("ticket_id", ticket_ids), field_id__in=Subquery(personal))
    return rows.delete()[0]


def _ticket_people(ticket_ids) -> dict[int, bool]:
    """The requesters and participants of these tickets, each with whether they already have a
    pseudonym, in one statement."""

    def with_pseudonym(rows, person: str):
        has = Exists(Pseudonym.objects.filter(user_id=OuterRef(person)))
        return rows.order_by().values_list(person, has)

    requesters = Ticket.objects.filter(IdsIn("pk", ticket_ids), requester__isnull=False)
    participants = TicketParticipant.objects.filter(IdsIn("ticket_id", ticket_ids))
    rows = with_pseudonym(requesters, "requester_id").union(with_pseudonym(participants, "user_id"))
    return dict(rows)


def _forget_events(workspace_id: int, sources: dict, people) -> int:
    """Drop the IPs and user agents (and the labels of ``people``) of the workspace's audit
    events about the rows of ``sources`` (``{target_type: queryset of those rows}``).

    First one statement finds which of the rows have events still holding personal data at all
    (probes of the target index, the ids never leave the database); only those are handed to
    the audit log's maintenance path, so a batch whose rows have none (no events, or events
    already stripped) sends no id list and no UPDATE at all."""
    chain = chain_for(Workspace(pk=workspace_id))
    found = [
        AuditEvent.objects.order_by()
        .filter(chain=chain, target_type=target_type)
        .exclude(personal_salt="")
        .filter(InRows("target_id", rows.order_by().values(text_id=Cast("pk", CharField()))))
        .values_list("target_type", "target_id")
        for target_type, rows in sorted(sources.items())
    ]
    targets: dict[str, list[str]] = {}
    for target_type, target_id in found[0].union(*found[1:]):
        targets.setdefault(target_type, []).append(target_id)
    if not targets:
        return 0
    return audit_events_anonymize_targets(
        workspace_id=workspace_id,
        targets={kind: sorted(ids) for kind, ids in targets.items()},
        actor_ids=sorted(people),
    )


def _ticket_sources(ticket_ids) -> dict:
    return {
        TICKET: Ticket.objects.filter(IdsIn("pk", ticket_ids)),
        MESSAGE: Message.objects.filter(IdsIn("ticket_id", ticket_ids)),
        ATTACHMENT: Attachment.objects.filter(IdsIn("ticket_id", ticket_ids)),
    }


def tickets_anonymize(
    *, workspace_id: int, ticket_ids, now=None, subject_marker: str = RETENTION_SUBJECT,
    body_marker: str = RETENTION_MESSAGE,
) -> dict[str, int]:  # fmt: skip
    """Anonymize many tickets of one workspace at once (set-based; retention).

    Keeps queue, priority, status, assignee, timestamps, the number and kind of messages and the
    values of custom fields not marked personal. Replaces the subject and every body by a
    marker; deletes attachments (bytes after commit, every S3 version, and rows), participants
    and the values of personal custom fields; detaches the requester (stored as their stable
    pseudonym) and unlinks the messages the requester and participants wrote; drops the IPs,
    user agents and requester's labels of the audit events about the tickets, their messages and
    files. Sets ``anonymized_at`` so it is never redone. Run inside the caller's transaction.

    A fixed number of statements per call, whatever the number of tickets: every one selects
    its rows from the ticket ids (one array parameter on PostgreSQL), so no message or
    attachment id is brought into Python.
    """
    ticket_ids = sorted(set(ticket_ids))
    if not ticket_ids:
        return {}
    now = now or timezone.now()
    people = _ticket_people(ticket_ids)
    # Only the missing ones: most people of a batch were already given one by an earlier batch.
    pseudonyms_ensure([person for person, has in people.items() if not has])
    counts = {"audit_events_anonymized": _forget_events(workspace_id, _ticket_sources(ticket_ids), people)}
    counts["attachments_deleted"] = attachments_delete(
        Attachment.objects.filter(IdsIn("ticket_id", ticket_ids))
    )
    words = Message.objects.filter(IdsIn("ticket_id", ticket_ids))
    # Written by the ticket's requester or one of its participants.
    requesters = Ticket.objects.filter(IdsIn("pk", ticket_ids)).values("pk", "requester_id")
    participants = TicketParticipant.objects.filter(IdsIn("ticket_id", ticket_ids)).values(
        "ticket_id", "user_id"
    )
    by_people = Q(PairsIn("ticket_id", "author_id", requesters.order_by())) | Q(
        PairsIn("ticket_id", "author_id", participants.order_by())
    )
    marker_html = body_html_of(body_marker)
    changed = ~Q(body=body_marker, body_html=marker_html)
    tally = words.aggregate(redacted=Count("pk", filter=changed), unlinked=Count("pk", filter=by_people))
    counts["messages_redacted"] = tally["redacted"]
    counts["messages_unlinked"] = tally["unlinked"]
    # One UPDATE per message for both changes: each rewrite of a row re-indexes its body in the
    # full-text and trigram indexes, which costs most of the anonymization.
    if tally["unlinked"]:
        author = Case(When(by_people, then=Value(None)), default=F("author"))
        words.filter(changed | by_people).update(author=author, body=body_marker, body_html=marker_html)
    elif tally["redacted"]:
        words.filter(changed).update(body=body_marker, body_html=marker_html)
    counts["participants_removed"] = TicketParticipant.objects.filter(
        IdsIn("ticket_id", ticket_ids)
    ).delete()[0]
    counts["field_values_erased"] = personal_field_values_delete(ticket_ids)
    # One UPDATE: every SET sees the row as it was, so the pseudonym is read from the requester
    # being detached in the same statement.
    prefix, _, suffix = Pseudonym.LABEL.partition("{code}")
    label = Subquery(Pseudonym.objects.filter(user_id=OuterRef("requester_id")).values("code")[:1])
    anonymized = Ticket.objects.filter(IdsIn("pk", ticket_ids)).update(
        subject=_fit(Ticket, "subject", subject_marker),
        requester_pseudonym=Coalesce(Concat(Value(prefix), label, Value(suffix)), Value("")),
        requester=None,
        anonymized_at=now,
    )
    counts["tickets_anonymized"] = anonymized
    return counts


def tickets_delete(*, workspace_id: int, ticket_ids) -> dict[str, int]:
    """Delete many tickets of one workspace with everything on them (retention's "delete"
    action): files from storage (after commit), rows, and the IPs and user agents of the audit
    events about them. Run inside the caller's transaction."""
    ticket_ids = sorted(set(ticket_ids))
    if not ticket_ids:
        return {}
    people = _ticket_people(ticket_ids)
    counts = {
        "audit_events_anonymized": _forget_events(workspace_id, _ticket_sources(ticket_ids), people),
        "attachments_deleted": attachments_delete(Attachment.objects.filter(IdsIn("ticket_id", ticket_ids))),
        "participants_removed": TicketParticipant.objects.filter(IdsIn("ticket_id", ticket_ids)).delete()[0],
        "messages_deleted": Message.objects.filter(IdsIn("ticket_id", ticket_ids)).delete()[0],
    }
    # Deleted open tickets leave the backlog figures; their metrics rows stay (aggregates).
    reports.tickets_forgetting(ticket_ids)
    counts["tickets_deleted"] = Ticket.objects.filter(IdsIn("pk", ticket_ids)).delete()[0]
    return counts


def messages_anonymize(*, workspace_id: int, message_ids, marker: str = RETENTION_MESSAGE) -> dict[str, int]:
    """Redact many messages (retention of internal notes): their files go (bytes after commit),
    the bodies become the marker, the audit events about them lose IPs and user agents."""
    message_ids = sorted(set(message_ids))
    attachments = Attachment.objects.filter(IdsIn("message_id", message_ids))
    sources = {MESSAGE: Message.objects.filter(IdsIn("pk", message_ids)), ATTACHMENT: attachments}
    return {
        "audit_events_anonymized": _forget_events(workspace_id, sources, ()),
        "attachments_deleted": attachments_delete(attachments),
        "messages_redacted": messages_redact(Message.objects.filter(IdsIn("pk", message_ids)), marker=marker),
    }


def attachments_expire(*, workspace_id: int, attachment_ids) -> dict[str, int]:
    """Delete many attachments (bytes after commit, rows) and forget the IPs of their events."""
    attachments = Attachment.objects.filter(IdsIn("pk", sorted(set(attachment_ids))))
    return {
        "audit_events_anonymized": _forget_events(workspace_id, {ATTACHMENT: attachments}, ()),
        "attachments_deleted": attachments_delete(attachments),
    }
