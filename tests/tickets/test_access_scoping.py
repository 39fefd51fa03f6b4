"""tickets.access beyond the ticket page: lookups by id, attachments and participants keep to the
member's workspace and visibility, and answer the one 404."""

import pytest
from django.http import Http404

from tests.conftest import make_member
from tests.factories import ParticipantFactory, QueueFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply
from tickets import access
from tickets.models import Attachment
from workspaces.access import NOT_FOUND
from workspaces.models import Role


def _404(call, *args):
    with pytest.raises(Http404) as error:
        call(*args)
    assert str(error.value) == NOT_FOUND


def _file(ticket, message=None):
    return Attachment.objects.create(
        workspace=ticket.workspace,
        ticket=ticket,
        message=message,
        file=f"attachments/{ticket.workspace_id}/test",
        original_name="a.pdf",
        content_type="application/pdf",
        size=3,
    )


def test_lookups_by_id_keep_to_the_workspace(workspace, other_workspace, ticket, admin, agent, requester):
    foreign_admin = make_member(other_workspace, Role.ADMIN)
    hidden = note(ticket, agent)
    shown = reply(ticket, agent)
    assert access.find_visible_ticket(admin, ticket.pk) == ticket
    assert access.can_see_ticket(requester, ticket.pk)
    assert access.find_visible_ticket(foreign_admin, ticket.pk) is None
    assert not access.can_see_ticket(foreign_admin, ticket.pk)
    assert access.find_visible_message(requester, shown.pk) == shown
    assert access.find_visible_message(requester, hidden.pk) is None
    assert access.find_visible_message(foreign_admin, shown.pk) is None
    assert ticket not in access.visible_tickets(foreign_admin)
    assert not access.visible_messages(foreign_admin).exists()


def test_attachments_follow_ticket_and_message_visibility(
    workspace, other_workspace, ticket, agent, requester
):
    foreign_admin = make_member(other_workspace, Role.ADMIN)
    on_ticket = _file(ticket)
    on_note = _file(ticket, note(ticket, agent))
    assert access.get_attachment_or_404(agent, ticket.number, on_note.pk) == on_note
    assert access.get_attachment_or_404(requester, ticket.number, on_ticket.pk) == on_ticket
    _404(access.get_attachment_or_404, requester, ticket.number, on_note.pk)
    _404(access.get_attachment_or_404, foreign_admin, ticket.number, on_ticket.pk)
    other_agent = agent_of(workspace, QueueFactory(workspace=workspace))
    _404(access.get_attachment_or_404, other_agent, ticket.number, on_ticket.pk)
    assert set(access.visible_attachments(requester)) == {on_ticket}


def test_participants_of_another_ticket_answer_404(workspace, ticket, requester, queue):
    colleague = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=ticket, user=colleague.user)
    elsewhere = new_ticket(requester, queue)
    stranger = make_member(workspace, Role.REQUESTER)
    ParticipantFactory(ticket=elsewhere, user=stranger.user)
    assert [p.user for p in access.visible_participants(ticket)] == [colleague.user]
    assert access.get_participant_or_404(ticket, colleague.user_id).user == colleague.user
    _404(access.get_participant_or_404, ticket, stranger.user_id)
