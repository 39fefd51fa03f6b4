"""Builders for the retention tests (issue 7): tickets closed long ago, with messages, files,
participants and audit events, all at chosen moments of a frozen clock."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from privacy.audit.log import audit_record
from privacy.retention.policies import policy_for
from privacy.retention.sweep import retention_sweep
from tests.factories import MembershipFactory, MessageFactory, ParticipantFactory, TicketFactory, UserFactory
from tickets.models import Attachment, Message, MessageKind, Status, Ticket
from workspaces.models import Role

NOW = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
FILE_BYTES = b"%PDF-1.4 retention test file"


def days_ago(days: float, now=NOW):
    return now - timedelta(days=days)


def requester_in(workspace, *, last_login_days=1, **user_kwargs):
    user = UserFactory(**user_kwargs)
    user.last_login = days_ago(last_login_days) if last_login_days is not None else None
    user.date_joined = days_ago(4000)
    user.save(update_fields=["last_login", "date_joined"])
    return MembershipFactory(workspace=workspace, role=Role.REQUESTER, user=user)


def attach(ticket, *, uploader, message=None, days=0, content=FILE_BYTES):
    name = default_storage.save(
        f"attachments/{ticket.workspace_id}/test-{ticket.pk}-{message.pk if message else 0}",
        ContentFile(content),
    )
    return Attachment.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        message=message,
        uploaded_by=uploader,
        file=name,
        original_name=f"scan of {uploader.display_name}.pdf",
        content_type="application/pdf",
        size=len(content),
        created_at=days_ago(days),
    )


def closed_ticket(workspace, queue, *, requester, agent=None, closed_days=800, participant=None, files=True):
    """A closed ticket: a reply by the requester (with a file), a reply and a note by the agent."""
    ticket = TicketFactory(
        workspace=workspace,
        queue=queue,
        requester=requester,
        subject=f"Problem of {requester.display_name} <{requester.email}>",
        status=Status.CLOSED,
        created_at=days_ago(closed_days + 5),
        updated_at=days_ago(closed_days),
        closed_at=days_ago(closed_days),
    )
    agent = agent or UserFactory()
    first = MessageFactory(
        ticket=ticket, author=requester, body=f"Hello, I am {requester.display_name}, {requester.email}",
        created_at=days_ago(closed_days + 5),
    )  # fmt: skip
    MessageFactory(ticket=ticket, author=agent, body="We are on it.", created_at=days_ago(closed_days + 4))
    MessageFactory(
        ticket=ticket, author=agent, kind=MessageKind.NOTE, body=f"Note about {requester.display_name}",
        created_at=days_ago(closed_days + 4),
    )  # fmt: skip
    if participant is not None:
        ParticipantFactory(ticket=ticket, user=participant)
        MessageFactory(ticket=ticket, author=participant, body=f"Me too, {participant.email}")
    if files:
        attach(ticket, uploader=requester, message=first, days=closed_days + 5)
    return ticket


def ticket_event(ticket, actor, *, ip="198.51.100.23", agent="RetentionBrowser/2.0"):
    from django.test import RequestFactory

    request = RequestFactory().post("/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    request.user = actor
    return audit_record(
        action="ticket.status_changed", request=request, workspace=ticket.workspace, target=ticket, detail={}
    )


def row(obj) -> dict:
    """Every column of a row, as stored."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def rows(queryset) -> dict:
    return {obj.pk: row(obj) for obj in queryset.order_by("pk")}


def snapshot(workspace_id) -> dict:
    """Every ticket, message, participant and attachment row of a workspace (byte-for-byte)."""
    from tickets.models import TicketParticipant

    return {
        "tickets": rows(Ticket.objects.filter(workspace_id=workspace_id)),
        "messages": rows(Message.objects.filter(workspace_id=workspace_id)),
        "participants": rows(TicketParticipant.objects.filter(workspace_id=workspace_id)),
        "attachments": rows(Attachment.objects.filter(workspace_id=workspace_id)),
    }


def file_exists(name: str) -> bool:
    return default_storage.exists(name)


# Fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def frozen(clock):
    clock.now = NOW
    return clock


@pytest.fixture
def active_requester(workspace):
    """A requester who signed in yesterday (the inactive-account rule leaves them alone)."""
    return requester_in(workspace, last_login_days=1)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The sweep with its after-commit storage deletes run (the test's transaction never commits)."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return retention_sweep(**{"now": NOW, **kwargs})

    return run


def set_policy(workspace, **values):
    policy = policy_for(workspace, create=True)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()
    return policy


def closed_tickets_with_pseudonyms(workspace, queue, count: int, *, tag: str):
    """``count`` closed tickets, each with its own requester and participant (pseudonyms already
    made) and its creation event: a batch whose statements can be counted."""
    from privacy.personal_data.pseudonyms import pseudonym_for
    from tests.factories import UserFactory

    agent = UserFactory()
    tickets = []
    for number in range(count):
        requester = requester_in(workspace, display_name=f"Requester {tag}{number}").user
        participant = UserFactory(display_name=f"Colleague {tag}{number}")
        ticket = closed_ticket(workspace, queue, requester=requester, agent=agent, participant=participant)
        ticket_event(ticket, requester)
        # Existing pseudonyms: the statements to create missing ones depend on code collisions.
        pseudonym_for(requester)
        pseudonym_for(participant)
        tickets.append(ticket)
    return tickets
