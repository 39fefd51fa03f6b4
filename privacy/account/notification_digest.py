"""The hourly digest: ticket emails held for people who chose "One hourly digest"
(``NotificationPreferences.email_delivery``), sent as one email per person listing them.

``helpdesk.outbound`` offers every ticket-activity email (reply, assignment, mention, new ticket)
to ``privacy.account.profile.queue_for_digest`` first; for these people it becomes a
``QueuedNotification`` row (subject and link, never a body). The beat task
``privacy.tasks.send_notification_digests`` (hourly) or ``python manage.py
send_notification_digests`` sends them.

Exactly once: a person's rows are locked (``SELECT ... FOR UPDATE SKIP LOCKED``) in the
transaction that sends their digest and deletes them, so a second run at the same time skips
them rather than sending them again, and a run after it finds them gone. If the mail server
refuses the digest, the transaction rolls back and the rows wait for the next run. Account and
security emails never reach the queue (``outbound.DIGESTIBLE``).
"""

import logging

from celery import shared_task
from django.db import transaction

from helpdesk import outbound
from privacy.account.models import QueuedNotification

logger = logging.getLogger(__name__)


def _send_digest(user_id: int) -> bool:
    with transaction.atomic():
        # The person first: row by row, two runs could each lock some of their queued rows (one
        # skips what the other just took) and send them two digests. Whoever holds the person
        # sends them one; the other run skips them.
        person = QueuedNotification.user.field.related_model.objects.select_for_update(skip_locked=True)
        if not list(person.filter(pk=user_id).values_list("pk", flat=True)):
            return False
        entries = list(
            QueuedNotification.objects.select_for_update(skip_locked=True)
            .filter(user_id=user_id)
            .order_by("created_at", "id")
        )
        if not entries:
            return False  # another run holds them, or sent them already
        # Deleted before sending: a run that finds fewer rows than it read lost a race (a
        # database without row locks) and sends nothing; a refused send rolls the delete back.
        deleted = QueuedNotification.objects.filter(pk__in=[e.pk for e in entries]).delete()[0]
        if deleted != len(entries):
            transaction.set_rollback(True)
            return False
        user = entries[0].user
        if not user.is_active:
            return False  # a deactivated person gets nothing; what waited for them goes
        sent = outbound.send(user, "notification_digest", {"entries": entries}, kind=outbound.DIGEST)
        if not sent:
            transaction.set_rollback(True)  # kept for the next run
        return sent


def send_notification_digests() -> int:
    """Send each person with queued ticket emails one digest of them. Returns how many were sent."""
    user_ids = list(QueuedNotification.objects.order_by().values_list("user_id", flat=True).distinct())
    sent = sum(_send_digest(user_id) for user_id in sorted(user_ids))
    logger.info("Notification digests: %d sent.", sent)
    return sent


@shared_task(name="privacy.tasks.send_notification_digests")
def send_notification_digests_task() -> int:
    return send_notification_digests()
