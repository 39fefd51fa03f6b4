"""What makes an email about a ticket look like it comes from the workspace, and thread.

Every email about a ticket says:

- ``From: "<workspace name>" <support address>``: the mailbox of the ticket's queue, else the
  workspace's first mailbox, else ``DEFAULT_FROM_EMAIL``;
- ``Reply-To:`` a signed reply address for this ticket and this person, when the workspace has a
  mailbox (only then does replying by email reach the ticket, and only then does the email say
  so);
- ``Message-ID:`` a signed id naming the ticket (``tickets.mail.addresses``), and
  ``In-Reply-To``/``References`` naming the earlier emails about the ticket to the same person,
  so their mail client shows one conversation;
- ``Auto-Submitted: auto-generated`` (a notification) or ``auto-replied`` with
  ``X-Auto-Response-Suppress: All`` (an acknowledgement), so other robots do not answer.

Each email is recorded as an ``OutboundEmail`` row (metadata, never the text): created when it
is queued, claimed by one delivery attempt at a time, marked sent or failed.
"""

import hashlib
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk import compiled_queries
from tickets.mail.addresses import new_message_id, reply_address
from tickets.mail.models import Mailbox, OutboundEmail, OutboundKind, OutboundStatus

# Delivery attempts in all (the first and the retries) before a transient failure counts as failed.
MAX_ATTEMPTS = 6
# References keeps the first email and the latest ones: enough for every client to thread.
REFERENCES_KEPT = 10

PERMANENT = "permanent"
TRANSIENT = "transient"

AUTO_REPLY_KINDS = frozenset({OutboundKind.ACKNOWLEDGEMENT})
ACKNOWLEDGEMENTS_PER_DAY = 3


@dataclass(frozen=True)
class Sender:
    mailbox: Mailbox | None
    address: str
    display_name: str

    @property
    def from_header(self) -> str:
        return formataddr((self.display_name, self.address))

    @property
    def reply_by_email(self) -> bool:
        """Whether an answer to the email reaches the ticket (a mailbox receives it)."""
        return self.mailbox is not None


def sender_for(ticket) -> Sender:
    mailboxes = Mailbox.objects.filter(workspace_id=ticket.workspace_id, is_active=True).order_by("pk")
    mailbox = mailboxes.filter(queue_id=ticket.queue_id).first() or mailboxes.first()
    address = mailbox.address if mailbox is not None else settings.DEFAULT_FROM_EMAIL
    return Sender(mailbox=mailbox, address=address, display_name=ticket.workspace.name)


def email_record(*, ticket, recipient, kind: str, message=None) -> OutboundEmail:
    """A queued email about ``ticket`` to ``recipient``, with its Message-ID chosen now (so a
    retry sends the same id and a reply to either attempt threads)."""
    sender = sender_for(ticket)
    return OutboundEmail.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        recipient=recipient,
        message=message,
        kind=kind,
        email_message_id=new_message_id(sender.address, ticket.pk, message.pk if message else 0),
    )


def acknowledgement_allowed(*, ticket, recipient) -> bool:
    """Whether an automatic acknowledgement may go to ``recipient``: not twice for one ticket,
    and not more than ``ACKNOWLEDGEMENTS_PER_DAY`` a day (an auto-responder on the other side
    that answers anyway opens a ticket at most that often with an answer)."""
    acks = OutboundEmail.objects.filter(recipient_id=recipient.pk, kind=OutboundKind.ACKNOWLEDGEMENT)
    if acks.filter(ticket_id=ticket.pk).exists():
        return False
    since = timezone.now() - timedelta(days=1)
    return acks.filter(created_at__gte=since).count() < ACKNOWLEDGEMENTS_PER_DAY


def email_claim(email_id: int) -> OutboundEmail | None:
    """Take a queued (or retrying) email for one delivery attempt; None if another attempt has
    it or it is finished. A conditional UPDATE, so two workers never both send it."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status__in=(OutboundStatus.QUEUED, OutboundStatus.RETRY)
    ).update(status=OutboundStatus.SENDING, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return OutboundEmail.objects.select_related("ticket__workspace", "ticket__queue", "recipient").get(
        pk=email_id
    )


def email_finish(email: OutboundEmail, *, status: str, error: str = "") -> None:
    email.status = status
    email.error = error[:32]
    fields = ["status", "error"]
    if status == OutboundStatus.SENT:
        email.sent_at = timezone.now()
        fields.append("sent_at")
    email.save(update_fields=fields)


def thread_headers(email: OutboundEmail) -> dict[str, str]:
    """In-Reply-To and References: the earlier emails about this ticket to this person."""
    earlier = list(
        OutboundEmail.objects.filter(
            ticket_id=email.ticket_id, recipient_id=email.recipient_id, pk__lt=email.pk
        )
        .exclude(status__in=(OutboundStatus.FAILED, OutboundStatus.SKIPPED))
        .order_by("pk")
        .values_list("email_message_id", flat=True)
    )
    if not earlier:
        return {}
    if len(earlier) > REFERENCES_KEPT:
        earlier = [earlier[0], *earlier[-(REFERENCES_KEPT - 1) :]]
    return {"In-Reply-To": earlier[-1], "References": " ".join(earlier)}


def headers_for(email: OutboundEmail, sender: Sender) -> dict[str, str]:
    headers = {"Message-ID": email.email_message_id, **thread_headers(email)}
    if email.kind in AUTO_REPLY_KINDS:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    else:
        headers["Auto-Submitted"] = "auto-generated"
        # Outlook/Exchange: no out-of-office answers to notifications either.
        headers["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    return headers


def reply_to_for(email: OutboundEmail, sender: Sender) -> str | None:
    if sender.mailbox is None:
        return None
    return reply_address(sender.mailbox.address, email.ticket_id, email.recipient_id)


def message_id_hash(email_message_id: str) -> str:
    """What the audit log holds of a Message-ID: enough to match, nothing to reply to."""
    return hashlib.sha256(email_message_id.encode()).hexdigest()[:16]


def classify_error(error: BaseException) -> tuple[str, str]:
    """(PERMANENT or TRANSIENT, a short code) for a sending error. 5xx answers are permanent;
    4xx answers, dropped connections and timeouts are worth another try."""
    code = None
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in error.recipients.values()]
        code = max(codes) if codes else None
    elif isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
    if isinstance(code, int) and 500 <= code < 600:
        return PERMANENT, f"smtp_{code}"
    if isinstance(code, int):
        return TRANSIENT, f"smtp_{code}"
    return TRANSIENT, type(error).__name__[:32]


def with_any_failed_email(tickets):
    """``tickets`` annotated with ``any_failed_email``: whether any email about each failed
    (read with the ticket, so that ``failed_emails`` asks nothing more of a ticket with none)."""
    failed = OutboundEmail.objects.filter(ticket_id=OuterRef("pk"), status=OutboundStatus.FAILED)
    return tickets.annotate(any_failed_email=Exists(failed))


def failed_emails(ticket, *, limit: int = 5) -> list[OutboundEmail]:
    """The latest emails about ``ticket`` that did not arrive, for staff (who, when, why); a
    failure followed by a delivered email to the same person is over and not listed."""
    if getattr(ticket, "any_failed_email", True) is False:
        return []

    def build(ticket_id):
        delivered_later = OutboundEmail.objects.filter(
            ticket_id=OuterRef("ticket_id"),
            recipient_id=OuterRef("recipient_id"),
            status=OutboundStatus.SENT,
            pk__gt=OuterRef("pk"),
        )
        return (
            OutboundEmail.objects.filter(ticket_id=ticket_id, status=OutboundStatus.FAILED)
            .exclude(Exists(delivered_later))
            .select_related("recipient")
            .order_by("-pk")[:limit]
        )

    # Asked on every staff view of a ticket: its SQL is kept per process (compiled_queries).
    shape = ("failed_emails", connection.vendor, limit)
    return compiled_queries.rows_of(shape, build, {"ticket_id": ticket.pk})


def failure_reason(error: str) -> str:
    """What a failure code means, for the staff who read it on the ticket."""
    if error == "address_failing":
        return _("mail to this address failed before, so nothing more is sent to it")
    if error.startswith("smtp_5"):
        return _("the mail server refused it (%(code)s)") % {"code": error.removeprefix("smtp_")}
    return _("the mail server could not be reached after several tries")


def refused_recipient(error: BaseException) -> bool:
    """The server refused the address itself (not the sender or the content)."""
    return isinstance(error, smtplib.SMTPRecipientsRefused)


def retry_delay(retries_so_far: int) -> int:
    """Seconds before the next attempt: 1, 2, 4, 8, 16 minutes."""
    return 60 * 2 ** min(retries_so_far, 4)
