"""Open the tickets a person asked for on a public Get help form, once their address is proven.

Connected to ``workspaces.signals.signup_confirmed`` (sent inside the confirmation's transaction),
so the confirmation, the requester membership and the tickets commit together or not at all.
"""

import logging

from django.core.exceptions import ValidationError

from tickets.services import ticket_create
from workspaces.intake import help_requests_release
from workspaces.models import Queue

logger = logging.getLogger(__name__)


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
        try:
            # ticket_create is atomic: a refused request rolls back to its savepoint only, so
            # the confirmation itself never fails because of what was typed on the form.
            ticket_create(
                workspace=membership.workspace,
                queue=queue,
                requester=user,
                subject=held.subject,
                description=held.description,
                actor=user,
                request=request,
            )
        except ValidationError:
            # Never the words: only which held request could not become a ticket.
            logger.warning("Held help request %s could not be opened as a ticket", held.pk)
            continue
        opened += 1
    return opened
