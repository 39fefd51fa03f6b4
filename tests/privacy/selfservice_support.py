"""Helpers for the account self-service tests (issue 6)."""

import io
import json
import zipfile

import pytest
from django.core.cache import cache

from tests.factories import MembershipFactory, MessageFactory, TicketFactory, UserFactory
from tickets.models import MessageKind
from workspaces.models import Role


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    cache.clear()
    yield
    cache.clear()


def read_zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def export_data(data: bytes) -> dict:
    with read_zip(data) as archive:
        return json.loads(archive.read("data.json"))


def response_bytes(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def person_with_tickets(workspace, queue, *, agent_membership=None, **user_kwargs):
    """A requester with one ticket holding a public reply by an agent and an internal note."""
    membership = MembershipFactory(workspace=workspace, role=Role.REQUESTER, user=UserFactory(**user_kwargs))
    user = membership.user
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=user, subject="Printer on fire")
    MessageFactory(ticket=ticket, author=user, body="My printer is on fire, please help.")
    agent_user = agent_membership.user if agent_membership else UserFactory()
    MessageFactory(ticket=ticket, author=agent_user, body="Unplug it, we are on our way.")
    MessageFactory(
        ticket=ticket, author=agent_user, kind=MessageKind.NOTE, body="SECRET-NOTE customer sounds upset"
    )
    return membership, ticket
