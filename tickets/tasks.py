"""Celery tasks for ticket notifications, under the module name autodiscovery looks for.

The tasks live in ``tickets.notifications`` beside the functions that schedule and run them, so
that module never has to import this one back. Arguments are ids only, never message text: the
task re-reads what it sends through the visibility functions. In the embedded default the tasks
run eagerly, in-process."""

from tickets.notifications import deliver_email_task as deliver_email
from tickets.notifications import send_reply_posted_task as send_reply_posted
from tickets.notifications import send_sla_breached_task as send_sla_breached
from tickets.notifications import send_status_changed_task as send_status_changed
from tickets.notifications import send_ticket_assigned_task as send_ticket_assigned
from tickets.notifications import send_ticket_created_task as send_ticket_created
from tickets.sla import breaches_detect_task as sla_detect_breaches
from tickets.sla import policy_apply_task as sla_apply_policy

__all__ = [
    "deliver_email",
    "send_reply_posted",
    "send_sla_breached",
    "send_status_changed",
    "send_ticket_assigned",
    "send_ticket_created",
    "sla_apply_policy",
    "sla_detect_breaches",
]
