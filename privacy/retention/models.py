"""Retention (issue 7): per-workspace retention policies, legal holds and the sweep's progress.

Gathered by privacy/models.py, so these are models of the ``privacy`` app. The logic lives in
privacy/retention/policies.py (policies and what is due), holds.py and sweep.py beside it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The policy's choices live with the retention kinds, which read them (tickets' own kinds included).
from privacy.personal_data.retention_kinds import AttachmentBasis, ErasureFiles, TicketAction


class RetentionPolicy(models.Model):
    """How long each kind of data of one workspace lives. ``None`` days = keep forever.

    One row per workspace, created on demand with the defaults below (privacy.retention.policies
    ``policy_for``); changed only through ``policy_update``.
    """

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="retention_policy"
    )
    tickets_days = models.PositiveIntegerField(null=True, blank=True, default=730)
    tickets_action = models.CharField(
        max_length=16, choices=TicketAction.choices, default=TicketAction.ANONYMIZE
    )
    attachments_days = models.PositiveIntegerField(null=True, blank=True, default=365)
    attachments_basis = models.CharField(
        max_length=16, choices=AttachmentBasis.choices, default=AttachmentBasis.UPLOAD
    )
    notes_days = models.PositiveIntegerField(null=True, blank=True, default=None)
    requesters_days = models.PositiveIntegerField(null=True, blank=True, default=1095)
    audit_days = models.PositiveIntegerField(null=True, blank=True, default=2555)
    exports_days = models.PositiveIntegerField(null=True, blank=True, default=7)
    erasure_files = models.CharField(max_length=16, choices=ErasureFiles.choices, default=ErasureFiles.REVIEW)
    # Emails as they arrived (tickets/mail): the ticket keeps the words; the raw message is
    # only for looking into a problem soon after.
    raw_email_days = models.PositiveIntegerField(null=True, blank=True, default=30)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "retention policies"

    def __str__(self):
        return f"Retention policy of workspace {self.workspace_id}"


class HoldScope(models.TextChoices):
    WORKSPACE = "workspace", _("The whole workspace")
    PERSON = "person", _("A person")
    TICKET = "ticket", _("A ticket")


class LegalHoldQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or timezone.now()
        return self.filter(released_at__isnull=True).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))


class LegalHold(models.Model):
    """A preservation order: what it covers is skipped by retention and by account erasure
    until it is released or its end date passes."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="legal_holds"
    )
    scope = models.CharField(max_length=16, choices=HoldScope.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    placed_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="workspace", user__isnull=True, ticket__isnull=True)
                    | Q(scope="person", user__isnull=False, ticket__isnull=True)
                    | Q(scope="ticket", user__isnull=True, ticket__isnull=False)
                ),
                name="legal_hold_scope_target",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "released_at"], name="legal_hold_ws_idx")]
        ordering = ["-placed_at", "-id"]

    def __str__(self):
        return f"Legal hold {self.pk} ({self.scope})"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.released_at is None and (self.ends_at is None or self.ends_at > now)


class RunState(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class RetentionRun(models.Model):
    """One sweep over every workspace, as of ``as_of``. Its progress lives here, not in the task
    queue: a killed run stays RUNNING and the next invocation continues it."""

    as_of = models.DateTimeField()
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    batch_size = models.PositiveIntegerField(default=500)
    # The installation's own kinds (privacy/retention/account_kinds.py), done once per run.
    account_counts = models.JSONField(default=dict, blank=True)
    account_spared = models.JSONField(default=dict, blank=True)
    account_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one unfinished run: concurrent starters meet on this and share it.
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="running"), name="retention_one_running_run"
            ),
        ]
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Retention run {self.pk} ({self.state})"


class RetentionRunWorkspace(models.Model):
    """A run's progress in one workspace: counts per kind (updated in each batch's transaction),
    the kinds finished, and whether its ``retention.run`` event was written."""

    run = models.ForeignKey(RetentionRun, on_delete=models.CASCADE, related_name="workspaces")
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    counts = models.JSONField(default=dict, blank=True)
    spared = models.JSONField(default=dict, blank=True)
    finished_kinds = models.JSONField(default=list, blank=True)
    audited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "workspace"], name="retention_run_workspace_unique"),
        ]

    def __str__(self):
        return f"Run {self.run_id} in workspace {self.workspace_id}"


class PendingFileDeletion(models.Model):
    """Stored bytes whose rows a committed batch removed; deleted from storage right after the
    commit, and again by the next run if the process died in between (an outbox)."""

    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.name


# Personal-data declarations (privacy/personal_data/registry.py) ----------------------------------

from privacy.personal_data.registry import KEEP, NON_PERSONAL_MODELS, PersonalData, register  # noqa: E402

register(
    LegalHold,
    PersonalData(
        fields=("reason", "placed_at", "ends_at"),
        subject=("user_id",),
        # Exported as which of the person's data is kept; the hold's kind and reason are the
        # workspace's legal record and stay out of the export.
        export="kept_under_legal_hold",
        description=(
            "Account erasure keeps the hold (that is its purpose); the export lists what it keeps "
            "of the person's data, never its reason."
        ),
        erase=KEEP,
        phase=99,
    ),
)
register(
    RetentionPolicy,
    PersonalData(
        fields=("updated_by",),
        subject=("updated_by_id",),
        not_exported="A workspace setting; only who last changed it refers to a person.",
        erase=KEEP,
        phase=99,
    ),
)
NON_PERSONAL_MODELS.setdefault(
    "privacy.PendingFileDeletion", "Random storage keys of files already removed; names no person."
)
