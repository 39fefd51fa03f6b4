"""The retention sweep as a Celery task (beat, daily; settings.CELERY_BEAT_SCHEDULE).

Listed in ``CELERY_IMPORTS`` so workers register it. Progress lives in the database, not in the
queue: a worker lost mid-run (a late-acked task is not always retried) leaves a RUNNING run that
the next call continues."""

from celery import shared_task

from privacy.retention.sweep import retention_sweep


# Task names are what queued messages and the beat schedule refer to: kept across module moves.
@shared_task(name="privacy.tasks_retention.enforce_retention")
def enforce_retention_task() -> int:
    return retention_sweep().pk
