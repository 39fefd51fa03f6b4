"""One incoming email becomes a ticket, a reply, a held request, a bounce record or a refusal.

``ingest_email(mailbox=..., raw=...)`` is the single entry of every path (IMAP fetch,
``manage.py ingest_email``). It is idempotent: the Message-ID (or a digest of the bytes) is
unique per mailbox, so a message fetched again after a crash, or by two fetchers at once, is
processed once. Whatever happens is one ``InboundEmail`` row (what staff see on the mailbox page,
with the reason of a refusal) and one ``mail.received`` audit event, written in the same
transaction as the ticket or reply, so a crash leaves neither. The raw message is kept in private
storage for the retention period of "raw email".

Who the sender is decides what they may do: a member writes as themselves (a staff member's
email is a public reply); someone with an account who is not a member joins as a requester if
the workspace's intake admits them; an address without an account is held like a sign-up of
the public Get help form (``workspaces.intake.help_request_hold``): nobody reads it until the
address is confirmed, and it is purged with the unconfirmed sign-up after
``SIGNUP_CONFIRMATION_HOURS``. Anything else is refused with the reason recorded.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from helpdesk import outbound, ratelimit
from helpdesk.single_line import single_line
from helpdesk.site import absolute_url
from privacy.audit import events
from tickets import notifications
from tickets.attachments import MAX_FILES_PER_SUBMISSION, validate_upload
from tickets.mail import loops
from tickets.mail.failing import address_clear_failing, address_mark_failing
from tickets.mail.models import InboundEmail, Mailbox, Outcome, UnknownReply
from tickets.mail.parse import Malformed, ParsedEmail, message_key, parse_email
from tickets.mail.threading import thread_of
from tickets.mail.trim import trim_reply
from tickets.models import MESSAGE_BODY_MAX_LENGTH, MessageKind
from tickets.selectors import membership_of
from tickets.services import message_post, ticket_create
from workspaces.intake import help_request_hold, intake_email_allowed, intake_refusal, requester_join
from workspaces.models import Intake, User

logger = logging.getLogger(__name__)

# Reasons recorded for staff (code, sentence).
OWN_ADDRESS = "Sent from one of our own mailbox addresses: ignored to avoid a mail loop."
OUT_OF_OFFICE = "An automatic reply (out of office): not added to any ticket."
RATE_LIMITED = "Too many emails from this sender in the last hour: refused, try again later."
NOT_PARTICIPANT = "A reply to a ticket from someone who is not one of its people: refused (mailbox setting)."
INTAKE_CLOSED = "The sender is not a member, and this workspace accepts requests from invited people only."
SIGNUP_REQUIRED = "The sender has no account; this workspace accepts requests from people who signed up only."
DOMAIN_REFUSED = "The sender's address is not of a domain this workspace accepts requests from."
SENDER_DISABLED = "The sender's account is deactivated."
BOUNCE_RECORDED = "A delivery failure report: the failing addresses are marked on their tickets."
BOUNCE_UNKNOWN = "A delivery failure report naming no address of this workspace's people."
SYSTEM_SENDER = "Sent by a mail system (mailer-daemon or postmaster), not a person: not added."
INVALID = "The message could not be turned into a ticket: {error}"
HELD = "The sender has no account: held until they confirm their address."

NO_SUBJECT = "(no subject)"
NO_TEXT = "(This email had no text.)"
TRUNCATED = "[The email is longer than a message can be; staff can read the full text.]"
ATTACHMENT_NOT_KEPT = "[Attachment not kept: {reason}]"


class _Refused(Exception):
    def __init__(self, code: str, reason: str, outcome: str = Outcome.REJECTED):
        super().__init__(code)
        self.code, self.reason, self.outcome = code, reason, outcome


def own_addresses() -> set[str]:
    """Every support address of every workspace, and the address our own emails come from."""
    addresses = set(Mailbox.objects.values_list("address", flat=True))
    addresses.add(settings.DEFAULT_FROM_EMAIL.strip().lower())
    return addresses


def _is_own(address: str, own: set[str]) -> bool:
    local, _, domain = address.partition("@")
    return address in own or f"{local.split('+', 1)[0]}@{domain}" in own


# Body and attachments ---------------------------------------------------------------------------


def _uploads(parsed: ParsedEmail) -> tuple[list, list[str]]:
    """The attachments that pass the browser uploads' checks, and why the others were not kept."""
    kept, refused = [], []
    for part in parsed.attachments:
        if len(kept) >= MAX_FILES_PER_SUBMISSION:
            refused.append(_("more than %(max)s files in one email") % {"max": MAX_FILES_PER_SUBMISSION})
            continue
        upload = SimpleUploadedFile(part.name, part.data, content_type=part.content_type)
        try:
            kept.append(validate_upload(upload))
        except ValidationError as error:
            refused.append(" ".join(error.messages))
    return kept, refused


def _body(parsed: ParsedEmail, refused: list[str]) -> tuple[str, str]:
    """(the body shown on the ticket, the full text kept for staff when it differs)."""
    shown, trimmed = trim_reply(parsed.text)
    notes = [_(ATTACHMENT_NOT_KEPT).format(reason=reason) for reason in refused]
    room = MESSAGE_BODY_MAX_LENGTH - sum(len(n) + 2 for n in notes) - len(TRUNCATED) - 4
    truncated = len(shown) > room
    if truncated:
        shown = shown[:room].rstrip() + "\n\n" + _(TRUNCATED)
    body = "\n\n".join([shown or _(NO_TEXT), *notes])
    return body, parsed.text if (trimmed or truncated) else ""


def _subject(parsed: ParsedEmail) -> str:
    return single_line(parsed.subject).strip()[:200] or _(NO_SUBJECT)


# Who the sender is --------------------------------------------------------------------------------


def _admit(mailbox: Mailbox, parsed: ParsedEmail, user):
    """The sender's membership, made if the intake setting admits them; None when their request
    is to be held (no account yet); raises _Refused otherwise."""
    workspace = mailbox.workspace
    if user is not None and not user.is_pending_signup:
        if not user.is_active:
            raise _Refused("sender_disabled", SENDER_DISABLED)
        refusal = intake_refusal(workspace, user.email)
        if refusal:
            code = "intake_closed" if workspace.intake == Intake.INVITED else "domain_refused"
            raise _Refused(code, INTAKE_CLOSED if code == "intake_closed" else DOMAIN_REFUSED)
        return requester_join(workspace=workspace, user=user)
    if workspace.intake == Intake.INVITED:
        raise _Refused("intake_closed", INTAKE_CLOSED)
    if workspace.intake != Intake.PUBLIC:
        raise _Refused("signup_required", SIGNUP_REQUIRED)
    if not intake_email_allowed(workspace, parsed.sender):
        raise _Refused("domain_refused", DOMAIN_REFUSED)
    return None


def _pending_sender(parsed: ParsedEmail) -> User:
    """The sender's unconfirmed account (made like a placeholder: no usable password, inactive)."""
    user = User.objects.select_for_update().filter(email__iexact=parsed.sender).first()
    if user is None:
        user = User(
            email=parsed.sender, display_name=parsed.sender_name, is_active=False, email_confirmed_at=None
        )
        user.set_unusable_password()
        user.full_clean(validate_unique=False)
        user.save()
    return user


def _send_held_confirmation(user: User, workspace) -> None:
    # A password-reset link: setting the password proves the mailbox and confirms the pending
    # account (workspaces.signals.pending_signup_claimed), which opens the held request.
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "workspace": workspace,
        "confirm_url": absolute_url(path),
        "hours": settings.SIGNUP_CONFIRMATION_HOURS,
    }
    outbound.send(user.email, "mail_held", context, kind=outbound.ACCOUNT)


# Bounces ------------------------------------------------------------------------------------------


def _record_bounce(mailbox: Mailbox, parsed: ParsedEmail, row: InboundEmail) -> None:
    """Mark the failing addresses of this workspace's people (``tickets.mail.failing``: nothing is
    sent to them any more, and staff see it on their tickets). An address we never wrote to for
    this workspace is not recorded at all."""
    recorded = 0
    for failure in parsed.failures or ():
        if failure.action not in ("failed", "") and not failure.status.startswith("5"):
            continue  # "delayed" or "delivered": not a failure yet
        user = User.objects.filter(email__iexact=failure.recipient).first()
        if user is None or membership_of(workspace_id=mailbox.workspace_id, user_id=user.pk) is None:
            continue
        address_mark_failing(user.email, reason=f"bounce {failure.status}".strip()[:32])
        recorded += 1
    row.outcome = Outcome.BOUNCE
    row.reason_code, row.reason = (
        ("bounce", BOUNCE_RECORDED) if recorded else ("bounce_unknown", BOUNCE_UNKNOWN)
    )


# The decision ------------------------------------------------------------------------------------


def _process(mailbox: Mailbox, parsed: ParsedEmail, row: InboundEmail) -> None:
    own = own_addresses()
    if _is_own(parsed.sender, own):
        raise _Refused("own_address", OWN_ADDRESS)
    if parsed.failures is not None:
        _record_bounce(mailbox, parsed, row)
        return
    if loops.is_system_sender(parsed.sender):
        raise _Refused("system_sender", SYSTEM_SENDER, Outcome.BOUNCE)
    if loops.is_out_of_office(parsed):
        raise _Refused("auto_reply", OUT_OF_OFFICE)
    if ratelimit.ratelimit_hit("inbound_email", address=parsed.sender) is not None:
        raise _Refused("rate_limited", RATE_LIMITED)
    user = User.objects.filter(email__iexact=parsed.sender).first()
    membership = membership_of(workspace_id=mailbox.workspace_id, user_id=user.pk) if user else None
    if membership is not None and not user.is_active and not user.is_pending_signup:
        raise _Refused("sender_disabled", SENDER_DISABLED)
    row.sender = user
    thread = thread_of(mailbox=mailbox, parsed=parsed, membership=membership)
    if thread.stranger and mailbox.unknown_reply == UnknownReply.REFUSE:
        raise _Refused("not_participant", NOT_PARTICIPANT)
    uploads, refused = _uploads(parsed)
    body, full_text = _body(parsed, refused)
    row.full_text = full_text
    if refused:
        row.reason_code, row.reason = "attachments_refused", "; ".join(refused)[:300]
    if thread.ticket is not None:
        message = message_post(
            ticket=thread.ticket, author=user, kind=MessageKind.REPLY, body=body, attachments=uploads
        )
        row.outcome, row.ticket, row.message = Outcome.REPLY_ADDED, thread.ticket, message
        # Mail came from the address: it works again.
        address_clear_failing(parsed.sender)
        return
    if membership is None:
        membership = _admit(mailbox, parsed, user)
    if membership is None:
        pending = _pending_sender(parsed)
        help_request_hold(
            workspace=mailbox.workspace, user=pending, subject=_subject(parsed), description=body
        )
        row.sender, row.sender_address = pending, ""
        row.outcome, row.reason_code, row.reason = Outcome.HELD, "held", HELD
        if loops.may_auto_reply(parsed, own):
            workspace = mailbox.workspace
            transaction.on_commit(lambda: _send_held_confirmation(pending, workspace), robust=True)
        return
    ticket = ticket_create(
        workspace=mailbox.workspace,
        queue=mailbox.queue,
        requester=membership.user,
        subject=_subject(parsed),
        description=body,
        actor=membership.user,
        attachments=uploads,
    )
    row.outcome, row.ticket = Outcome.TICKET_CREATED, ticket
    address_clear_failing(parsed.sender)
    if loops.may_auto_reply(parsed, own):
        # "We received your request" (an auto-reply, sent after commit): never to a robot.
        notifications.send_acknowledgement(ticket, membership.user)
    row.message = ticket.messages.order_by("pk").first()


def ingest_email(*, mailbox: Mailbox, raw: bytes, uidvalidity: int | None = None, uid: int | None = None):
    """Process one message; returns its ``InboundEmail`` row (an earlier one for a message
    already processed: nothing is done twice). Never raises for bad mail: a refusal is a row."""
    key = message_key(raw)
    existing = InboundEmail.objects.filter(mailbox=mailbox, message_key=key).first()
    if existing is not None:
        existing.duplicate = True
        return existing
    row = InboundEmail(
        workspace_id=mailbox.workspace_id,
        mailbox=mailbox,
        message_key=key,
        imap_uidvalidity=uidvalidity,
        imap_uid=uid,
        raw_size=len(raw),
        outcome=Outcome.REJECTED,
    )
    # Stored before the transaction (like attachments), removed again if it rolls back.
    row.raw.save("message.eml", ContentFile(raw), save=False)
    try:
        row = _record(mailbox, raw, row)
    except BaseException:
        row.raw.storage.delete(row.raw.name)
        raise
    return row


def _record(mailbox: Mailbox, raw: bytes, row: InboundEmail) -> InboundEmail:
    with transaction.atomic():
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            # Another fetcher took the same message a moment ago: theirs stands.
            row.raw.storage.delete(row.raw.name)
            existing = InboundEmail.objects.get(mailbox=mailbox, message_key=row.message_key)
            existing.duplicate = True
            return existing
        try:
            parsed = parse_email(raw)
        except Malformed as error:
            row.reason_code, row.reason = error.code, error.reason
        else:
            row.sender_address = parsed.sender
            try:
                with transaction.atomic():
                    _process(mailbox, parsed, row)
            except _Refused as refusal:
                row.outcome, row.reason_code, row.reason = refusal.outcome, refusal.code, refusal.reason
                row.ticket = row.message = None
            except ValidationError as error:
                row.outcome, row.reason_code = Outcome.REJECTED, "invalid"
                row.reason = INVALID.format(error=" ".join(error.messages))[:300]
                row.ticket = row.message = None
                row.full_text = ""
                # A pending account made in the rolled-back savepoint is gone again.
                row.sender = User.objects.filter(pk=row.sender_id).first() if row.sender_id else None
        if row.outcome != Outcome.REJECTED:
            # Kept only where staff need to know who a refused message came from.
            row.sender_address = ""
        row.save()
        events.mail_received(inbound=row, ticket=row.ticket)
    # Metadata only (never the sender, subject or words).
    logger.info(
        "Inbound email %s on mailbox %s: %s%s",
        row.pk,
        mailbox.pk,
        row.outcome,
        f" ({row.reason_code})" if row.reason_code else "",
    )
    return row
