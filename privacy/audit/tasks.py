"""The audit sealer as a Celery beat task (every ``AUDIT_SEAL_INTERVAL_SECONDS``, see
settings.CELERY_BEAT_SCHEDULE). Listed in ``CELERY_IMPORTS`` so workers register it."""

from celery import shared_task

from privacy.audit.sealer import seal_pending


# Task names are what queued messages and the beat schedule refer to: kept across module moves.
@shared_task(name="privacy.tasks.audit_seal_pending")
def audit_seal_pending_task() -> int:
    return seal_pending().sealed
