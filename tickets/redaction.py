"""Redaction: staff replace part of a message with "[redacted]", or remove a whole attachment.

What was redacted is gone, not hidden: the message's ``body`` and ``body_html`` are rewritten
(the trigram index on ``body`` follows the column), and an attachment's bytes are deleted from
storage after commit, every version of the key on a versioned S3 bucket
(``helpdesk.storage.delete_stored_file``). The message then shows that, and when, it was
redacted; the audit event records the reason and how many places, never the text.

Concurrency: both services lock the message row (``select_for_update``) and ``message_edit``
locks it too, so an author's edit and a redaction are serialised. A redacted message is never
editable again (``tickets.access.edit_window_open``), and an edit form opened before the
redaction carries the old text's version, which ``message_edit`` refuses: a concurrent edit
cannot bring the redacted text back.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import events
from tickets import realtime
from tickets.attachments import attachment_delete_file
from tickets.bodies import body_html_of
from tickets.models import Attachment, Message

REDACTED = "[redacted]"
REASON_MAX_LENGTH = 300

REDACT_NOTHING_CHOSEN = _("Select or type the text to redact.")
REDACT_TEXT_NOT_FOUND = _(
    "That text is not in the message (it may have changed meanwhile): select it again in the text shown."
)
REDACT_REASON_REQUIRED = _("Say why this is redacted (the reason is kept in the audit log).")
REDACT_ALREADY = _("This file was already redacted.")


def _after_commit(func, *args) -> None:
    def announce():
        func(*args)

    announce.__qualname__ = f"after_commit:{getattr(func, '__qualname__', 'call')}"
    transaction.on_commit(announce, robust=True)


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": REDACT_REASON_REQUIRED})
    return reason[:REASON_MAX_LENGTH]


def _lock_message(message_id: int, workspace_id: int) -> Message:
    return (
        Message.objects.select_for_update(of=("self",))
        .select_related("ticket", "ticket__workspace")
        .get(pk=message_id, workspace_id=workspace_id)
    )


@transaction.atomic
def message_redact(*, message: Message, text: str, reason: str, actor, request=None, now=None) -> Message:
    """Replace every occurrence of ``text`` in the message's body with ``[redacted]``.

    Who may redact is ``tickets.access.can_redact`` (the view asks). The text is matched in the
    body as it is under the row lock, not as the redactor's page showed it: a text changed
    meanwhile answers ``REDACT_TEXT_NOT_FOUND`` and nothing is written. Audits
    ``message.redacted`` (places and reason, never the text); the open ticket pages show the
    redacted message after commit."""
    reason = _clean_reason(reason)
    text = (text or "").strip()
    if not text or text == REDACTED:
        raise ValidationError({"text": REDACT_NOTHING_CHOSEN})
    locked = _lock_message(message.pk, message.workspace_id)
    places = locked.body.count(text)
    if places == 0:
        raise ValidationError({"text": REDACT_TEXT_NOT_FOUND}, code="not_found")
    locked.body = locked.body.replace(text, REDACTED)
    locked.body_html = body_html_of(locked.body)
    locked.redacted_at = now or timezone.now()
    locked.save(update_fields=["body", "body_html", "redacted_at"])
    events.message_redacted(
        message=locked, ticket=locked.ticket, places=places, reason=reason, actor=actor, request=request
    )
    _after_commit(realtime.broadcast_message, locked)
    return locked


@transaction.atomic
def attachment_redact(*, attachment: Attachment, reason: str, actor, request=None, now=None) -> Attachment:
    """Remove a whole attachment: its bytes leave storage after commit (every S3 version, or the
    local file), its name and size are blanked, and the row stays as the trace "file redacted on
    ...". Audits ``attachment.redacted`` (reason only). Locks the message row first, as
    ``message_redact`` does, so the two never interleave."""
    reason = _clean_reason(reason)
    if attachment.message_id is not None:
        _lock_message(attachment.message_id, attachment.workspace_id)
    locked = (
        Attachment.objects.select_for_update(of=("self",))
        .select_related("ticket", "ticket__workspace", "message")
        .get(pk=attachment.pk, workspace_id=attachment.workspace_id)
    )
    if locked.redacted_at is not None:
        raise ValidationError(REDACT_ALREADY, code="already")
    attachment_delete_file(locked)
    locked.file = ""
    locked.original_name = ""
    locked.size = 0
    locked.redacted_at = now or timezone.now()
    locked.save(update_fields=["file", "original_name", "size", "redacted_at"])
    events.attachment_redacted(
        attachment=locked, ticket=locked.ticket, reason=reason, actor=actor, request=request
    )
    if locked.message is not None:
        _after_commit(realtime.broadcast_message, locked.message)
    else:
        _after_commit(realtime.broadcast_ticket, locked.ticket)
    return locked
