"""Admins' writes on support mailboxes. The IMAP password is sealed before it is stored and is
never returned, logged or audited: the audit event names the fields that changed only."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from privacy.audit import events
from tickets.mail.models import Mailbox
from tickets.mail.secrets import seal

ADDRESS_TAKEN = "Another mailbox already uses this address."
QUEUE_OF_OTHER_WORKSPACE = "Choose one of this workspace's queues."
IMAP_INCOMPLETE = "To fetch mail over IMAP, give the server, the user name and the password."

FIELDS = (
    "address",
    "queue",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_user",
    "imap_folder",
    "unknown_reply",
    "is_active",
)


def _apply(mailbox: Mailbox, values: dict, secret: str) -> list[str]:
    changed = []
    for name in FIELDS:
        if name in values and getattr(mailbox, name) != values[name]:
            setattr(mailbox, name, values[name])
            changed.append(name)
    if secret:
        mailbox.imap_secret_sealed = seal(secret)
        changed.append("imap_secret")
    if mailbox.queue.workspace_id != mailbox.workspace_id:
        raise ValidationError({"queue": QUEUE_OF_OTHER_WORKSPACE})
    if mailbox.imap_host and not (mailbox.imap_user and mailbox.imap_secret_sealed):
        raise ValidationError({"imap_host": IMAP_INCOMPLETE})
    mailbox.address = mailbox.address.strip().lower()
    if Mailbox.objects.filter(address=mailbox.address).exclude(pk=mailbox.pk).exists():
        raise ValidationError({"address": ADDRESS_TAKEN})
    mailbox.full_clean(validate_unique=False)
    return changed


@transaction.atomic
def mailbox_create(*, workspace, values: dict, secret: str = "", actor=None, request=None) -> Mailbox:
    """Add a mailbox. Audits ``mailbox.changed`` (change: added)."""
    mailbox = Mailbox(workspace=workspace, queue=values["queue"], address=values["address"])
    changed = _apply(mailbox, values, secret)
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError:
        raise ValidationError({"address": ADDRESS_TAKEN}) from None
    events.mailbox_changed(mailbox=mailbox, change="added", fields=changed, actor=actor, request=request)
    return mailbox


@transaction.atomic
def mailbox_update(*, mailbox: Mailbox, values: dict, secret: str = "", actor=None, request=None) -> Mailbox:
    """Change a mailbox; an empty ``secret`` keeps the stored password. A new server or user
    starts fetching from the beginning of the folder (Message-IDs still skip what was taken).
    Audits ``mailbox.changed`` with the names of the fields that changed; nothing if none did."""
    mailbox = Mailbox.objects.select_for_update().select_related("queue", "workspace").get(pk=mailbox.pk)
    changed = _apply(mailbox, values, secret)
    if not changed:
        return mailbox
    if {"imap_host", "imap_user", "imap_folder"} & set(changed):
        mailbox.imap_uidvalidity, mailbox.imap_last_uid = None, 0
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError:
        raise ValidationError({"address": ADDRESS_TAKEN}) from None
    events.mailbox_changed(mailbox=mailbox, change="changed", fields=changed, actor=actor, request=request)
    return mailbox
