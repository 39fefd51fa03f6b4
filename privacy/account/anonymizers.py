"""Anonymizers: the functions the personal-data registry names in ``erase=``, plus the building
blocks retention (issue 7) reuses to anonymize a whole ticket, a message or a person.

Every eraser has the signature ``f(ctx, entry) -> dict[str, int]`` (counts by name) and is
idempotent: run twice, the second run changes nothing. They run inside the erasure transaction
(privacy/account/erasure.py); storage deletes are queued with ``transaction.on_commit``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from privacy.personal_data.pseudonyms import mention_pattern, scrub

REDACTED_MESSAGE = "[Removed: the author of this message deleted their account.]"
REDACTED_SUBJECT = "[Removed: the requester deleted their account]"
RETENTION_MESSAGE = "[Removed by the workspace's retention policy.]"
RETENTION_SUBJECT = "[Removed by retention policy]"
ERASED_EMAIL = "erased-{pk}@erased.invalid"
BATCH = 500


@dataclass(frozen=True)
class HeldObjects:
    """What a legal hold keeps from erasure (issue 7 fills it; see erasure.held_objects_for)."""

    ticket_ids: frozenset[int] = frozenset()
    message_ids: frozenset[int] = frozenset()
    attachment_ids: frozenset[int] = frozenset()
    reasons: tuple[dict, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.ticket_ids or self.message_ids or self.attachment_ids)


@dataclass
class ErasureContext:
    """What every eraser needs: the person as they were before erasure, and their pseudonym."""

    user: object
    email: str
    name: str
    pseudonym: str
    staff_workspace_ids: frozenset[int]
    workspace_ids: frozenset[int]
    held: HeldObjects = field(default_factory=HeldObjects)
    counts: Counter = field(default_factory=Counter)

    @property
    def email_pattern(self) -> re.Pattern | None:
        return mention_pattern([self.email])

    @property
    def name_pattern(self) -> re.Pattern | None:
        return mention_pattern([self.name])


# Building blocks (shared with retention) -------------------------------------------------------------


def _fit(model, field_name: str, value: str) -> str:
    max_length = model._meta.get_field(field_name).max_length
    return value[:max_length] if max_length else value


def delete_stored_files(names_and_storages) -> None:
    """Queue removal of stored bytes (every S3 version) for after the transaction commits."""
    from helpdesk.storage import delete_stored_file_on_commit

    for storage, name in names_and_storages:
        if name:
            delete_stored_file_on_commit(storage=storage, name=name)


def attachments_delete(queryset) -> int:
    """Delete attachments: their bytes from storage (after commit, every version) and their rows."""
    from tickets.attachments import attachment_delete_file

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
    """Replace message bodies with a marker; author and time stay (the thread still reads)."""
    return queryset.exclude(body=marker).update(body=marker)


def message_anonymize(message, *, marker: str = RETENTION_MESSAGE) -> None:
    """Anonymize one message: its body, and its attachments (bytes and rows)."""
    from tickets.models import Attachment, Message

    attachments_delete(Attachment.objects.filter(message_id=message.pk))
    messages_redact(Message.objects.filter(pk=message.pk), marker=marker)


def ticket_anonymize(
    ticket, *, subject_marker: str = RETENTION_SUBJECT, body_marker: str = RETENTION_MESSAGE
) -> dict[str, int]:
    """Anonymize a whole ticket and keep what the workspace's figures need.

    Keeps queue, priority, status, timestamps and message count and kind. Removes the subject,
    every message body, every attachment (bytes and rows) and the participants; requester and
    authors are shown through their pseudonyms by retention (issue 7) when it detaches them.
    """
    from tickets.models import Attachment, Message, Ticket, TicketParticipant

    counts = {
        "attachments_deleted": attachments_delete(Attachment.objects.filter(ticket_id=ticket.pk)),
        "messages_redacted": messages_redact(Message.objects.filter(ticket_id=ticket.pk), marker=body_marker),
        "participants_removed": TicketParticipant.objects.filter(ticket_id=ticket.pk).delete()[0],
    }
    Ticket.objects.filter(pk=ticket.pk).update(subject=_fit(Ticket, "subject", subject_marker))
    return counts


def _ticket_people(ticket_ids) -> tuple[dict[int, int | None], set[int]]:
    from tickets.models import Ticket, TicketParticipant

    requesters = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "requester_id"))
    people = {r for r in requesters.values() if r is not None}
    participants = TicketParticipant.objects.filter(ticket_id__in=ticket_ids)
    people |= set(participants.values_list("user_id", flat=True))
    return requesters, people


def _forget_ticket_events(workspace_id: int, ticket_ids, message_ids, attachment_ids, people) -> int:
    from privacy.audit.maintenance import audit_events_anonymize_targets

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
    """Anonymize many tickets of one workspace at once (set-based; retention, issue 7).

    Keeps queue, priority, status, assignee, timestamps and the number and kind of messages.
    Replaces the subject and every body by a marker; deletes attachments (bytes after commit,
    every S3 version, and rows) and participants; detaches the requester (stored as their stable
    pseudonym) and unlinks the messages the requester and participants wrote; drops the IPs,
    user agents and requester's labels of the audit events about the tickets, their messages and
    files. Sets ``anonymized_at`` so it is never redone. Run inside the caller's transaction.
    """
    from privacy.personal_data.models import Pseudonym
    from privacy.personal_data.pseudonyms import pseudonym_labels_ensure
    from tickets.models import Attachment, Message, Ticket, TicketParticipant

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
    counts["messages_unlinked"] = Message.objects.filter(pk__in=by_people).update(author=None)
    counts["messages_redacted"] = messages_redact(words, marker=body_marker)
    counts["participants_removed"] = TicketParticipant.objects.filter(ticket_id__in=ticket_ids).delete()[0]
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
    from tickets.models import Attachment, Message, Ticket, TicketParticipant

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
    counts["tickets_deleted"] = Ticket.objects.filter(pk__in=ticket_ids).delete()[0]
    return counts


def messages_anonymize(*, workspace_id: int, message_ids, marker: str = RETENTION_MESSAGE) -> dict[str, int]:
    """Redact many messages (retention of internal notes): their files go (bytes after commit),
    the bodies become the marker, the audit events about them lose IPs and user agents."""
    from tickets.models import Attachment, Message

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
    from tickets.models import Attachment

    attachment_ids = sorted(set(attachment_ids))
    forgotten = _forget_ticket_events(workspace_id, (), (), attachment_ids, ())
    return {
        "audit_events_anonymized": forgotten,
        "attachments_deleted": attachments_delete(Attachment.objects.filter(pk__in=attachment_ids)),
    }


def user_tombstone(user, *, label: str) -> None:
    """Turn the person's row into an inert tombstone named by the pseudonym.

    The row stays so foreign keys (ticket requester, message author, audit actor) remain valid and
    every reference shows the same pseudonym. No login is possible: no usable password, inactive,
    an address in the reserved ``.invalid`` domain.
    """
    user.email = ERASED_EMAIL.format(pk=user.pk)
    user.display_name = label
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.language = ""
    user.time_zone = ""
    user.last_login = None
    user.email_confirmed_at = None
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def mentions_scrub(ctx: ErasureContext, entry) -> int:
    """Replace the person's email (everywhere) and name (in their workspaces) in the free-text
    fields the registry lists as ``mentions`` with the pseudonym. Returns the rows changed."""
    model = entry.model
    has_workspace = any(f.name == "workspace" for f in model._meta.concrete_fields)
    email_pattern, name_pattern = ctx.email_pattern, ctx.name_pattern
    held_ids = _held_ids_for(ctx, model)
    changed = 0
    for field_name in entry.mentions:
        condition = Q(**{f"{field_name}__icontains": ctx.email}) if email_pattern else Q(pk__in=[])
        if name_pattern is not None:
            by_name = Q(**{f"{field_name}__icontains": ctx.name})
            if has_workspace:
                by_name &= Q(workspace_id__in=ctx.workspace_ids)
            condition |= by_name
        rows = model._base_manager.filter(condition)
        if held_ids:
            rows = rows.exclude(pk__in=held_ids)
        batch = []
        for obj in rows.only("pk", field_name).iterator(chunk_size=BATCH):
            old = getattr(obj, field_name)
            new = scrub(old, email_pattern, ctx.pseudonym)
            if name_pattern is not None and (not has_workspace or obj.workspace_id in ctx.workspace_ids):
                new = scrub(new, name_pattern, ctx.pseudonym)
            if new != old:
                setattr(obj, field_name, _fit(model, field_name, new))
                batch.append(obj)
            if len(batch) >= BATCH:
                model._base_manager.bulk_update(batch, [field_name])
                changed += len(batch)
                batch = []
        if batch:
            model._base_manager.bulk_update(batch, [field_name])
            changed += len(batch)
    return changed


def _held_ids_for(ctx: ErasureContext, model) -> frozenset[int]:
    label = model._meta.label
    return {
        "tickets.Ticket": ctx.held.ticket_ids,
        "tickets.Message": ctx.held.message_ids,
        "tickets.Attachment": ctx.held.attachment_ids,
    }.get(label, frozenset())


# Erasers named by the registry ---------------------------------------------------------------------------


def erase_sessions(ctx: ErasureContext, entry) -> dict[str, int]:
    """Delete every unexpired session of the person (sessions are signed blobs: decode each)."""
    from django.contrib.sessions.models import Session

    mine = []
    user_id = str(ctx.user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=BATCH):
        if str(session.get_decoded().get("_auth_user_id", "")) == user_id:
            mine.append(session.pk)
    deleted = Session.objects.filter(pk__in=mine).delete()[0] if mine else 0
    return {"sessions_revoked": deleted}


def erase_exports(ctx: ErasureContext, entry) -> dict[str, int]:
    """Export archives hold everything about the person: delete the files and the rows."""
    from privacy.account.models import DataExport

    exports = list(DataExport.objects.filter(user_id=ctx.user.pk))
    delete_stored_files((export.file.storage, export.file.name) for export in exports)
    deleted = DataExport.objects.filter(pk__in=[e.pk for e in exports]).delete()[0] if exports else 0
    return {"exports_deleted": deleted}


def erase_attachments(ctx: ErasureContext, entry) -> dict[str, int]:
    from tickets.models import Attachment

    rows = Attachment.objects.filter(uploaded_by_id=ctx.user.pk)
    if ctx.held.attachment_ids:
        rows = rows.exclude(pk__in=ctx.held.attachment_ids)
    return {"files_deleted": attachments_delete(rows)}


def erase_tickets(ctx: ErasureContext, entry) -> dict[str, int]:
    """The subjects of the tickets the person requested are their words: redacted."""
    from tickets.models import Ticket

    rows = Ticket.objects.filter(requester_id=ctx.user.pk).exclude(subject=REDACTED_SUBJECT)
    if ctx.held.ticket_ids:
        rows = rows.exclude(pk__in=ctx.held.ticket_ids)
    return {"ticket_subjects_redacted": rows.update(subject=REDACTED_SUBJECT)}


def erase_messages(ctx: ErasureContext, entry) -> dict[str, int]:
    """A requester's messages are redacted (they are the data subject); messages written as an
    agent or admin (notes, and replies in workspaces where they are staff) stay, attributed to
    the pseudonym, with the person's own name and email scrubbed by the mentions pass."""
    from tickets.models import Message, MessageKind

    mine = Message.objects.filter(author_id=ctx.user.pk)
    if ctx.held.message_ids:
        mine = mine.exclude(pk__in=ctx.held.message_ids)
    as_requester = mine.filter(kind=MessageKind.REPLY).exclude(workspace_id__in=ctx.staff_workspace_ids)
    redacted = messages_redact(as_requester)
    kept = mine.exclude(pk__in=as_requester.values("pk")).count()
    return {"messages_redacted": redacted, "messages_kept_as_pseudonym": kept}


def erase_memberships(ctx: ErasureContext, entry) -> dict[str, int]:
    """End every membership through the workspace service: queue grants and participations go,
    each workspace's log records ``member.removed``, open websockets are told to close."""
    from workspaces.models import Membership
    from workspaces.services import member_remove

    ended = 0
    for membership in Membership.objects.filter(user_id=ctx.user.pk).select_related("workspace", "user"):
        member_remove(membership=membership, actor=None)
        ended += 1
    return {"memberships_ended": ended}


def erase_invitations(ctx: ErasureContext, entry) -> dict[str, int]:
    """Invitations addressed to the person hold their address: deleted. Invitations they sent
    stay (``invited_by`` points at the tombstone)."""
    return {"invitations_deleted": entry.delete_rows_of(ctx.user)}


def erase_admin_log(ctx: ErasureContext, entry) -> dict[str, int]:
    """The Django admin names changed objects by ``str()``: entries about the person's row get
    the pseudonym (mentions elsewhere are scrubbed by the mentions pass)."""
    from django.contrib.contenttypes.models import ContentType

    user_type = ContentType.objects.get_for_model(type(ctx.user))
    changed = entry.model._base_manager.filter(content_type=user_type, object_id=str(ctx.user.pk)).update(
        object_repr=ctx.pseudonym
    )
    return {"admin_log_entries_renamed": changed}


def erase_lockout_records(ctx: ErasureContext, entry) -> dict[str, int]:
    """django-axes rows carry the address typed at sign-in, the IP and the browser: deleted."""
    return {"lockout_records_deleted": entry.delete_rows_of(ctx.user)}


def erase_user_profile(ctx: ErasureContext, entry) -> dict[str, int]:
    user_tombstone(ctx.user, label=ctx.pseudonym)
    return {"profile_erased": 1}


def erase_audit_events(ctx: ErasureContext, entry) -> dict[str, int]:
    """IP addresses, user agents and the email label of the person's events are blanked by the
    audit log's own documented path; the chain still verifies."""
    from privacy.audit.maintenance import audit_events_anonymize_user

    return {"audit_events_anonymized": audit_events_anonymize_user(user_id=ctx.user.pk, actor=None)}
