"""What the tickets app holds about a person, and how export and account erasure reach it.

Registered from ``TicketsConfig.ready()`` (``register_personal_data``): the personal-data
declarations of tickets, participants, messages and attachments with their erasers, the
``tickets``, ``messages`` and ``attachments`` sections of the export, and the workspaces a person
is known in through tickets. privacy/account walks these registrations and never imports this app.

Export visibility is asked of the same querysets the pages use (tickets/access.py), per
membership. Where the person has tickets or messages in a workspace they no longer belong to, a
requester's view of that workspace is used (public replies only). A requester's export therefore
never holds an internal note; an agent's or admin's holds the notes *they wrote*, never other
people's notes on tickets they merely work.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from django.db.models import Q

from helpdesk.id_arrays import IdsIn
from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.export_context import CHUNK_ROWS, ExportContext, ExportFile, iso
from privacy.personal_data.registry import DELETE, KEEP, PersonalData
from tickets.access import visible_attachments, visible_messages, visible_tickets
from tickets.anonymize import REDACTED_MESSAGE, attachments_delete, messages_redact
from tickets.attachments import sanitize_filename
from tickets.bodies import body_html_of, messages_rerender
from tickets.file_mentions import erase_file_mentions, erase_file_mentions_many
from tickets.markers import RETENTION_MESSAGE, RETENTION_SUBJECT
from tickets.models import (
    Attachment,
    BacklogCount,
    Message,
    MessageKind,
    SavedView,
    SubjectWord,
    Ticket,
    TicketParticipant,
    TicketRead,
)
from workspaces.models import Membership, Role, Workspace

# What account erasure writes in place of a requester's subject (their bodies: REDACTED_MESSAGE,
# tickets/anonymize.py).
REDACTED_SUBJECT = "[Removed: the requester deleted their account]"

# Erasure ----------------------------------------------------------------------------------------------


def erase_attachments(ctx: ErasureContext, entry) -> dict[str, int]:
    """The person's own uploads are deleted; other people's files on their tickets are searched
    for their names and addresses (tickets/file_mentions.py)."""
    rows = Attachment.objects.filter(uploaded_by_id=ctx.user.pk)
    if ctx.held.attachment_ids:
        rows = rows.exclude(pk__in=ctx.held.attachment_ids)
    return {"files_deleted": attachments_delete(rows), **erase_file_mentions(ctx)}


def erase_tickets(ctx: ErasureContext, entry) -> dict[str, int]:
    """The subjects of the tickets the person requested are their words: redacted."""
    rows = Ticket.objects.filter(requester_id=ctx.user.pk).exclude(subject=REDACTED_SUBJECT)
    if ctx.held.ticket_ids:
        rows = rows.exclude(pk__in=ctx.held.ticket_ids)
    return {"ticket_subjects_redacted": rows.update(subject=REDACTED_SUBJECT)}


def erase_messages(ctx: ErasureContext, entry) -> dict[str, int]:
    """A requester's messages are redacted (they are the data subject); messages written as an
    agent or admin (notes, and replies in workspaces where they are staff) stay, attributed to
    the pseudonym, with the person's own name and email scrubbed by the mentions pass."""
    mine = Message.objects.filter(author_id=ctx.user.pk)
    if ctx.held.message_ids:
        mine = mine.exclude(pk__in=ctx.held.message_ids)
    as_requester = mine.filter(kind=MessageKind.REPLY).exclude(workspace_id__in=ctx.staff_workspace_ids)
    redacted = messages_redact(as_requester)
    kept = mine.exclude(pk__in=as_requester.values("pk")).count()
    return {"messages_redacted": redacted, "messages_kept_as_pseudonym": kept}


def erase_attachments_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_attachments`` for many people: their uploads read and deleted together, then
    other people's files on their tickets searched once per file (``erase_file_mentions_many``).
    A file one of them uploaded on another's ticket is deleted with its uploader's files rather
    than searched first."""
    by_user = {ctx.user.pk: ctx for ctx in contexts}
    counts = {user_id: {"files_deleted": 0} for user_id in by_user}
    doomed = []
    rows = Attachment.objects.filter(uploaded_by_id__in=list(by_user)).values_list("pk", "uploaded_by_id")
    for pk, user_id in rows:
        if pk in by_user[user_id].held.attachment_ids:
            continue
        doomed.append(pk)
        counts[user_id]["files_deleted"] += 1
    if doomed:
        attachments_delete(Attachment.objects.filter(pk__in=doomed))
    for user_id, found in erase_file_mentions_many(contexts).items():
        counts[user_id].update(found)
    return counts


def erase_tickets_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_tickets`` for many people: one read, one UPDATE."""
    by_user = {ctx.user.pk: ctx for ctx in contexts}
    counts = {user_id: {"ticket_subjects_redacted": 0} for user_id in by_user}
    rows = (
        Ticket.objects.filter(requester_id__in=list(by_user))
        .exclude(subject=REDACTED_SUBJECT)
        .values_list("pk", "requester_id")
    )
    redact = []
    for pk, user_id in rows:
        if pk not in by_user[user_id].held.ticket_ids:
            redact.append(pk)
            counts[user_id]["ticket_subjects_redacted"] += 1
    if redact:
        Ticket.objects.filter(pk__in=redact).update(subject=REDACTED_SUBJECT)
    return counts


def erase_messages_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_messages`` for many people: their messages read once (ids and kinds, never
    bodies), the requester replies still to redact read once, redacted in one UPDATE."""
    by_user = {ctx.user.pk: ctx for ctx in contexts}
    counts = {user_id: {"messages_redacted": 0, "messages_kept_as_pseudonym": 0} for user_id in by_user}
    as_requester = []
    rows = Message.objects.filter(IdsIn("author_id", by_user)).values_list(
        "pk", "author_id", "kind", "workspace_id"
    )
    for pk, user_id, kind, workspace_id in rows:
        ctx = by_user[user_id]
        if pk in ctx.held.message_ids:
            continue
        if kind == MessageKind.REPLY and workspace_id not in ctx.staff_workspace_ids:
            as_requester.append(pk)
        else:
            counts[user_id]["messages_kept_as_pseudonym"] += 1
    if as_requester:
        pending = Message.objects.filter(pk__in=as_requester).exclude(
            body=REDACTED_MESSAGE, body_html=body_html_of(REDACTED_MESSAGE)
        )
        todo = list(pending.values_list("pk", "author_id"))
        for _pk, user_id in todo:
            counts[user_id]["messages_redacted"] += 1
        if todo:
            messages_redact(Message.objects.filter(pk__in=[pk for pk, _ in todo]))
    return counts


def workspace_ids_of(user) -> set[int]:
    """Workspaces where the person requested, was assigned, takes part in or wrote on a ticket."""
    ids = set(
        Ticket.objects.filter(Q(requester_id=user.pk) | Q(assignee_id=user.pk))
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    ids |= set(TicketParticipant.objects.filter(user_id=user.pk).values_list("workspace_id", flat=True))
    ids |= set(Message.objects.filter(author_id=user.pk).values_list("workspace_id", flat=True).distinct())
    return ids


def workspace_ids_of_many(users) -> dict[int, set[int]]:
    """``workspace_ids_of`` for many people in three queries."""
    ids = [user.pk for user in users]
    found: dict[int, set[int]] = {user_id: set() for user_id in ids}
    tickets = Ticket.objects.filter(Q(IdsIn("requester_id", ids)) | Q(IdsIn("assignee_id", ids))).values_list(
        "requester_id", "assignee_id", "workspace_id"
    )
    for requester_id, assignee_id, workspace_id in tickets.distinct():
        for user_id in (requester_id, assignee_id):
            if user_id in found:
                found[user_id].add(workspace_id)
    for model, column in ((TicketParticipant, "user_id"), (Message, "author_id")):
        rows = model.objects.filter(IdsIn(column, ids)).values_list(column, "workspace_id").distinct()
        for user_id, workspace_id in rows.order_by():
            found[user_id].add(workspace_id)
    return found


# Export -----------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """One workspace the person is exported from, seen through their membership there."""

    membership: object
    virtual: bool

    @property
    def workspace(self):
        return self.membership.workspace


def scopes_for(user) -> list[Scope]:
    """Real memberships, plus a requester's view of workspaces the person left but still has
    tickets or messages in."""
    memberships = list(Membership.objects.filter(user_id=user.pk).select_related("workspace"))
    member_of = {m.workspace_id for m in memberships}
    elsewhere = (
        set(Ticket.objects.filter(requester_id=user.pk).values_list("workspace_id", flat=True).distinct())
        | set(TicketParticipant.objects.filter(user_id=user.pk).values_list("workspace_id", flat=True))
        | set(Message.objects.filter(author_id=user.pk).values_list("workspace_id", flat=True).distinct())
    ) - member_of
    scopes = [Scope(m, virtual=False) for m in memberships]
    for workspace in Workspace.objects.filter(pk__in=elsewhere):
        scopes.append(Scope(Membership(workspace=workspace, user=user, role=Role.REQUESTER), virtual=True))
    return sorted(scopes, key=lambda s: (s.workspace.name, s.workspace.pk))


def _scopes(ctx: ExportContext) -> list[Scope]:
    def compute():
        scopes = scopes_for(ctx.user)
        if ctx.workspace_id is not None:
            scopes = [s for s in scopes if s.workspace.pk == ctx.workspace_id]
        ctx.workspace_names.update({s.workspace.slug: s.workspace.name for s in scopes})
        return scopes

    return ctx.shared("tickets.scopes", compute)


def own_tickets(scope: Scope):
    own = Ticket.objects.ids_taken_part_by(scope.workspace.pk, scope.membership.user_id)
    return visible_tickets(scope.membership).filter(id__in=own)


def iter_tickets(scope: Scope, user):
    """(ticket dict with its visible messages) in ticket-id order; flat memory.

    Rows are read as tuples (``values_list``), not model instances: at 100,000 messages building
    models would cost most of the export's time. The tickets stream; their messages are read per
    chunk of ``CHUNK_ROWS`` tickets by those tickets' ids (``_messages_of``).
    """
    tickets = (
        own_tickets(scope)
        .order_by("pk")
        .values_list(
            "pk",
            "number",
            "subject",
            "requester_id",
            "status",
            "priority",
            "queue__name",
            "created_at",
            "updated_at",
            "public_updated_at",
            "closed_at",
        )
        .iterator(chunk_size=CHUNK_ROWS)
    )
    while chunk := list(islice(tickets, CHUNK_ROWS)):
        yield from _with_messages(scope, user, chunk)


def _messages_of(scope: Scope, ticket_ids: list[int]):
    """The messages the person may read on these tickets (read through ``own_tickets``, so
    visible), in ticket-id order.

    By the tickets' ids, not by a subquery of the visible tickets: with that subquery the
    planner misjudged the rows and re-read the person's tickets once per message (54,828
    buffers for a 200-ticket requester at 100,000 tickets, against 3,181 at 10,000).
    """
    return (
        Message.objects.filter(workspace_id=scope.workspace.pk, ticket_id__in=ticket_ids)
        .readable_by(scope.membership)
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "pk", "kind", "author_id", "author__display_name", "created_at", "body")
        .iterator(chunk_size=CHUNK_ROWS)
    )


def _with_messages(scope: Scope, user, tickets: list[tuple]):
    """The ticket dicts of one chunk of ticket rows (ordered by id), merged with their messages
    in one pass."""
    messages = _messages_of(scope, [row[0] for row in tickets])
    slug = scope.workspace.slug
    pending = next(messages, None)
    # What the person could see on the page: staff every change, a requester the public ones.
    sees_all = scope.membership.is_staff
    for row in tickets:
        pk, number, subject, requester_id, status, priority, queue, created, updated, public, closed = row
        rows = []
        while pending is not None and pending[0] < pk:
            pending = next(messages, None)
        while pending is not None and pending[0] == pk:
            _, message_id, kind, author_id, author_name, at, body = pending
            mine = author_id == user.pk
            rows.append(
                {
                    "id": message_id,
                    "kind": kind,
                    "author": "you" if mine else (author_name or "(no name)") if author_id else "(unknown)",
                    "written_by_you": mine,
                    "created_at": iso(at),
                    "body": body,
                }
            )
            pending = next(messages, None)
        yield {
            "workspace": slug,
            "number": number,
            "subject": subject,
            "your_role": "requester" if requester_id == user.pk else "participant",
            "status": status,
            "priority": priority,
            "queue": queue,
            "created_at": iso(created),
            "updated_at": iso(updated if sees_all else public),
            "closed_at": iso(closed),
            "messages": rows,
        }


def iter_other_messages(scope: Scope, user):
    """Messages the person wrote on tickets that are not theirs (an agent's replies and notes)."""
    rows = (
        visible_messages(scope.membership)
        .filter(author_id=user.pk)
        .exclude(ticket__in=own_tickets(scope).values("id"))
        .order_by("pk")
        .values_list("pk", "ticket__number", "kind", "created_at", "body")
    )
    slug = scope.workspace.slug
    for pk, number, kind, at, body in rows.iterator(chunk_size=CHUNK_ROWS):
        yield {
            "workspace": slug,
            "ticket": number,
            "id": pk,
            "kind": kind,
            "created_at": iso(at),
            "body": body,
        }


def attachments_for(ctx: ExportContext, scope: Scope):
    """Files the person may see on their own tickets, and files they uploaded anywhere visible."""

    def visible_ids():
        # The person's candidates first, by two index lookups (never an OR, which PostgreSQL
        # answers by reading every attachment of the workspace); the visibility rules then look
        # at those rows only, by primary key, so the read grows with the person's files, not
        # the table's. Asked once per export: the section and the files read the same rows.
        on_own_tickets = Attachment.objects.filter(ticket__in=own_tickets(scope).values("id")).values_list(
            "id", flat=True
        )
        uploaded = Attachment.objects.filter(
            workspace_id=scope.workspace.pk, uploaded_by_id=ctx.user.pk
        ).values_list("id", flat=True)
        candidates = sorted({*on_own_tickets.order_by(), *uploaded.order_by()})
        return list(
            visible_attachments(scope.membership)
            .filter(id__in=candidates)
            .order_by("pk")
            .values_list("id", flat=True)
        )

    ids = ctx.shared(f"tickets.attachment_ids.{scope.workspace.pk}", visible_ids)
    return Attachment.objects.filter(id__in=ids).select_related("ticket").order_by("pk")


def attachment_path(scope: Scope, attachment) -> str:
    name = sanitize_filename(attachment.original_name)
    return f"files/{scope.workspace.slug}/{attachment.ticket.number}/{attachment.pk}-{name}"


def iter_attachments(ctx: ExportContext, scope: Scope):
    user = ctx.user
    for attachment in attachments_for(ctx, scope).iterator(chunk_size=CHUNK_ROWS):
        yield {
            "workspace": scope.workspace.slug,
            "ticket": attachment.ticket.number,
            "message": attachment.message_id,
            "original_name": attachment.original_name,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "uploaded_by_you": attachment.uploaded_by_id == user.pk,
            "created_at": iso(attachment.created_at),
            "path": attachment_path(scope, attachment),
        }


def _opener(attachment):
    return lambda: attachment.file.storage.open(attachment.file.name, "rb")


def export_tickets(ctx: ExportContext):
    for scope in _scopes(ctx):
        yield from iter_tickets(scope, ctx.user)


def export_messages(ctx: ExportContext):
    for scope in _scopes(ctx):
        yield from iter_other_messages(scope, ctx.user)


def export_attachments(ctx: ExportContext):
    for scope in _scopes(ctx):
        yield from iter_attachments(ctx, scope)


def export_attachment_files(ctx: ExportContext):
    for scope in _scopes(ctx):
        for attachment in attachments_for(ctx, scope).iterator(chunk_size=CHUNK_ROWS):
            yield ExportFile(
                attachment_path(scope, attachment), _opener(attachment), f"attachment {attachment.pk}"
            )


# Registration -----------------------------------------------------------------------------------------


def export_ticket_reads(ctx: ExportContext):
    """When the person (staff) last opened each ticket after it changed: what the list's unread
    markers use (an open of an unchanged ticket records nothing, tickets/reads.py)."""
    reads = TicketRead.objects.filter(user_id=ctx.user.pk)
    if ctx.workspace_id is not None:  # a workspace's own export (the data-request console)
        reads = reads.filter(workspace_id=ctx.workspace_id)
    rows = reads.order_by("workspace_id", "ticket_id").values_list(
        "workspace__slug", "ticket__number", "seen_at"
    )
    for slug, number, seen_at in rows.iterator(chunk_size=CHUNK_ROWS):
        yield {"workspace": slug, "ticket": number, "seen_at": iso(seen_at)}


# Saved views --------------------------------------------------------------------------------------


def erase_saved_views(ctx: ErasureContext, entry) -> dict[str, int]:
    """The person's own views go; views they shared stay the workspace's, without their name."""
    mine = SavedView.objects.filter(owner_id=ctx.user.pk)
    deleted, _ = mine.filter(shared=False).delete()
    kept = mine.filter(shared=True).update(owner=None)
    return {"saved_views_deleted": deleted, "shared_views_kept_without_owner": kept}


def erase_saved_views_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_saved_views`` for many people: one read, one DELETE, one UPDATE."""
    ids = [ctx.user.pk for ctx in contexts]
    counts = {user_id: {"saved_views_deleted": 0, "shared_views_kept_without_owner": 0} for user_id in ids}
    private, shared = [], []
    for pk, user_id, is_shared in SavedView.objects.filter(owner_id__in=ids).values_list(
        "pk", "owner_id", "shared"
    ):
        (shared if is_shared else private).append(pk)
        counts[user_id]["shared_views_kept_without_owner" if is_shared else "saved_views_deleted"] += 1
    if private:
        SavedView.objects.filter(pk__in=private).delete()
    if shared:
        SavedView.objects.filter(pk__in=shared).update(owner=None)
    return counts


def export_saved_views(ctx: ExportContext):
    """The views of the ticket list the person saved (and shared ones they created)."""
    views = SavedView.objects.filter(owner_id=ctx.user.pk)
    if ctx.workspace_id is not None:
        views = views.filter(workspace_id=ctx.workspace_id)
    rows = views.order_by("workspace_id", "position", "id").values_list(
        "workspace__slug", "name", "shared", "params", "created_at"
    )
    for slug, name, shared, params, created_at in rows.iterator(chunk_size=CHUNK_ROWS):
        yield {
            "workspace": slug,
            "name": name,
            "shared": shared,
            "filters": params,
            "created_at": iso(created_at),
        }


def _subject_words_of(user):
    """The word index's rows of the subjects of the person's tickets (it has no link to them)."""
    return SubjectWord.objects.filter(ticket_id__in=Ticket.objects.filter(requester_id=user.pk).values("id"))


def register_personal_data() -> None:
    registry.register(
        Ticket,
        PersonalData(
            fields=("subject",),
            subject=("requester_id", "participants__user_id"),
            export="tickets",
            erase=erase_tickets,
            erase_many=erase_tickets_many,
            mentions=("subject",),
            # tickets/migrations/0005_search_trigram_indexes.py, 0024 (without the marker)
            mentions_indexed=("subject",),
            mentions_index_skips=(("subject", RETENTION_SUBJECT),),
            phase=40,
            description="Subjects of the person's own tickets are redacted; tickets stay for the workspace.",
        ),
    )
    registry.register(
        TicketParticipant,
        PersonalData(
            fields=("ticket", "added_at"),
            subject=("user_id",),
            export="tickets",
            erase=DELETE,
            phase=30,
        ),
    )
    registry.register(
        Message,
        PersonalData(
            fields=("body",),
            # The rendered body: the same words, so personal, but the export carries them as body.
            secret_fields=("body_html",),
            subject=("author_id",),
            export="messages",
            erase=erase_messages,
            erase_many=erase_messages_many,
            mentions=("body",),
            mentions_indexed=("body",),
            mentions_index_skips=(("body", RETENTION_MESSAGE),),
            derived=messages_rerender,
            phase=40,
            description="A requester's words are redacted; an agent's stay under their pseudonym.",
        ),
    )
    registry.register(
        Attachment,
        PersonalData(
            fields=("original_name", "content_type", "size"),
            subject=("uploaded_by_id",),
            secret_fields=("file",),
            export="attachments",
            erase=erase_attachments,
            erase_many=erase_attachments_many,
            mentions=("original_name",),
            # tickets/migrations/0025_attachment_name_trigram_index.py
            mentions_indexed=("original_name",),
            phase=20,
        ),
    )
    registry.register(
        TicketRead,
        PersonalData(
            fields=("ticket", "seen_at"),
            subject=("user_id",),
            export="ticket_reads",
            erase=DELETE,
            phase=30,
            description="When a staff member last opened a ticket (unread markers); deleted on erasure.",
        ),
    )
    registry.register(
        BacklogCount,
        PersonalData(
            fields=("queue", "open"),
            subject=("assignee_id",),
            not_exported=(
                "A count of the open tickets assigned to the person, per queue (the reports' backlog); "
                "the tickets themselves are exported."
            ),
            erase=KEEP,
            description="Workload figures of the reports dashboard; kept, like the tickets' assignee.",
        ),
    )
    registry.register(
        SubjectWord,
        PersonalData(
            fields=("word",),
            rows=_subject_words_of,
            not_exported=(
                "The words of the subjects of the person's tickets, an index the database keeps from "
                "them; the subjects themselves are exported whole."
            ),
            erase=KEEP,
            description=(
                "The database replaces a ticket's words whenever its subject changes (migration "
                "tickets.0032): erasure's redaction of a subject, or of a name mentioned in one, "
                "replaces them; retention's marker has none."
            ),
        ),
    )
    registry.register_workspace_ids(workspace_ids_of)
    registry.register_workspace_ids_many(workspace_ids_of, workspace_ids_of_many)
    registry.register_exporter("tickets", export_tickets, order=40, workspace_scoped=True)
    registry.register_exporter("messages", export_messages, order=50, workspace_scoped=True)
    registry.register_exporter(
        "attachments", export_attachments, order=60, files=export_attachment_files, workspace_scoped=True
    )
    registry.register_exporter("ticket_reads", export_ticket_reads, order=65, workspace_scoped=True)
    registry.register(
        SavedView,
        PersonalData(
            fields=("name", "params"),
            subject=("owner_id",),
            export="saved_views",
            erase=erase_saved_views,
            erase_many=erase_saved_views_many,
            phase=30,
            description="Views of the ticket list a person saved: their own are deleted on erasure; "
            "those shared with the workspace stay, without their creator.",
        ),
    )
    registry.register_exporter("saved_views", export_saved_views, order=66, workspace_scoped=True)
