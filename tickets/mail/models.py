"""A workspace's support mailboxes: the address people write to and where their mail lands."""

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
