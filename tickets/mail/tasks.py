"""Celery tasks of the email channel (scheduled by beat: settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from tickets.mail.imap import fetch_all


@shared_task(name="tickets.mail.fetch_mail")
def fetch_mail() -> dict[int, int]:
    """New mail of every active IMAP mailbox (each minute)."""
    return fetch_all()
