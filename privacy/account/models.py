"""Account self-service (issue 6): policies and their acceptance, notification preferences, email
changes, consents, exports and erasure requests, each with its personal-data declaration."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from privacy.personal_data.registry import DELETE, KEEP, PersonalData, register


class PolicyKind(models.TextChoices):
    TERMS = "terms", "Terms of service"
    PRIVACY = "privacy", "Privacy policy"


class PolicyVersion(models.Model):
    kind = models.CharField(max_length=16, choices=PolicyKind.choices)
    version = models.CharField(max_length=32)
    summary = models.TextField(blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    is_material = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="policy_version_unique"),
        ]
        ordering = ["-published_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.version}"


class PolicyAcceptance(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_acceptances"
    )
    policy = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "policy"], name="policy_acceptance_unique"),
        ]


class EmailDelivery(models.TextChoices):
    EACH = "each", gettext_lazy("An email for each event")
    HOURLY = "hourly", gettext_lazy("One hourly digest")


class NotificationPreferences(models.Model):
    """Which emails a person wants. Absent row = the defaults below."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    email_on_reply = models.BooleanField("Email me when someone replies on my tickets", default=True)
    email_on_assignment = models.BooleanField("Email me when a ticket is assigned to me", default=True)
    email_weekly_summary = models.BooleanField("Send me a weekly summary of my open tickets", default=False)
    email_on_mention = models.BooleanField(
        gettext_lazy("Email me when someone mentions me in an internal note"), default=True
    )
    email_delivery = models.CharField(
        gettext_lazy("How ticket emails reach me"),
        max_length=8,
        choices=EmailDelivery.choices,
        default=EmailDelivery.EACH,
    )
    # The ISO week ("2026-W49") of the last summary sent: claimed before sending, so a second
    # run in the same week (a retry, a beat restart, a run by hand) sends nothing more.
    weekly_summary_week = models.CharField(max_length=8, blank=True, default="", editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "notification preferences"

    def __str__(self):
        return f"Notification preferences of user {self.user_id}"


class QueuedNotification(models.Model):
    """A ticket-activity email held for the person's hourly digest (``email_delivery`` =
    hourly): the subject and link it would have carried, never a message body. Deleted once the
    digest holding it is sent (``privacy.account.notification_digest``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queued_notifications"
    )
    kind = models.CharField(max_length=16)
    subject = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="queued_notification_user_idx")]
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Queued {self.kind} email for user {self.user_id}"


class EmailChange(models.Model):
    """A requested change of login address, waiting for the link sent to the new address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes")
    new_email = models.EmailField(max_length=254)
    # Only a hash of the emailed token is kept, so a database reader cannot confirm a change.
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Email change of user {self.user_id}"

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None and self.cancelled_at is None and self.expires_at > timezone.now()


class ConsentSource(models.TextChoices):
    ACCOUNT = "account", "Account page"
    SIGNUP = "signup", "Sign-up"
    OPERATOR = "operator", "Operator on request"


class Consent(models.Model):
    """One change of one consent: given or withdrawn, when, under which privacy policy.

    Rows are only added; the newest row per person and purpose is the current answer
    (``privacy.account.consents.has_consent``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32)
    granted = models.BooleanField()
    policy = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, choices=ConsentSource.choices, default=ConsentSource.ACCOUNT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose", "-created_at", "-id"], name="consent_current_idx")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.purpose}: {'given' if self.granted else 'withdrawn'}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Being prepared"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


def export_key(instance, filename):
    """A random storage key: never the person's name or email."""
    import secrets

    return f"exports/{secrets.token_hex(20)}.zip"


class DataExport(models.Model):
    """One personal-data export: a ZIP in storage under a random key, downloadable by its owner
    until ``expires_at``; the sweep deletes the file afterwards."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    file = models.FileField(upload_to=export_key, max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # An error class and a fixed text, never personal data (see privacy/account/export.py).
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="export_user_idx"),
            models.Index(fields=["status", "expires_at"], name="export_expiry_idx"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Export {self.pk} ({self.status})"

    @property
    def is_downloadable(self) -> bool:
        return self.status == ExportStatus.READY and bool(self.file) and self.expires_at > timezone.now()


class ErasureState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ErasureRequest(models.Model):
    """The tracked request to erase an account: the proof of erasure.

    It keeps only masked identifiers ("J*** D**", "j***@e*****.com"), the pseudonym and counts
    of what was removed, so the proof holds no personal data itself.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="erasure_requests"
    )
    state = models.CharField(max_length=16, choices=ErasureState.choices, default=ErasureState.SCHEDULED)
    masked_name = models.CharField(max_length=160, blank=True)
    masked_email = models.CharField(max_length=254)
    pseudonym = models.CharField(max_length=40, blank=True)
    requested_via = models.CharField(
        max_length=16, choices=ConsentSource.choices, default=ConsentSource.ACCOUNT
    )
    requested_at = models.DateTimeField(default=timezone.now)
    scheduled_for = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    # What was kept and why (legal holds); ids and reasons only.
    kept = models.JSONField(default=list, blank=True)
    # The error class and message of a failed run, with the person's identifiers masked.
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "scheduled_for"], name="erasure_due_idx")]
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"Erasure of {self.masked_email} ({self.state})"


register(
    PolicyAcceptance,
    PersonalData(
        fields=("policy", "accepted_at"),
        subject=("user_id",),
        export="policy_acceptances",
        erase=KEEP,
        description="Which policy versions the person accepted; kept as evidence, tied to the tombstone.",
    ),
)
register(
    NotificationPreferences,
    PersonalData(
        fields=(
            "email_on_reply",
            "email_on_assignment",
            "email_weekly_summary",
            "email_on_mention",
            "email_delivery",
        ),
        subject=("user_id",),
        export="preferences",
        erase=DELETE,
    ),
)
register(
    QueuedNotification,
    PersonalData(
        fields=("kind", "subject", "url", "created_at"),
        subject=("user_id",),
        export="queued_notifications",
        erase=DELETE,
        description="Ticket emails waiting for the person's hourly digest; dropped on erasure.",
    ),
)
register(
    EmailChange,
    PersonalData(
        fields=("new_email", "created_at"),
        subject=("user_id",),
        secret_fields=("token_hash",),
        export="email_changes",
        erase=DELETE,
        phase=10,
    ),
)
register(
    Consent,
    PersonalData(
        fields=("purpose", "granted", "created_at"),
        subject=("user_id",),
        export="consents",
        erase=KEEP,
        description="Consent history; kept as evidence of lawful processing, tied to the tombstone.",
    ),
)
# DataExport is declared in privacy/account/builtin.py: its eraser lives in a module that imports it.
register(
    ErasureRequest,
    PersonalData(
        fields=("masked_name", "masked_email", "requested_at", "state"),
        subject=("user_id",),
        secret_fields=("error",),
        export="erasure_requests",
        erase=KEEP,
        phase=99,
        description="The proof of erasure: masked identifiers and counts only.",
    ),
)
