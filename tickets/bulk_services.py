"""Batched variants of the property services, for bulk changes of many tickets (tickets/bulk.py).

Each function here does for a list of tickets exactly what its single-edit twin in
tickets/services.py does for one (``ticket_set_status``, ``ticket_set_priority``,
``ticket_assign``, ``ticket_move_queue``): the same fields written (``updated_at``,
``public_updated_at`` where a requester sees the change, ``closed_at``, ``version`` and
``properties_changed_by``), the same rules (an assignee works the ticket's queue and is not
restricted; a move drops an assignee who does not work the new queue), ONE audit event per
ticket with the same action and detail, and the same announcements after commit (a live update
per ticket, the same emails). Only the writing is batched: one ``UPDATE`` for all the tickets
instead of a savepoint, a re-lock and a save each; the audit events in one insert
(``events.tickets_*``, one chain-head lock); the live updates through one
``realtime.broadcast_tickets``; the emails as one queued task (``notify_*_many``). Measured
on 500 tickets: see docs/bulk-actions.md.

Contract: the caller (``bulk_apply``) runs inside a transaction, has locked the rows
(``select_for_update``, id order) and passes only tickets whose value differs from the one asked
for. Each function returns ``{ticket pk: refusal sentence}`` for the tickets it left alone.

Keeping the twins in step: ``tests/tickets/test_bulk_services.py`` runs each action both ways
(single services, batched) on identical tickets and compares every written field and every
audit event; a rule added to a single-edit service fails it until it is added here too.
"""

from django.db.models import F
from django.utils import timezone

from privacy.audit import events
from tickets import notifications, realtime, reports, services, sla
from tickets.models import Status, Ticket
from tickets.selectors import membership_of, queue_staff
from workspaces.models import Queue


def _update(tickets: list[Ticket], actor, **fields) -> None:
    """One UPDATE for every ticket, the version counted as one save each (as ``_bump_version``),
    and the reports' figures moved as the single services move them."""
    was = {ticket.pk: reports.snapshot(ticket) for ticket in tickets}
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        version=F("version") + 1, properties_changed_by=actor, **fields
    )
    for ticket in tickets:
        ticket.version += 1
        ticket.properties_changed_by = actor
        for name, value in fields.items():
            setattr(ticket, name, value)
    reports.tickets_changed(tickets, was=was, now=fields.get("updated_at"))


def set_status_many(*, tickets: list[Ticket], value: str, actor, request=None) -> dict[int, str]:
    """``services.ticket_set_status`` for each ticket (none of them closed: bulk skips those)."""
    now = timezone.now()
    old = {t.pk: t.status for t in tickets}
    closed_at = now if value == Status.CLOSED else None
    _update(tickets, actor, status=value, closed_at=closed_at, updated_at=now, public_updated_at=now)
    sla.tickets_changed(tickets=tickets, now=now, old_statuses=old)
    events.tickets_status_changed(
        changes=[(t, old[t.pk], value) for t in tickets], actor=actor, request=request
    )
    notifications.notify_status_changed_many(tickets=tickets, actor=actor)
    services._after_commit(realtime.broadcast_tickets, tickets)
    return {}


def set_priority_many(*, tickets: list[Ticket], value: str, actor, request=None) -> dict[int, str]:
    """``services.ticket_set_priority`` for each ticket."""
    now = timezone.now()
    old = {t.pk: t.priority for t in tickets}
    _update(tickets, actor, priority=value, updated_at=now)
    sla.tickets_changed(tickets=tickets, now=now, priority_changed=True)
    events.tickets_priority_changed(
        changes=[(t, old[t.pk], value) for t in tickets], actor=actor, request=request
    )
    services._after_commit(realtime.broadcast_tickets, tickets, public=False)
    return {}


def _staff_of_queues(queue_ids) -> dict[int, set[int]]:
    """{queue id: ids of the people who may be assigned its tickets}, one query per queue (a
    bulk touches few queues; ``queue_staff`` is the rule the single services use)."""
    return {
        queue.pk: set(queue_staff(queue=queue).values_list("pk", flat=True))
        for queue in Queue.objects.filter(pk__in=set(queue_ids))
    }


def assign_many(*, tickets: list[Ticket], value, actor, request=None) -> dict[int, str]:
    """``services.ticket_assign`` for each ticket: ``value`` is a user or None (unassign)."""
    refused: dict[int, str] = {}
    if value is not None:
        member = membership_of(workspace_id=tickets[0].workspace_id, user_id=value.pk) if tickets else None
        if member is not None and member.is_restricted:
            reason = services.PERSON_RESTRICTED.format(name=services._display(value))
            return {t.pk: f"#{t.number}: {reason}" for t in tickets}
        staff = _staff_of_queues(t.queue_id for t in tickets)
        for ticket in tickets:
            if value.pk not in staff.get(ticket.queue_id, ()):
                reason = services.ASSIGNEE_CANNOT_SEE_QUEUE.format(
                    name=services._display(value), queue=ticket.queue.name
                )
                refused[ticket.pk] = f"#{ticket.number}: {reason}"
    todo = [t for t in tickets if t.pk not in refused]
    if not todo:
        return refused
    old = {t.pk: t.assignee_id for t in todo}
    _update(todo, actor, assignee=value, updated_at=timezone.now())
    new_id = value.pk if value is not None else None
    events.tickets_assigned(changes=[(t, old[t.pk], new_id) for t in todo], actor=actor, request=request)
    if value is not None:
        notifications.notify_assigned_many(tickets=todo, actor=actor)
    services._after_commit(realtime.broadcast_tickets, todo, public=False)
    return refused


def move_queue_many(*, tickets: list[Ticket], value, actor, request=None) -> dict[int, str]:
    """``services.ticket_move_queue`` for each ticket: ``value`` is a queue of the workspace.
    Assignees who do not work it are unassigned (audited ``ticket.assigned``, reason
    ``queue_changed``)."""
    if not tickets:
        return {}
    staff = _staff_of_queues([value.pk])[value.pk]
    old_queue = {t.pk: t.queue_id for t in tickets}
    dropped = {
        t.pk: t.assignee_id for t in tickets if t.assignee_id is not None and t.assignee_id not in staff
    }
    now = timezone.now()
    keeping = [t for t in tickets if t.pk not in dropped]
    losing = [t for t in tickets if t.pk in dropped]
    if keeping:
        _update(keeping, actor, queue=value, updated_at=now)
    if losing:
        _update(losing, actor, queue=value, assignee=None, updated_at=now)
    # Event order per ticket as the single service writes it: the move, then the unassignment.
    events.tickets_queue_changed(
        changes=[(t, old_queue[t.pk], value.pk) for t in tickets], actor=actor, request=request
    )
    events.tickets_assigned(
        changes=[(t, dropped[t.pk], None) for t in losing],
        actor=actor,
        request=request,
        reason="queue_changed",
    )
    services._after_commit(realtime.broadcast_tickets, tickets, previous_queue_ids=old_queue, public=False)
    return {}
