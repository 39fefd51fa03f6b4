"""Celery tasks for ticket notifications, under the module name autodiscovery looks for.

The tasks live in ``tickets.notifications`` beside the functions that schedule and run them, so
that module never has to import this one back. Arguments are ids only, never message text: the
task re-reads what it sends through the visibility functions. In the embedded default the tasks
run eagerly, in-process."""

from tickets.notifications import deliver_email_task as deliver_email
from tickets.notifications import send_reply_posted_task as send_reply_posted
from tickets.notifications import send_status_changed_task as send_status_changed
from tickets.notifications import send_ticket_assigned_task as send_ticket_assigned
from tickets.notifications import send_ticket_created_task as send_ticket_created

__all__ = [
    "deliver_email",
    "send_reply_posted",
    "send_status_changed",
    "send_ticket_assigned",
    "send_ticket_created",
]
