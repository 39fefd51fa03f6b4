"""The retention sweep as a Celery task (beat, daily; settings.CELERY_BEAT_SCHEDULE).

Listed in ``CELERY_IMPORTS`` so workers register it. Progress lives in the database, not in the
queue: a worker lost mid-run (a late-acked task is not always retried) leaves a RUNNING run that
the next call continues."""

from celery import shared_task


@shared_task(name="privacy.tasks_retention.enforce_retention")
def enforce_retention_task() -> int:
    from privacy.sweep import retention_sweep

    return retention_sweep().pk
