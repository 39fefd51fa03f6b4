from django.conf import settings
from django.db import models
from django.utils import timezone


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


class AuditChainHead(models.Model):
    """The newest link of one audit chain.

    Each workspace has its own chain (and account-level events one more), so a writer locks only
    its own chain's head row: unrelated workspaces never wait for each other.
    """

    chain = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")


class AuditEvent(models.Model):
    """One security- or privacy-relevant act. Append-only: rows are never updated or deleted."""

    chain = models.CharField(max_length=64)
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept when the actor is erased, so the trail still tells people apart.
    actor_label = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "-id"]),
            models.Index(fields=["actor", "-id"]),
            models.Index(fields=["target_type", "target_id"]),
        ]
        ordering = ["-id"]

    def __str__(self):
        return f"{self.action} by {self.actor_label or 'system'} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Audit events are append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only and cannot be deleted.")
