"""Open the tickets a person asked for on a public Get help form, once their address is proven.

Connected to ``workspaces.signals.signup_confirmed`` (sent inside the confirmation's transaction),
so the confirmation, the requester membership and the tickets commit together or not at all.
"""

from tickets.services import ticket_create
from workspaces.intake import help_requests_release
from workspaces.models import Queue


def help_requests_open(sender=None, *, user, request=None, **kwargs) -> int:
    """One ticket per held request, in the workspace's first queue (by name), as the person.
    Audits what ``ticket_create`` audits; returns how many tickets were opened."""
    opened = 0
    for membership, held in help_requests_release(user=user, request=request):
        queue = Queue.objects.of_workspace(membership.workspace_id).order_by("name", "pk").first()
        if queue is None:
            # A workspace without queues cannot take tickets; the person is a requester all the
            # same and can open one when the admins add a queue.
            continue
        ticket_create(
            workspace=membership.workspace,
            queue=queue,
            requester=user,
            subject=held.subject,
            description=held.description,
            actor=user,
            request=request,
        )
        opened += 1
    return opened
