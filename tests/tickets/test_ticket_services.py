"""Ticket services: rules, audit events, timestamps, and side effects only after commit."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.factories import QueueFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply
from tickets import realtime, services
from tickets.models import Message, MessageKind, Priority, Status, Ticket, TicketParticipant
from workspaces.models import Role


def actions(workspace):
    return list(
        AuditEvent.objects.filter(workspace=workspace).order_by("seq").values_list("action", flat=True)
    )


def test_create_numbers_per_workspace_and_audits(workspace, other_workspace, queue, requester):
    first = new_ticket(requester, queue)
    second = new_ticket(requester, queue)
    foreign_requester = make_member(other_workspace, Role.REQUESTER)
    foreign = new_ticket(foreign_requester, QueueFactory(workspace=other_workspace))
    assert (first.number, second.number, foreign.number) == (1, 2, 1)
    assert first.status == Status.NEW and first.closed_at is None
    opening = first.messages.get()
    assert (opening.kind, opening.body, opening.author) == (MessageKind.REPLY, "It smokes.", requester.user)
    assert actions(workspace).count("ticket.created") == 2
    event = AuditEvent.objects.filter(action="ticket.created", target_id=str(first.pk)).get()
    assert event.detail["number"] == 1 and "It smokes." not in str(event.detail)


def test_create_refuses_a_queue_of_another_workspace_and_a_stranger_as_requester(
    workspace, other_workspace, requester, queue
):
    with pytest.raises(ValidationError) as error:
        new_ticket(requester, QueueFactory(workspace=other_workspace))
    assert error.value.message_dict["queue"] == [services.QUEUE_OF_OTHER_WORKSPACE]
    stranger = make_member(other_workspace, Role.REQUESTER)
    with pytest.raises(ValidationError) as error:
        services.ticket_create(
            workspace=workspace, queue=queue, requester=stranger.user, subject="x", description="y"
        )
    assert error.value.message_dict["requester"] == [services.REQUESTER_NOT_MEMBER]
    assert not Ticket.objects.exists()


def test_create_refuses_an_empty_description_and_leaves_nothing(workspace, queue, requester):
    with pytest.raises(ValidationError):
        new_ticket(requester, queue, description="")
    assert not Ticket.objects.exists()
    workspace.refresh_from_db()
    assert workspace.last_ticket_number == 0


def test_status_sets_and_clears_closed_at_and_bumps_updated_at(ticket, agent):
    before = ticket.updated_at
    closed = services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)
    assert closed.status == Status.CLOSED and closed.closed_at is not None
    assert closed.updated_at > before
    reopened = services.ticket_set_status(ticket=closed, status=Status.OPEN, actor=agent.user)
    assert reopened.closed_at is None
    event = AuditEvent.objects.filter(action="ticket.status_changed").order_by("seq").last()
    assert event.detail == {"number": ticket.number, "from": "closed", "to": "open"}
    with pytest.raises(ValidationError) as error:
        services.ticket_set_status(ticket=ticket, status="exploded", actor=agent.user)
    assert error.value.message_dict["status"] == [services.UNKNOWN_STATUS]


def test_setting_the_same_status_again_changes_and_audits_nothing(ticket, agent):
    count = AuditEvent.objects.count()
    services.ticket_set_status(ticket=ticket, status=Status.NEW, actor=agent.user)
    assert AuditEvent.objects.count() == count


def test_a_requester_reply_reopens_a_closed_ticket(ticket, requester, agent):
    services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=requester.user)
    reply(ticket, requester, body="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.closed_at is None
    event = AuditEvent.objects.filter(action="ticket.status_changed").order_by("seq").last()
    assert event.detail["reason"] == "reply" and event.detail["from"] == "closed"


def test_a_staff_reply_or_note_does_not_reopen(ticket, agent):
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent.user)
    reply(ticket, agent)
    note(ticket, agent)
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_only_staff_write_notes(ticket, requester, agent):
    with pytest.raises(ValidationError) as error:
        note(ticket, requester, body="sneaky")
    assert error.value.message_dict["kind"] == [services.NOTE_STAFF_ONLY]
    assert not Message.objects.filter(kind=MessageKind.NOTE).exists()
    posted = note(ticket, agent, body="fine")
    assert posted.is_note
    assert actions(ticket.workspace)[-1] == "note.created"


def test_posting_bumps_updated_at(ticket, agent):
    later = timezone.now() + timedelta(minutes=5)
    reply(ticket, agent, created_at=later)
    ticket.refresh_from_db()
    assert ticket.updated_at == later


def test_assign_only_to_staff_who_work_the_queue(workspace, ticket, agent, admin, other_queue):
    outsider_agent = agent_of(workspace, other_queue)
    with pytest.raises(ValidationError) as error:
        services.ticket_assign(ticket=ticket, assignee=outsider_agent.user, actor=admin.user)
    assert error.value.message_dict["assignee"] == [
        services.ASSIGNEE_CANNOT_SEE_QUEUE.format(name=outsider_agent.user, queue=ticket.queue.name)
    ]
    requester_member = make_member(workspace, Role.REQUESTER)
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=ticket, assignee=requester_member.user, actor=admin.user)
    assigned = services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    assert assigned.assignee == agent.user
    assert services.ticket_assign(ticket=ticket, assignee=admin.user, actor=admin.user).assignee == admin.user
    unassigned = services.ticket_assign(ticket=ticket, assignee=None, actor=admin.user)
    assert unassigned.assignee is None
    details = [e.detail for e in AuditEvent.objects.filter(action="ticket.assigned").order_by("seq")]
    assert [d["to"] for d in details] == [agent.user.pk, admin.user.pk, None]


def test_moving_to_a_queue_the_assignee_does_not_work_unassigns(ticket, agent, admin, other_queue):
    services.ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    moved = services.ticket_move_queue(ticket=ticket, queue=other_queue, actor=admin.user)
    assert moved.queue == other_queue and moved.assignee is None
    last_two = list(AuditEvent.objects.order_by("-seq").values_list("action", "detail")[:2])
    assert last_two[0][0] == "ticket.assigned" and last_two[0][1]["reason"] == "queue_changed"
    assert last_two[1][0] == "ticket.queue_changed"


def test_moving_to_a_queue_of_another_workspace_is_refused(ticket, admin, other_workspace):
    with pytest.raises(ValidationError) as error:
        services.ticket_move_queue(
            ticket=ticket, queue=QueueFactory(workspace=other_workspace), actor=admin.user
        )
    assert error.value.message_dict["queue"] == [services.QUEUE_OF_OTHER_WORKSPACE]


def test_priority_change_is_audited_and_sorted_by_rank(ticket, agent):
    changed = services.ticket_set_priority(ticket=ticket, priority=Priority.URGENT, actor=agent.user)
    assert changed.priority == Priority.URGENT
    assert Ticket.objects.values_list("priority_rank", flat=True).get(pk=ticket.pk) == 3
    assert AuditEvent.objects.filter(action="ticket.priority_changed").get().detail["to"] == "urgent"


def test_participants_are_members_and_come_and_go(workspace, other_workspace, ticket, requester, agent):
    colleague = make_member(workspace, Role.REQUESTER)
    services.participant_add(ticket=ticket, user=colleague.user, actor=agent.user)
    assert TicketParticipant.objects.filter(ticket=ticket, user=colleague.user).exists()
    with pytest.raises(ValidationError) as error:
        services.participant_add(ticket=ticket, user=colleague.user, actor=agent.user)
    assert error.value.message_dict["user"] == [services.PARTICIPANT_ALREADY.format(name=colleague.user)]
    with pytest.raises(ValidationError) as error:
        services.participant_add(ticket=ticket, user=requester.user, actor=agent.user)
    assert error.value.message_dict["user"] == [services.PARTICIPANT_IS_REQUESTER.format(name=requester.user)]
    stranger = make_member(other_workspace, Role.REQUESTER)
    with pytest.raises(ValidationError) as error:
        services.participant_add(ticket=ticket, user=stranger.user, actor=agent.user)
    assert error.value.message_dict["user"] == [services.PARTICIPANT_NOT_MEMBER]
    services.participant_remove(ticket=ticket, user=colleague.user, actor=agent.user)
    assert not TicketParticipant.objects.exists()
    with pytest.raises(ValidationError):
        services.participant_remove(ticket=ticket, user=colleague.user, actor=agent.user)
    assert actions(workspace)[-2:] == ["participant.added", "participant.removed"]


def test_message_edit_by_the_author_within_the_window(ticket, agent):
    posted = note(ticket, agent, body="Frist draft")
    edited = services.message_edit(message=posted, editor=agent.user, body="First draft")
    assert edited.body == "First draft" and edited.edited_at is not None
    assert edited.kind == MessageKind.NOTE
    event = AuditEvent.objects.filter(action="message.edited").get()
    assert event.detail == {"ticket": ticket.number, "kind": "note"}


def test_message_edit_refuses_others_and_late_edits(ticket, agent, admin):
    posted = reply(ticket, agent, body="Hello")
    with pytest.raises(ValidationError) as error:
        services.message_edit(message=posted, editor=admin.user, body="Hijacked")
    assert error.value.messages == [services.EDIT_NOT_AUTHOR]
    late = timezone.now() + timedelta(minutes=16)
    with pytest.raises(ValidationError) as error:
        services.message_edit(message=posted, editor=agent.user, body="Too late", now=late)
    assert error.value.messages == [services.EDIT_WINDOW_PASSED]
    posted.refresh_from_db()
    assert posted.body == "Hello" and posted.edited_at is None
    assert not AuditEvent.objects.filter(action="message.edited").exists()


def test_side_effects_run_only_after_commit(
    ticket, agent, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    seen = []
    monkeypatch.setattr(realtime, "broadcast_message", lambda message: seen.append(("message", message.pk)))
    monkeypatch.setattr(realtime, "broadcast_ticket", lambda t, **kw: seen.append(("ticket", t.pk)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        posted = reply(ticket, agent, body="Soon")
        services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent.user)
    assert seen == [] and mailoutbox == []  # nothing before commit
    # Each email is then recorded and handed to its own delivery task, after that commit too.
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert ("message", posted.pk) in seen and ("ticket", ticket.pk) in seen
    assert len(mailoutbox) == 2  # the reply and the status change, to the requester


def test_a_failed_change_announces_nothing(ticket, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ValidationError):
            services.ticket_assign(
                ticket=ticket, assignee=make_member(ticket.workspace, Role.REQUESTER).user, actor=agent.user
            )
    assert callbacks == []


def test_a_failing_broadcast_never_breaks_the_saved_change(
    ticket, agent, monkeypatch, django_capture_on_commit_callbacks, mailoutbox, caplog
):
    def explode(*args, **kwargs):
        raise ConnectionError("channel layer down")

    monkeypatch.setattr(realtime, "broadcast_message", explode)
    with django_capture_on_commit_callbacks(execute=True):
        posted = reply(ticket, agent, body="Still saved")
    assert Message.objects.filter(pk=posted.pk).exists()
    assert len(mailoutbox) == 1  # the email callback still ran
    assert "Error calling after_commit:" in caplog.text  # logged, not raised
