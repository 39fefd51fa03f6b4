"""Writes on tickets and messages. Each service audits what it did in the same transaction."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from privacy.audit import audit_record
from tickets.models import Message, MessageKind, Priority, Status, Ticket
from workspaces.models import Queue, Workspace


def _next_ticket_number(workspace: Workspace) -> int:
    # The UPDATE takes a row lock on the workspace, so concurrent creates get distinct numbers.
    Workspace.objects.filter(pk=workspace.pk).update(last_ticket_number=F("last_ticket_number") + 1)
    return Workspace.objects.values_list("last_ticket_number", flat=True).get(pk=workspace.pk)


@transaction.atomic
def ticket_create(
    *,
    workspace: Workspace,
    queue: Queue,
    requester,
    subject: str,
    description: str,
    priority: str = Priority.NORMAL,
    actor=None,
    request=None,
    created_at=None,
) -> Ticket:
    assert queue.workspace_id == workspace.pk
    now = created_at or timezone.now()
    ticket = Ticket(
        workspace=workspace,
        number=_next_ticket_number(workspace),
        subject=subject,
        queue=queue,
        requester=requester,
        priority=priority,
        status=Status.NEW,
        created_at=now,
        updated_at=now,
    )
    ticket.full_clean()
    ticket.save()
    Message.objects.create(
        workspace=workspace,
        ticket=ticket,
        author=requester,
        kind=MessageKind.REPLY,
        body=description,
        created_at=now,
    )
    audit_record(
        action="ticket.created",
        request=request,
        actor=actor or requester,
        workspace=workspace,
        target=ticket,
        detail={"number": ticket.number, "queue_id": queue.pk},
    )
    return ticket


@transaction.atomic
def message_post(*, ticket: Ticket, author, kind: str, body: str, request=None, created_at=None) -> Message:
    now = created_at or timezone.now()
    message = Message(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        author=author,
        kind=kind,
        body=body,
        created_at=now,
    )
    message.full_clean()
    message.save()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    audit_record(
        action="note.created" if kind == MessageKind.NOTE else "reply.created",
        request=request,
        actor=author,
        workspace=ticket.workspace,
        target=message,
        detail={"ticket": ticket.number},
    )
    return message
