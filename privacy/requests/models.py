"""Data-subject requests a workspace answers as controller (GDPR arts. 15-21)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The time a controller has to answer (art. 12(3): one month); the console shows the due date.
DEFAULT_DUE_DAYS = 30
DETAILS_MAX_LENGTH = 2000
RESPONSE_MAX_LENGTH = 2000


class RequestKind(models.TextChoices):
    ACCESS = "access", _("See what is held about me")
    EXPORT = "export", _("A copy of my data")
    ERASURE = "erasure", _("Erase my data in this workspace")
    RESTRICTION = "restriction", _("Restrict the processing of my data")
    OBJECTION = "objection", _("Object to optional processing")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")


OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS)


class RequestVia(models.TextChoices):
    ACCOUNT = "account", _("Filed by the person on their account page")
    CONSOLE = "console", _("Recorded by an admin")


def default_due(now=None):
    return (now or timezone.now()) + timedelta(days=DEFAULT_DUE_DAYS)


class SubjectRequest(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    # The person the request is about (kept as the inert tombstone when their account is erased).
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="subject_requests"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via = models.CharField(max_length=16, choices=RequestVia.choices, default=RequestVia.CONSOLE)
    kind = models.CharField(max_length=16, choices=RequestKind.choices)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.RECEIVED)
    # The person's own words about what they ask; blanked when their account is erased.
    details = models.TextField(blank=True, default="", max_length=DETAILS_MAX_LENGTH)
    # The admin's answer, shown to the person with the status.
    response = models.TextField(blank=True, default="", max_length=RESPONSE_MAX_LENGTH)
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=default_due)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status", "due_at"], name="subjreq_ws_status_due"),
            models.Index(fields=["subject", "-received_at"], name="subjreq_subject_idx"),
        ]
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()
