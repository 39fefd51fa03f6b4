"""Account erasure and other people's files: an agent's upload can name the erased person.

The person's own uploads are deleted (``erase_attachments``). Files *other people* put on the
person's tickets stay with the workspace, but their content may hold the person's name or
address. Text files are rewritten with the pseudonym in place (a new storage object; every
version of the old one is deleted after commit). A file erasure cannot rewrite (a PDF, an
office document, any binary in which an identifier's bytes appear) is, per the workspace's
setting (``RetentionPolicy.erasure_files``, passed in ``ctx.file_actions``), either listed for
staff to review (an ``attachment.erasure_flagged`` event in the workspace's log, and an entry in
the erasure record) or deleted. Files under a legal hold are kept as they are and listed.
Images are not searched: erasure cannot read text in pictures (README, "Account erasure").
"""

from __future__ import annotations

from django.core.files.base import ContentFile

from helpdesk.id_arrays import IdsIn
from privacy.audit import events
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.pseudonyms import scrub
from tickets.anonymize import attachments_delete
from tickets.attachments import attachment_delete_file
from tickets.models import Attachment, Message, Ticket, TicketParticipant, attachment_key

# Files larger than this are not read into memory; they are treated as not rewritable.
MAX_SCAN_BYTES = 10 * 1024 * 1024
TEXT_TYPES = ("application/json", "application/xml", "application/csv", "application/x-ndjson")
# Formats whose text is compressed or encoded: a byte search proves nothing either way.
DOCUMENT_TYPES = (
    "application/pdf",
    "application/msword",
    "application/rtf",
    "application/zip",
    "application/vnd.",
)

REASON_NOT_REWRITABLE = "content_not_rewritable"
REASON_LEGAL_HOLD = "legal_hold"
REVIEW, DELETE = "review", "delete"


def _text_of(attachment, data: bytes | None) -> str | None:
    """The file's bytes as text, when it is a text file in UTF-8; None otherwise."""
    if data is None or not _is_text(attachment.content_type):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_text(content_type: str) -> bool:
    content_type = (content_type or "").split(";")[0].strip().lower()
    return content_type.startswith("text/") or content_type in TEXT_TYPES


def _is_document(content_type: str) -> bool:
    content_type = (content_type or "").split(";")[0].strip().lower()
    return any(content_type.startswith(prefix) for prefix in DOCUMENT_TYPES)


def _tickets_of(user_id: int) -> list[int]:
    """Ids of the tickets the person requested, was assigned, takes part in or wrote on: four
    lookups by the person's indexed columns, so the cost follows their tickets, not the table
    (one OR of EXISTS per attachment read every attachment)."""
    lookups = (
        Ticket.objects.filter(requester_id=user_id).order_by().values_list("pk", flat=True),
        Ticket.objects.filter(assignee_id=user_id).order_by().values_list("pk", flat=True),
        TicketParticipant.objects.filter(user_id=user_id).order_by().values_list("ticket_id", flat=True),
        Message.objects.filter(author_id=user_id).order_by().values_list("ticket_id", flat=True),
    )
    return sorted(set(lookups[0].union(*lookups[1:])))


def _read(attachment) -> bytes | None:
    if attachment.size > MAX_SCAN_BYTES:
        return None
    try:
        with attachment.file.storage.open(attachment.file.name, "rb") as handle:
            return handle.read(MAX_SCAN_BYTES + 1)
    except (FileNotFoundError, OSError):
        return b""


def _mentions_in_bytes(data: bytes, needles) -> bool:
    lowered = data.lower()
    for needle in needles:
        for encoding in ("utf-8", "utf-16-le"):
            if needle.lower().encode(encoding) in lowered:
                return True
    return False


def _rewrite(attachment, text: str) -> None:
    old_name = attachment.file.name
    data = text.encode("utf-8")
    new_name = attachment.file.storage.save(attachment_key(attachment, ""), ContentFile(data))
    attachment_delete_file(attachment)  # the old object, every version, after commit
    Attachment.objects.filter(pk=attachment.pk, file=old_name).update(file=new_name, size=len(data))


def _flag(ctx: ErasureContext, attachment, *, reason: str, outcome: str) -> None:
    ctx.unremoved.append(
        {
            "what": "attachment",
            "workspace_id": attachment.workspace_id,
            "ticket": attachment.ticket.number,
            "attachment": attachment.pk,
            "reason": reason,
            "outcome": outcome,
        }
    )
    events.attachment_erasure_flagged(
        attachment=attachment, ticket_number=attachment.ticket.number, reason=reason, outcome=outcome
    )


def erase_file_mentions(ctx: ErasureContext) -> dict[str, int]:
    """Other people's files on the person's tickets: rewrite, flag or delete (see module doc)."""
    needles = [*ctx.all_emails, *ctx.all_names]
    if not ctx.mentions_anything:
        return {}
    email_pattern, name_pattern = ctx.email_pattern, ctx.name_pattern
    rewritten = flagged = deleted = 0
    files = (
        Attachment.objects.filter(ticket_id__in=_tickets_of(ctx.user.pk))
        .exclude(uploaded_by_id=ctx.user.pk)
        .select_related("ticket", "workspace")
        .order_by("pk")
    )
    for attachment in files:
        if not attachment.file.name or attachment.content_type.startswith("image/"):
            continue
        data = _read(attachment)
        if data == b"":
            continue
        text = _text_of(attachment, data)
        if text is not None:
            new = scrub(scrub(text, email_pattern, ctx.pseudonym), name_pattern, ctx.pseudonym)
            if new == text:
                continue
            if attachment.pk in ctx.held.attachment_ids:
                _flag(ctx, attachment, reason=REASON_LEGAL_HOLD, outcome=REVIEW)
                flagged += 1
                continue
            _rewrite(attachment, new)
            rewritten += 1
            continue
        suspect = data is None or _is_document(attachment.content_type) or _mentions_in_bytes(data, needles)
        if not suspect:
            continue
        if attachment.pk in ctx.held.attachment_ids:
            _flag(ctx, attachment, reason=REASON_LEGAL_HOLD, outcome=REVIEW)
            flagged += 1
        elif ctx.file_action(attachment.workspace_id) == DELETE:
            _flag(ctx, attachment, reason=REASON_NOT_REWRITABLE, outcome="deleted")
            deleted += attachments_delete(Attachment.objects.filter(pk=attachment.pk))
        else:
            _flag(ctx, attachment, reason=REASON_NOT_REWRITABLE, outcome=REVIEW)
            flagged += 1
    return {
        "others_files_rewritten": rewritten,
        "others_files_flagged": flagged,
        "others_files_deleted": deleted,
    }


def _tickets_of_many(user_ids) -> dict[int, list[int]]:
    """``_tickets_of`` for many people in one statement: ``{ticket_id: [user_id, ...]}``."""
    ids = list(user_ids)
    lookups = (
        Ticket.objects.filter(IdsIn("requester_id", ids)).order_by().values_list("pk", "requester_id"),
        Ticket.objects.filter(IdsIn("assignee_id", ids)).order_by().values_list("pk", "assignee_id"),
        TicketParticipant.objects.filter(IdsIn("user_id", ids))
        .order_by()
        .values_list("ticket_id", "user_id"),
        Message.objects.filter(IdsIn("author_id", ids)).order_by().values_list("ticket_id", "author_id"),
    )
    found: dict[int, list[int]] = {}
    for ticket_id, user_id in lookups[0].union(*lookups[1:]):
        people = found.setdefault(ticket_id, [])
        if user_id not in people:
            people.append(user_id)
    return found


def erase_file_mentions_many(contexts) -> dict[int, dict[str, int]]:
    """``erase_file_mentions`` for many people: the files on any of their tickets that none of
    them uploaded are read once; each file is searched for each person whose ticket it is on,
    in the batch's order (as erasing them one after the other would), and written at most once."""
    order = {ctx.user.pk: n for n, ctx in enumerate(contexts)}
    by_user = {ctx.user.pk: ctx for ctx in contexts}
    counts = {
        user_id: {"others_files_rewritten": 0, "others_files_flagged": 0, "others_files_deleted": 0}
        for user_id in by_user
    }
    searching = [ctx for ctx in contexts if ctx.mentions_anything]
    if not searching:
        return {user_id: {} for user_id in by_user}
    tickets = _tickets_of_many([ctx.user.pk for ctx in searching])
    if not tickets:
        return counts
    files = (
        Attachment.objects.filter(ticket_id__in=sorted(tickets))
        .exclude(uploaded_by_id__in=list(by_user))
        .select_related("ticket", "workspace")
        .order_by("pk")
    )
    for attachment in files:
        if not attachment.file.name or attachment.content_type.startswith("image/"):
            continue
        people = sorted(
            (by_user[u] for u in tickets.get(attachment.ticket_id, ()) if u in by_user),
            key=lambda ctx: order[ctx.user.pk],
        )
        people = [ctx for ctx in people if ctx.mentions_anything]
        if not people:
            continue
        data = _read(attachment)
        if data == b"":
            continue
        text = _text_of(attachment, data)
        if text is not None:
            original = text
            for ctx in people:
                new = scrub(scrub(text, ctx.email_pattern, ctx.pseudonym), ctx.name_pattern, ctx.pseudonym)
                if new == text:
                    continue
                if attachment.pk in ctx.held.attachment_ids:
                    _flag(ctx, attachment, reason=REASON_LEGAL_HOLD, outcome=REVIEW)
                    counts[ctx.user.pk]["others_files_flagged"] += 1
                    continue
                text = new
                counts[ctx.user.pk]["others_files_rewritten"] += 1
            if text != original:
                _rewrite(attachment, text)
            continue
        for ctx in people:
            needles = [*ctx.all_emails, *ctx.all_names]
            suspect = (
                data is None or _is_document(attachment.content_type) or _mentions_in_bytes(data, needles)
            )
            if not suspect:
                continue
            if attachment.pk in ctx.held.attachment_ids:
                _flag(ctx, attachment, reason=REASON_LEGAL_HOLD, outcome=REVIEW)
                counts[ctx.user.pk]["others_files_flagged"] += 1
            elif ctx.file_action(attachment.workspace_id) == DELETE:
                _flag(ctx, attachment, reason=REASON_NOT_REWRITABLE, outcome="deleted")
                counts[ctx.user.pk]["others_files_deleted"] += attachments_delete(
                    Attachment.objects.filter(pk=attachment.pk)
                )
                break  # gone: the next person's search has nothing left to look at
            else:
                _flag(ctx, attachment, reason=REASON_NOT_REWRITABLE, outcome=REVIEW)
                counts[ctx.user.pk]["others_files_flagged"] += 1
    return counts
