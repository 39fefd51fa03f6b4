"""Celery tasks for ticket notifications. Arguments are ids only, never message text: the
task re-reads what it sends through the visibility functions (see ``tickets.notifications``).
In the embedded default the tasks run eagerly, in-process."""

from celery import shared_task

from tickets import notifications


@shared_task(name="tickets.send_ticket_created")
def send_ticket_created(ticket_id: int, actor_id: int | None = None) -> int:
    return notifications.send_ticket_created(ticket_id=ticket_id, actor_id=actor_id)


@shared_task(name="tickets.send_reply_posted")
def send_reply_posted(message_id: int) -> int:
    return notifications.send_reply_posted(message_id=message_id)


@shared_task(name="tickets.send_status_changed")
def send_status_changed(ticket_id: int, actor_id: int | None = None) -> int:
    return notifications.send_status_changed(ticket_id=ticket_id, actor_id=actor_id)


@shared_task(name="tickets.send_ticket_assigned")
def send_ticket_assigned(ticket_id: int, actor_id: int | None = None) -> int:
    return notifications.send_ticket_assigned(ticket_id=ticket_id, actor_id=actor_id)
