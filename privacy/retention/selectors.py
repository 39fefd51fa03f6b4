"""Reads for the retention settings page, scoped to the admin's workspace."""

from privacy.retention.models import LegalHold, RetentionRunWorkspace


def last_audited_run(*, workspace_id: int) -> RetentionRunWorkspace | None:
    """The workspace's share of the newest retention run that finished and was audited."""
    return (
        RetentionRunWorkspace.objects.filter(workspace_id=workspace_id, audited_at__isnull=False)
        .select_related("run")
        .order_by("-run__started_at", "-pk")
        .first()
    )


def active_hold_count(*, workspace_id: int) -> int:
    return LegalHold.objects.active().filter(workspace_id=workspace_id).count()
