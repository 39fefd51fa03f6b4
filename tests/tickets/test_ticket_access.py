"""tickets.access: one 404 for missing, foreign and forbidden; the permission helpers per role."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from tests.conftest import make_member
from tests.factories import ParticipantFactory, QueueFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply
from tickets import access
from tickets.models import Status
from workspaces.access import NOT_FOUND
from workspaces.models import Role


def test_access_ticket_returns_visible_tickets(ticket, admin, agent, requester):
    for membership in (admin, agent, requester):
        assert access.get_ticket_or_404(membership=membership, number=ticket.number) == ticket


def test_missing_foreign_and_forbidden_answer_the_same_404(workspace, other_workspace, ticket, other_queue):
    foreign_admin = make_member(other_workspace, Role.ADMIN)
    new_ticket(make_member(other_workspace, Role.REQUESTER), QueueFactory(workspace=other_workspace))
    cases = [
        (make_member(workspace, Role.ADMIN), 999),  # missing
        (foreign_admin, ticket.number),  # number 1 exists in both: theirs is found, never ours
        (agent_of(workspace, other_queue), ticket.number),  # another queue
        (make_member(workspace, Role.REQUESTER), ticket.number),  # someone else's ticket
    ]
    for membership, number in cases:
        if membership is foreign_admin:
            assert access.get_ticket_or_404(membership=membership, number=number).workspace == other_workspace
            continue
        with pytest.raises(Http404) as error:
            access.get_ticket_or_404(membership=membership, number=number)
        assert str(error.value) == NOT_FOUND


def test_participants_reach_the_ticket(workspace, ticket):
    colleague = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=colleague.user)
    assert access.get_ticket_or_404(membership=colleague, number=ticket.number) == ticket


def test_access_message_hides_notes_from_requesters(ticket, agent, requester):
    hidden = note(ticket, agent)
    shown = reply(ticket, agent)
    assert access.get_message_or_404(membership=requester, ticket=ticket, message_id=shown.pk) == shown
    with pytest.raises(Http404):
        access.get_message_or_404(membership=requester, ticket=ticket, message_id=hidden.pk)
    assert access.get_message_or_404(membership=agent, ticket=ticket, message_id=hidden.pk) == hidden


def test_permission_helpers_per_role(workspace, ticket, admin, agent, requester):
    participant = make_member(workspace, Role.REQUESTER)
    for staff in (admin, agent):
        assert access.can_post_note(staff) and access.can_assign(staff) and access.can_move_queue(staff)
        assert access.can_change_priority(staff) and access.can_manage_participants(staff)
        assert access.can_change_status(staff, ticket, Status.PENDING)
    for person in (requester, participant):
        assert not access.can_post_note(person)
        assert not access.can_assign(person) and not access.can_change_priority(person)
        assert not access.can_change_status(person, ticket, Status.SOLVED)
    assert access.can_close(requester, ticket)
    assert not access.can_close(participant, ticket)
    ticket.status = Status.CLOSED
    assert not access.can_close(requester, ticket)


def test_edit_window_and_authorship(ticket, agent, admin, requester):
    message = reply(ticket, agent)
    assert access.can_edit_message(agent, message)
    assert not access.can_edit_message(admin, message)
    later = message.created_at + access.MESSAGE_EDIT_WINDOW + timedelta(seconds=1)
    assert not access.can_edit_message(agent, message, now=later)
    assert access.MESSAGE_EDIT_WINDOW == timedelta(minutes=15)
    own_note = note(ticket, agent)
    agent.role = Role.REQUESTER  # demoted: their notes are out of reach
    assert not access.can_edit_message(agent, own_note, now=timezone.now())


def test_ticket_views_never_query_models_directly():
    """Views reach tickets and messages only through tickets.access and tickets.selectors."""
    from pathlib import Path

    import tickets.views

    source = Path(tickets.views.__file__).read_text()
    assert ".objects" not in source
    assert "access.get_ticket_or_404(" in source
