"""Background work of the workspaces app (Celery; in-process in the embedded default)."""

from celery import shared_task

from workspaces.signup import signups_purge


@shared_task(name="workspaces.tasks.purge_unconfirmed_signups")
def purge_unconfirmed_signups() -> int:
    """Delete sign-ups left unconfirmed for SIGNUP_CONFIRMATION_HOURS (scheduled hourly by beat)."""
    return signups_purge()
