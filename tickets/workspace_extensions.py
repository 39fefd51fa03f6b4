"""What tickets adds to the workspaces app below it, connected in ``TicketsConfig.ready()``.

workspaces never imports tickets: it sends ``member_leaving`` and asks its registered queue
figures, and these functions answer for the tickets of that workspace.
"""

from django.db.models import Count

from tickets.models import Status, Ticket, TicketParticipant


def participations_remove(sender, *, workspace_id: int, user_id: int, **kwargs) -> dict[str, int]:
    """A person leaving a workspace stops taking part in its tickets (the tickets stay)."""
    removed, _ = TicketParticipant.objects.filter(workspace_id=workspace_id, user_id=user_id).delete()
    return {"participations_removed": removed}


def open_tickets_of_queue(queue_ref):
    """The number of open (not solved or closed) tickets of one queue, as a subquery."""
    return (
        Ticket.objects.filter(queue=queue_ref)
        .exclude(status__in=[Status.SOLVED, Status.CLOSED])
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
