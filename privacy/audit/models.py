"""The audit log's tables: the events and the head of each hash chain (see privacy/audit/log.py)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditChainHead(models.Model):
    """The newest link of one audit chain.

    Each workspace has its own chain (and account-level events one more), so a writer locks only
    its own chain's head row: unrelated workspaces never wait for each other.
    """

    chain = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")


AUDIT_APPEND_ONLY = "Audit events are append-only: they cannot be changed or deleted."


class AuditEventQuerySet(models.QuerySet):
    """Bulk ``update()`` and ``delete()`` are refused like the model's; the documented paths
    (retention purge, anonymization) live in privacy/audit/maintenance.py."""

    def update(self, **kwargs):
        raise PermissionError(AUDIT_APPEND_ONLY)

    def delete(self):
        raise PermissionError(AUDIT_APPEND_ONLY)

    delete.queryset_only = True


class AuditEvent(models.Model):
    """One security- or privacy-relevant act. Append-only: rows are never updated or deleted."""

    chain = models.CharField(max_length=64)
    # The chain position: NULL (and prev_hash, hash empty) until the sealer links the row into
    # its chain (privacy/audit/sealer.py). Sealing sets the three once; the trigger of migration
    # 0016 refuses every other UPDATE.
    seq = models.BigIntegerField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64, blank=True, default="")
    # The hash of the row's own content, set when it is written (log.content_digest). The chain
    # links these, so a row is tamper-evident before it is sealed, and sealing reads 64 characters
    # a row. Empty only on rows written before sealing was deferred (hashed as DIGEST v2).
    content_hash = models.CharField(max_length=64, blank=True, default="")
    sealed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # No single-column indexes on the two foreign keys: (workspace, -id) and (actor, -id) below
    # serve every lookup by either, and each index is one more insertion per audited action and
    # per seal (sealing changes ``seq``, so it is never a HOT update).
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
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
    # Rate-limited and deduplicated events (access.refused, ticket.viewed) carry a key that
    # audit_record looks up on a partial index before writing; empty for every other event.
    dedupe_key = models.CharField(max_length=128, blank=True, default="")
    # The personal columns (actor_label, ip_address, user_agent) enter the chain only through
    # personal_hash = sha256(salt + values). Anonymization blanks them and the salt, keeps the
    # hash, so the chain still verifies and the old values cannot be guessed back from it.
    personal_salt = models.CharField(max_length=32, blank=True, default="")
    personal_hash = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
            # A row waiting for the sealer carries its own content hash (verify checks it).
            models.CheckConstraint(
                condition=models.Q(seq__isnull=False) | ~models.Q(content_hash=""),
                name="audit_unsealed_has_content_hash",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-id"]),
            models.Index(fields=["actor", "-id"]),
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["workspace", "action", "-id"], name="audit_ws_action_idx"),
            models.Index(fields=["workspace", "actor_label", "-id"], name="audit_ws_actor_label_idx"),
            models.Index(
                fields=["dedupe_key", "created_at"],
                name="audit_dedupe_idx",
                condition=~models.Q(dedupe_key=""),
            ),
            # The sealer's work list: small, since rows leave it within seconds.
            models.Index(
                fields=["chain", "id"], name="audit_unsealed_idx", condition=models.Q(seq__isnull=True)
            ),
        ]
        ordering = ["-id"]

    def __str__(self):
        return f"{self.action} by {self.actor_label or 'system'} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError(AUDIT_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(AUDIT_APPEND_ONLY)

    @property
    def sealed(self) -> bool:
        """Linked into its chain (the audit log page marks the others "pending seal")."""
        return self.seq is not None


# Its personal-data declaration is in privacy/account/builtin.py: the eraser blanks events through
# privacy/audit/maintenance.py, which imports this module.
