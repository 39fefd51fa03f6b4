"""Anonymizing tickets, messages and attachments: the building blocks retention (a closed ticket,
an internal note, an attachment, an inactive requester's words) and account erasure use.

Every function runs inside the caller's transaction; storage deletes are queued with
``transaction.on_commit`` (every S3 version). They are idempotent: run twice, the second run
changes nothing.
"""

from __future__ import annotations

from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from privacy.audit.maintenance import audit_events_anonymize_targets
from privacy.personal_data.models import Pseudonym
from privacy.personal_data.pseudonyms import pseudonym_labels_ensure
from tickets import reports
from tickets.attachments import attachment_delete_file
from tickets.bodies import body_html_of
from tickets.models import Attachment, CustomFieldValue, Message, Ticket, TicketParticipant

REDACTED_MESSAGE = "[Removed: the author of this message deleted their account.]"
RETENTION_MESSAGE = "[Removed by the workspace's retention policy.]"
RETENTION_SUBJECT = "[Removed by retention policy]"
BATCH = 500


def _fit(model, field_name: str, value: str) -> str:
    max_length = model._meta.get_field(field_name).max_length
    return value[:max_length] if max_length else value


def attachments_delete(queryset) -> int:
    """Delete attachments: their bytes from storage (after commit, every version) and their rows."""
    ids = []
    for attachment in queryset.only("pk", "file", "workspace_id").iterator(chunk_size=BATCH):
        attachment_delete_file(attachment)
        ids.append(attachment.pk)
    model = queryset.model
    deleted = 0
    for start in range(0, len(ids), BATCH):
        _, per_model = model._base_manager.filter(pk__in=ids[start : start + BATCH]).delete()
        deleted += per_model.get(model._meta.label, 0)
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
    (issue 13); values of other fields are the workspace's and stay."""
    rows = CustomFieldValue.objects.filter(ticket_id__in=list(ticket_ids), field__personal=True)
    return CustomFieldValue.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).delete()[0]


def _ticket_people(ticket_ids) -> tuple[dict[int, int | None], set[int]]:
    requesters = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "requester_id"))
    people = {r for r in requesters.values() if r is not None}
    participants = TicketParticipant.objects.filter(ticket_id__in=ticket_ids)
    people |= set(participants.values_list("user_id", flat=True))
    return requesters, people


def _forget_ticket_events(workspace_id: int, ticket_ids, message_ids, attachment_ids, people) -> int:
    return audit_events_anonymize_targets(
        workspace_id=workspace_id,
        targets={
            "tickets.ticket": sorted(ticket_ids),
            "tickets.message": sorted(message_ids),
            "tickets.attachment": sorted(attachment_ids),
        },
        actor_ids=sorted(people),
    )


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
    """
    ticket_ids = sorted(set(ticket_ids))
    if not ticket_ids:
        return {}
    now = now or timezone.now()
    requesters, people = _ticket_people(ticket_ids)
    pseudonym_labels_ensure(people)
    message_ids = list(Message.objects.filter(ticket_id__in=ticket_ids).values_list("pk", flat=True))
    attachments = Attachment.objects.filter(ticket_id__in=ticket_ids)
    attachment_ids = list(attachments.values_list("pk", flat=True))
    forgotten = _forget_ticket_events(workspace_id, ticket_ids, message_ids, attachment_ids, people)
    counts = {"audit_events_anonymized": forgotten}
    counts["attachments_deleted"] = attachments_delete(attachments)
    words = Message.objects.filter(ticket_id__in=ticket_ids)
    participant = TicketParticipant.objects.filter(
        ticket_id=OuterRef("ticket_id"), user_id=OuterRef("author_id")
    )
    by_people = list(
        words.filter(Q(author_id=F("ticket__requester_id")) | Q(Exists(participant))).values_list(
            "pk", flat=True
        )
    )
    # One UPDATE per message for both changes: each rewrite of a row re-indexes its body in the
    # full-text and trigram indexes, which costs most of the anonymization.
    marker_html = body_html_of(body_marker)
    changed = ~Q(body=body_marker, body_html=marker_html)
    counts["messages_redacted"] = words.filter(changed).count()
    if by_people:
        author = Case(When(pk__in=by_people, then=Value(None)), default=F("author"))
        counts["messages_unlinked"] = len(by_people)
        words.filter(changed | Q(pk__in=by_people)).update(
            author=author, body=body_marker, body_html=marker_html
        )
    else:
        counts["messages_unlinked"] = 0
        words.filter(changed).update(body=body_marker, body_html=marker_html)
    counts["participants_removed"] = TicketParticipant.objects.filter(ticket_id__in=ticket_ids).delete()[0]
    counts["field_values_erased"] = personal_field_values_delete(ticket_ids)
    # One UPDATE: every SET sees the row as it was, so the pseudonym is read from the requester
    # being detached in the same statement.
    prefix, _, suffix = Pseudonym.LABEL.partition("{code}")
    label = Subquery(Pseudonym.objects.filter(user_id=OuterRef("requester_id")).values("code")[:1])
    anonymized = Ticket.objects.filter(pk__in=ticket_ids).update(
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
    _, people = _ticket_people(ticket_ids)
    message_ids = list(Message.objects.filter(ticket_id__in=ticket_ids).values_list("pk", flat=True))
    attachments = Attachment.objects.filter(ticket_id__in=ticket_ids)
    counts = {
        "audit_events_anonymized": _forget_ticket_events(
            workspace_id, ticket_ids, message_ids, list(attachments.values_list("pk", flat=True)), people
        ),
        "attachments_deleted": attachments_delete(attachments),
        "participants_removed": TicketParticipant.objects.filter(ticket_id__in=ticket_ids).delete()[0],
        "messages_deleted": Message.objects.filter(ticket_id__in=ticket_ids).delete()[0],
    }
    # Deleted open tickets leave the backlog figures; their metrics rows stay (aggregates).
    reports.tickets_forgetting(ticket_ids)
    counts["tickets_deleted"] = Ticket.objects.filter(pk__in=ticket_ids).delete()[0]
    return counts


def messages_anonymize(*, workspace_id: int, message_ids, marker: str = RETENTION_MESSAGE) -> dict[str, int]:
    """Redact many messages (retention of internal notes): their files go (bytes after commit),
    the bodies become the marker, the audit events about them lose IPs and user agents."""
    message_ids = sorted(set(message_ids))
    attachments = Attachment.objects.filter(message_id__in=message_ids)
    attachment_ids = list(attachments.values_list("pk", flat=True))
    forgotten = _forget_ticket_events(workspace_id, (), message_ids, attachment_ids, ())
    return {
        "audit_events_anonymized": forgotten,
        "attachments_deleted": attachments_delete(attachments),
        "messages_redacted": messages_redact(Message.objects.filter(pk__in=message_ids), marker=marker),
    }


def attachments_expire(*, workspace_id: int, attachment_ids) -> dict[str, int]:
    """Delete many attachments (bytes after commit, rows) and forget the IPs of their events."""
    attachment_ids = sorted(set(attachment_ids))
    forgotten = _forget_ticket_events(workspace_id, (), (), attachment_ids, ())
    return {
        "audit_events_anonymized": forgotten,
        "attachments_deleted": attachments_delete(Attachment.objects.filter(pk__in=attachment_ids)),
    }
