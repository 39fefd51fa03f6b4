"""Writes on macros, and sending a message with one.

Shared macros (no owner) are the workspace's: admins create, change and delete them, and each act
is audited (``macro.created``, ``macro.changed``, ``macro.deleted``; never the text). Personal
macros are a person's own drafts: not audited, exported with their account and deleted when it
is erased (tickets/macros/personal_data.py).

Every change is a compare-and-set on ``version``: the form posts the version it showed, and a
save against a macro someone changed since is refused (``MACRO_CHANGED_SINCE``), the person's
text kept in the form, never a silent overwrite.

``message_post_with_macro`` is the reply box's send when a macro was inserted: the message and
the macro's status, priority and tags in one transaction, through the ticket services (so each
change is audited and announced live as usual), plus ``macro.applied``.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.text import strip_bidi
from privacy.audit import events
from tickets import services as ticket_services
from tickets.macros.models import Macro
from tickets.macros.placeholders import braced, unknown_placeholders, valid_names_text
from tickets.models import MessageKind
from tickets.tags import ticket_set_tags

UNKNOWN_PLACEHOLDER = _("Unknown placeholder: %(names)s. The placeholders you can use are: %(valid)s.")
SHORTCUT_TAKEN_SHARED = _("Another shared macro already uses the shortcut “%(shortcut)s”.")
SHORTCUT_TAKEN_PERSONAL = _("One of your macros already uses the shortcut “%(shortcut)s”.")
MACRO_CHANGED_SINCE = _(
    "%(name)s changed this macro since you opened it, so your changes were not saved. What it "
    "holds now is listed below; your text is kept in the form: save again to replace it."
)
NOTE_MACRO_AS_REPLY = _(
    "The macro “%(name)s” is for internal notes: press “Add internal note” to send it, or remove "
    "the macro's text and send your own reply."
)
TAGS_MAX = 10
TAG_MAX_LENGTH = 50

# Fields an edit compares to say what changed (names only, in the audit event).
EDITABLE = ("name", "shortcut", "body", "kind", "status", "priority", "tags")


@dataclass(frozen=True)
class MacroValues:
    name: str
    shortcut: str
    body: str
    kind: str = MessageKind.REPLY
    status: str = ""
    priority: str = ""
    tags: tuple[str, ...] = ()


def _check(values: MacroValues) -> None:
    unknown = unknown_placeholders(values.body)
    if unknown:
        raise ValidationError(
            {
                "body": ValidationError(
                    UNKNOWN_PLACEHOLDER,
                    code="unknown_placeholder",
                    params={"names": ", ".join(braced(n) for n in unknown), "valid": valid_names_text()},
                )
            }
        )


def _shortcut_taken(macro: Macro) -> ValidationError:
    message = SHORTCUT_TAKEN_SHARED if macro.is_shared else SHORTCUT_TAKEN_PERSONAL
    return ValidationError(
        {"shortcut": ValidationError(message, code="shortcut_taken", params={"shortcut": macro.shortcut})}
    )


def _assign(macro: Macro, values: MacroValues) -> None:
    macro.name = strip_bidi(values.name).strip()
    macro.shortcut = values.shortcut.strip().lower()
    macro.body = values.body
    macro.kind = values.kind
    macro.status = values.status or ""
    macro.priority = values.priority or ""
    macro.tags = list(values.tags)


def _save(macro: Macro) -> None:
    """Validate and save; a shortcut taken meanwhile by a concurrent save is the same clear error."""
    clash = Macro.objects.filter(
        workspace_id=macro.workspace_id, owner_id=macro.owner_id, shortcut=macro.shortcut
    ).exclude(pk=macro.pk)
    if clash.exists():
        raise _shortcut_taken(macro)
    macro.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            macro.save()
    except IntegrityError:
        raise _shortcut_taken(macro) from None


@transaction.atomic
def macro_create(*, workspace, owner, values: MacroValues, actor, request=None) -> Macro:
    """A personal macro of ``owner``, or a shared one with ``owner=None`` (the view lets only
    admins ask for that; audited ``macro.created``)."""
    _check(values)
    now = timezone.now()
    macro = Macro(workspace=workspace, owner=owner, created_by=actor, updated_by=actor, created_at=now)
    macro.updated_at = now
    _assign(macro, values)
    _save(macro)
    if macro.is_shared:
        events.macro_created(macro=macro, actor=actor, request=request)
    return macro


def _changed_by(macro: Macro) -> str:
    user = macro.updated_by
    if user is None:
        return str(_("Someone"))
    return strip_bidi(str(user))


@transaction.atomic
def macro_update(*, macro: Macro, values: MacroValues, seen_version: int, actor, request=None) -> Macro:
    """Change a macro, if nobody saved it since the person opened it (``seen_version``);
    otherwise ``MACRO_CHANGED_SINCE`` (code ``changed_since``) and nothing is written. Shared:
    audited ``macro.changed`` with the names of the fields changed."""
    locked = Macro.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=macro.pk)
    if locked.version != seen_version:
        raise ValidationError(MACRO_CHANGED_SINCE, code="changed_since", params={"name": _changed_by(locked)})
    _check(values)
    before = {field: getattr(locked, field) for field in EDITABLE}
    _assign(locked, values)
    changed = [field for field in EDITABLE if getattr(locked, field) != before[field]]
    if not changed:
        return locked
    locked.version += 1
    locked.updated_by = actor
    locked.updated_at = timezone.now()
    _save(locked)
    if locked.is_shared:
        events.macro_changed(macro=locked, fields=changed, actor=actor, request=request)
    return locked


@transaction.atomic
def macro_delete(*, macro: Macro, actor, request=None) -> None:
    """Delete a macro; a message already sent with it keeps its text. Shared: ``macro.deleted``."""
    macro_id = macro.pk
    deleted, _rows = Macro.objects.filter(pk=macro_id, workspace_id=macro.workspace_id).delete()
    if deleted and macro.is_shared:
        events.macro_deleted(macro=macro, macro_id=macro_id, actor=actor, request=request)


# Sending with a macro ---------------------------------------------------------------------------


def macro_apply_tags(*, ticket, names, actor, request=None) -> list[str]:
    """THE place where a macro's tags reach the ticket; returns the names it added. Runs inside
    the caller's transaction, so a refused tag rolls the whole send back."""
    if not names:
        return []
    change = ticket_set_tags(ticket=ticket, add=list(names), remove=[], actor=actor, request=request)
    return list(change.added)


def macro_apply(
    *, macro: Macro, ticket, actor, request=None, skip_status: bool = False, changed=None
) -> dict:
    """Apply the macro's status, priority and tags to ``ticket`` through the ticket services
    (each audited and announced as usual) and record ``macro.applied``. Returns what changed:
    ``{"status": [old, new], ...}`` (``changed``: what the send already changed). ``skip_status``:
    the status was already decided by the send ("Send and set ..." wins over the macro)."""
    changed = dict(changed or {})
    current = ticket
    if macro.status and not skip_status and current.status != macro.status:
        old = current.status
        current = ticket_services.ticket_set_status(
            ticket=current, status=macro.status, actor=actor, request=request
        )
        changed["status"] = [old, current.status]
    if macro.priority and current.priority != macro.priority:
        old = current.priority
        current = ticket_services.ticket_set_priority(
            ticket=current, priority=macro.priority, actor=actor, request=request
        )
        changed["priority"] = [old, current.priority]
    if macro.tags:
        added = macro_apply_tags(ticket=current, names=macro.tags, actor=actor, request=request)
        if added:
            changed["tags"] = list(added)
    # The caller's instance sees the new state too (the view names the new status).
    ticket.status, ticket.priority, ticket.closed_at = current.status, current.priority, current.closed_at
    events.macro_applied(macro=macro, ticket=ticket, changed=changed, actor=actor, request=request)
    return changed


def message_post_with_macro(
    *, macro: Macro, ticket, author, kind: str, body: str, request=None, attachments=(), then_status=None
):
    """Post the message and apply the macro in one transaction. Returns ``(message, changed)``.

    A pending or solved status of the macro rides on a public reply like "Send and set ...", so
    the requester gets one email stating the new status, not two; "Send and set ..." pressed by
    the person wins over the macro's status. A note macro is never sent as a public reply
    (``NOTE_MACRO_AS_REPLY``): its text was written for colleagues."""
    if macro.kind == MessageKind.NOTE and kind == MessageKind.REPLY:
        raise ValidationError(
            {"body": ValidationError(NOTE_MACRO_AS_REPLY, code="note_macro", params={"name": macro.name})}
        )
    rides = (
        then_status is None
        and kind == MessageKind.REPLY
        and macro.status in ticket_services.STATUSES_AFTER_REPLY
    )
    with transaction.atomic():
        before = ticket.status
        message = ticket_services.message_post(
            ticket=ticket,
            author=author,
            kind=kind,
            body=body,
            request=request,
            attachments=attachments,
            then_status=macro.status if rides else then_status,
        )
        changed = {"status": [before, ticket.status]} if rides and ticket.status != before else {}
        changed = macro_apply(
            macro=macro,
            ticket=ticket,
            actor=author,
            request=request,
            skip_status=rides or then_status is not None,
            changed=changed,
        )
    return message, changed
