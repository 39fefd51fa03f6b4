"""A workspace's support mailboxes: the address people write to and where their mail lands."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.models import Queue, Workspace


class ImapSecurity(models.TextChoices):
    SSL = "ssl", _("TLS (IMAPS, usually port 993)")
    STARTTLS = "starttls", _("STARTTLS (usually port 143)")
    NONE = "none", _("None (loopback or testing only)")


class UnknownReply(models.TextChoices):
    """What happens to a reply naming a ticket whose participants do not include the sender."""

    NEW_TICKET = "new_ticket", _("Open a new ticket (if the sender may open tickets)")
    REFUSE = "refuse", _("Refuse it (recorded on the mailbox page)")


class MailboxQuerySet(models.QuerySet):
    def of_workspace(self, workspace):
        return self.filter(workspace=workspace)


class Mailbox(models.Model):
    """One support address. Without an IMAP host, mail reaches it only by ``ingest_email``.

    The IMAP password is stored sealed (``tickets.mail.secrets``), never shown again after saving.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="mailboxes")
    # Stored lower-case; one address belongs to one workspace only.
    address = models.EmailField(max_length=254, unique=True)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="mailboxes")
    imap_host = models.CharField(max_length=255, blank=True, default="")
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=8, choices=ImapSecurity.choices, default=ImapSecurity.SSL)
    imap_user = models.CharField(max_length=255, blank=True, default="")
    imap_secret_sealed = models.TextField(blank=True, default="", editable=False)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    is_active = models.BooleanField(default=True)
    # Where the last fetch stopped: a UIDVALIDITY change means the server renumbered the folder,
    # so UIDs start over (Message-IDs still keep a message from being taken twice).
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField(default=0, editable=False)
    unknown_reply = models.CharField(
        max_length=16, choices=UnknownReply.choices, default=UnknownReply.NEW_TICKET
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = MailboxQuerySet.as_manager()

    class Meta:
        ordering = ["address"]

    def __str__(self):
        return self.address

    def save(self, *args, **kwargs):
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)

    @property
    def fetches_over_imap(self) -> bool:
        return bool(self.imap_host and self.imap_user and self.imap_secret_sealed)


class Outcome(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("New ticket")
    REPLY_ADDED = "reply_added", _("Reply added")
    HELD = "held", _("Held until the sender confirms their address")
    BOUNCE = "bounce", _("Delivery failure recorded")
    DUPLICATE = "duplicate", _("Already processed")
    REJECTED = "rejected", _("Rejected")


def raw_email_key(instance, filename):
    """A random storage key, like attachments: never the subject or the sender."""
    import secrets

    return f"raw-email/{instance.workspace_id}/{secrets.token_hex(16)}.eml"


class InboundEmailQuerySet(models.QuerySet):
    def of_workspace(self, workspace):
        return self.filter(workspace=workspace)


class InboundEmail(models.Model):
    """One message that reached a mailbox, whatever became of it: the record staff see on the
    mailbox page ("rejected: no From address"), the key that makes fetching idempotent
    (Message-ID, IMAP UIDVALIDITY/UID) and, for the retention period of "raw email", the message
    as it arrived (private storage, deleted by the retention sweep)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="inbound")
    # The sender's Message-ID header (or a digest of the bytes when it has none).
    message_key = models.CharField(max_length=255)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # A short code (no_from, not_participant, intake_closed...) and its sentence for people.
    reason_code = models.CharField(max_length=32, blank=True, default="")
    reason = models.CharField(max_length=300, blank=True, default="")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Blanked by erasure; kept only so staff can tell who a rejected message came from.
    sender_address = models.EmailField(max_length=254, blank=True, default="")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.OneToOneField(
        "tickets.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_email"
    )
    # The whole text (quoted history and signature included) when the message's body shows it
    # trimmed: staff can read it on the ticket.
    full_text = models.TextField(blank=True, default="")
    raw = models.FileField(upload_to=raw_email_key, max_length=255, blank=True, default="")
    raw_size = models.PositiveBigIntegerField(default=0)

    objects = InboundEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "message_key"], name="inbound_email_key_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "received_at"], name="inbound_email_ws_received"),
        ]

    def __str__(self):
        return f"Inbound email {self.pk} ({self.outcome})"


class OutboundKind(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("New ticket")
    REPLY = "reply", _("Reply")
    STATUS = "status", _("Status change")
    ASSIGNED = "assigned", _("Assignment")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    MENTION = "mention", _("Mention")
    SLA_BREACH = "sla_breach", _("Service level breached")


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    RETRY = "retry", _("Waiting to retry")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")


class OutboundEmail(models.Model):
    """One email about a ticket to one person: what was sent, never what it said.

    The Message-ID chains later emails to the same person into one thread (In-Reply-To and
    References); status and attempts tell staff when an email did not arrive.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="outbound_emails")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The ticket message a reply email carries (none for other kinds).
    message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=OutboundKind.choices)
    email_message_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=8, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A short code (smtp_550, address_failing), never the server's text: it may quote the address.
    error = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["ticket", "recipient"], name="outbound_ticket_recipient"),
            models.Index(fields=["ticket", "status"], name="outbound_ticket_status"),
        ]

    def __str__(self):
        return f"{self.kind} email on ticket {self.ticket_id} ({self.status})"


class FailingAddress(models.Model):
    """An address mail to which fails for good (a hard bounce, a 5xx refusal): nothing is sent
    to it. Held as a keyed hash (``tickets.mail.failing``), so the table names nobody by itself."""

    digest = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=32, blank=True, default="")
    failures = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"failing address ({self.reason or 'unknown'})"
