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


class OutboundKind(models.TextChoices):
    TICKET_CREATED = "ticket_created", _("New ticket")
    REPLY = "reply", _("Reply")
    STATUS = "status", _("Status change")
    ASSIGNED = "assigned", _("Assignment")
    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement")
    MENTION = "mention", _("Mention")


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
