"""Service levels on tickets (tickets/sla.py): due times, pauses, breaches, attainment."""

from datetime import UTC, datetime, timedelta

import pytest

from privacy.account.models import QueuedNotification
from privacy.account.profile import preferences_update
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.tickets import sla_support
from tests.tickets.sla_support import policy_for
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply
from tickets import services, sla, sla_state
from tickets.models import Priority, SlaPolicy, Status, Ticket

HOUR = timedelta(hours=1)
clock = sla_support.clock


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def test_without_a_policy_a_ticket_has_no_due_times(requester, queue):
    ticket = fresh(new_ticket(requester, queue))
    assert ticket.first_response_due_at is None and ticket.resolution_due_at is None
    assert ticket.sla_due_at is None


def test_a_new_ticket_gets_its_targets_and_the_first_response_runs(workspace, requester, queue, clock):
    policy_for(workspace)
    ticket = fresh(new_ticket(requester, queue))
    assert ticket.first_response_due_at == clock.now + HOUR
    assert ticket.resolution_due_at == clock.now + 8 * HOUR
    assert ticket.sla_due_at == ticket.first_response_due_at
    assert ticket.sla_warn_at == clock.now + timedelta(minutes=45)  # a quarter of the hour left


def test_business_hours_of_the_policy_are_used(workspace, requester, queue, clock):
    # Opened outside the office's hours: the hour counts from the next opening.
    policy_for(workspace, weekly_hours=[None] * 7, time_zone="Europe/Berlin")
    SlaPolicy.objects.filter(workspace=workspace).update(weekly_hours=[[9 * 60, 10 * 60]] * 7)
    clock.now = datetime(2030, 1, 15, 6, 0, tzinfo=UTC)  # 07:00 in Berlin, before opening
    ticket = fresh(new_ticket(requester, queue))
    local = ticket.first_response_due_at.astimezone(sla.zone_of(SlaPolicy.objects.get()))
    assert (local.hour, local.minute) == (10, 0)


def test_a_priority_without_a_target_has_none(workspace, requester, queue):
    policy_for(workspace)
    ticket = fresh(new_ticket(requester, queue, priority=Priority.LOW))
    assert ticket.sla_due_at is None and ticket.first_response_due_at is None


def test_the_first_public_staff_reply_meets_the_first_response(workspace, requester, agent, queue, clock):
    policy_for(workspace)
    ticket = new_ticket(requester, queue)
    clock.advance(minutes=10)
    note(ticket, agent)  # a note is no response
    reply(ticket, requester, body="More details")  # nor is the requester's own reply
    assert fresh(ticket).first_responded_at is None
    clock.advance(minutes=10)
    reply(ticket, agent)
    ticket = fresh(ticket)
    assert ticket.first_responded_at == clock.now
    assert ticket.sla_due_at == ticket.resolution_due_at  # the resolution target runs now
    [first, resolution] = sla_state.targets(ticket, now=clock.now)
    assert (first.state, resolution.state) == (sla_state.MET, sla_state.ON_TRACK)


def test_time_in_pending_does_not_count(workspace, requester, agent, queue, clock):
    policy_for(workspace)
    ticket = new_ticket(requester, queue)
    reply(ticket, agent, then_status=Status.PENDING)  # answered, now waiting for the customer
    due_before = fresh(ticket).resolution_due_at
    assert fresh(ticket).sla_due_at is None  # paused: nothing due, not in the due order
    clock.advance(hours=30)
    reply(ticket, requester, body="Here it is")  # back to open
    ticket = fresh(ticket)
    assert ticket.status == Status.OPEN
    assert ticket.resolution_due_at == due_before + 30 * HOUR
    assert ticket.sla_due_at == ticket.resolution_due_at


def test_solving_meets_the_resolution_and_reopening_runs_it_again(workspace, requester, agent, queue, clock):
    policy_for(workspace)
    ticket = new_ticket(requester, queue)
    clock.advance(hours=2)
    reply(ticket, agent, then_status=Status.SOLVED)
    solved = fresh(ticket)
    assert solved.sla_resolved_at == clock.now and solved.sla_due_at is None
    clock.advance(hours=24)
    reply(ticket, requester, body="Still broken")
    reopened = fresh(ticket)
    assert reopened.sla_resolved_at is None
    # Eight hours from opening, plus the day it spent solved.
    assert reopened.resolution_due_at == solved.resolution_due_at + 24 * HOUR


def test_a_priority_change_moves_the_due_times(workspace, requester, agent, queue, clock):
    policy_for(workspace)
    ticket = new_ticket(requester, queue)
    services.ticket_set_priority(ticket=ticket, priority=Priority.URGENT, actor=agent.user)
    ticket = fresh(ticket)
    assert ticket.first_response_due_at == ticket.created_at + timedelta(minutes=15)
    assert ticket.sla_due_at == ticket.first_response_due_at


def test_a_status_set_by_the_properties_form_pauses_too(workspace, requester, agent, queue, clock):
    policy_for(workspace)
    ticket = new_ticket(requester, queue)
    services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent.user)
    assert fresh(ticket).sla_paused_at == clock.now
    clock.advance(hours=3)
    services.ticket_set_status(ticket=ticket, status=Status.OPEN, actor=agent.user)
    ticket = fresh(ticket)
    assert ticket.sla_paused_at is None and ticket.sla_paused_seconds == 3 * 3600
    assert ticket.first_response_due_at == ticket.created_at + 4 * HOUR


# Breaches -----------------------------------------------------------------------------------------


def test_a_breach_is_recorded_audited_and_emailed_to_the_assignee_once(
    workspace, requester, agent, queue, clock, after_commit, mailoutbox
):
    policy_for(workspace)
    ticket = new_ticket(requester, queue, subject="Server down")
    services.ticket_assign(ticket=ticket, assignee=agent.user, actor=None)
    mailoutbox.clear()
    assert sla.breaches_detect() == 0
    clock.advance(minutes=61)
    with after_commit():
        assert sla.breaches_detect() == 1
    assert sla.breaches_detect() == 0  # never twice
    ticket = fresh(ticket)
    assert ticket.first_response_breached_at == clock.now
    [email] = mailoutbox
    assert email.to == [agent.user.email]
    assert "Server down" in email.subject and "Service level missed" in email.subject
    assert "First response" in email.body and "Breached" in email.body
    event = AuditEvent.objects.get(action="sla.breached")
    assert event.detail["number"] == ticket.number and event.detail["target"] == "first_response"


def test_an_unassigned_breach_goes_to_the_queues_agents_never_to_the_requester(
    workspace, requester, agent, admin, queue, other_queue, clock, after_commit, mailoutbox
):
    second = agent_of(workspace, queue)
    agent_of(workspace, other_queue)  # another queue: not told
    policy_for(workspace)
    new_ticket(requester, queue)
    mailoutbox.clear()
    clock.advance(hours=2)
    with after_commit():
        sla.breaches_detect()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([agent.user.email, second.user.email])


def test_a_person_who_chose_the_hourly_digest_gets_the_breach_in_it(
    workspace, requester, agent, queue, clock, after_commit, mailoutbox
):
    preferences_update(user=agent.user, values={"email_delivery": "hourly"})
    policy_for(workspace)
    new_ticket(requester, queue)
    mailoutbox.clear()
    clock.advance(hours=2)
    with after_commit():
        sla.breaches_detect()
    assert mailoutbox == []
    assert QueuedNotification.objects.filter(
        user=agent.user, subject__contains="Service level missed"
    ).exists()


def test_after_the_first_response_breach_the_resolution_can_breach_too(
    workspace, requester, agent, queue, clock, after_commit, mailoutbox
):
    policy_for(workspace)
    ticket = new_ticket(requester, queue)
    clock.advance(hours=2)
    sla.breaches_detect()
    reply(ticket, agent)  # late answer
    assert sla_state.targets(fresh(ticket), now=clock.now)[0].state == sla_state.MISSED
    clock.advance(hours=7)
    assert sla.breaches_detect() == 1
    assert fresh(ticket).resolution_breached_at == clock.now


def test_a_paused_ticket_never_breaches(workspace, requester, agent, queue, clock):
    policy_for(workspace)
    ticket = new_ticket(requester, queue)
    services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=agent.user)
    clock.advance(days=3)
    assert sla.breaches_detect() == 0


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_record_and_email_each_breach_once(workspace, requester, agent, queue, mailoutbox):
    policy_for(workspace)
    tickets = [new_ticket(requester, queue, subject=f"T{i}") for i in range(6)]
    past = tickets[0].created_at - HOUR
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(sla_due_at=past, sla_breach_check_at=past)
    mailoutbox.clear()
    found = []
    run_threads(2, lambda i: found.append(sla.breaches_detect(batch=2)))
    assert sum(found) == 6
    assert AuditEvent.objects.filter(action="sla.breached").count() == 6
    assert len(mailoutbox) == 6


# Applying a policy ----------------------------------------------------------------------------------


def test_saving_a_policy_applies_it_to_open_tickets_in_batches_without_emails(
    workspace, admin, requester, agent, queue, clock, after_commit, mailoutbox
):
    old = new_ticket(requester, queue, subject="Old", created_at=clock.now - timedelta(days=3))
    answered = new_ticket(requester, queue, subject="Answered")
    reply(answered, agent)
    solved = new_ticket(requester, queue, subject="Solved")
    services.ticket_set_status(ticket=solved, status=Status.SOLVED, actor=agent.user)
    waiting = new_ticket(requester, queue, subject="Waiting")
    services.ticket_set_status(ticket=waiting, status=Status.PENDING, actor=agent.user)
    mailoutbox.clear()
    values = {name: None for name in sla.POLICY_FIELDS}
    values.update(
        is_active=True,
        time_zone="UTC",
        normal_first_response=60,
        normal_resolution=480,
        weekly_hours=[[0, 1440]] * 7,
        holidays=[],
    )
    with after_commit():
        _policy, changed = sla.policy_save(workspace=workspace, values=values, actor=admin.user)
    assert "normal_first_response" in changed
    old = fresh(old)
    assert old.first_response_breached_at is not None  # breached long ago: marked ...
    assert old.sla_breach_check_at is None
    assert mailoutbox == []  # ... but nobody is flooded with emails about it
    assert fresh(answered).first_responded_at is not None  # the earlier staff reply counts
    assert fresh(answered).sla_due_at == fresh(answered).resolution_due_at
    assert fresh(solved).sla_due_at is None and fresh(solved).resolution_due_at is None
    assert fresh(waiting).sla_paused_at == clock.now
    assert AuditEvent.objects.filter(action="sla.policy_changed").count() == 1
    # Saving the same values again changes nothing and writes nothing.
    assert sla.policy_save(workspace=workspace, values=values, actor=admin.user)[1] == []


def test_apply_works_in_batches_and_turning_off_clears_due_times(workspace, requester, queue):
    tickets = [new_ticket(requester, queue, subject=f"T{i}") for i in range(5)]
    policy_for(workspace)
    assert sla.policy_apply(workspace_id=workspace.pk, batch=2) == 5
    assert all(fresh(t).sla_due_at is not None for t in tickets)
    SlaPolicy.objects.update(is_active=False)
    sla.policy_apply(workspace_id=workspace.pk, batch=2)
    assert all(fresh(t).sla_due_at is None and fresh(t).first_response_due_at is None for t in tickets)


def test_apply_never_touches_another_workspace(workspace, other_workspace, requester, queue):
    from tests.factories import TicketFactory

    foreign = TicketFactory(workspace=other_workspace)
    policy_for(workspace)
    sla.policy_apply(workspace_id=workspace.pk)
    assert fresh(foreign).sla_due_at is None


# Attainment -----------------------------------------------------------------------------------------


def test_attainment_counts_decided_targets_in_the_period(
    workspace, other_queue, requester, agent, queue, clock
):
    policy_for(workspace)
    start = clock.now
    on_time = new_ticket(requester, queue, subject="on time")
    late = new_ticket(requester, queue, subject="late")
    running = new_ticket(requester, queue, subject="still running", priority=Priority.URGENT)
    billing = new_ticket(requester, other_queue, subject="other queue")
    clock.advance(minutes=30)
    reply(on_time, agent, then_status=Status.SOLVED)
    clock.advance(minutes=60)
    reply(late, agent)
    reply(running, agent)  # urgent, answered late (15 minutes target)
    clock.advance(minutes=1)
    figures = sla.attainment(workspace, start, start + 2 * HOUR)
    # First response: on_time met; late, running (urgent) and billing (unanswered, past) missed.
    assert figures["first_response"] == {"met": 1, "total": 4}
    # Resolution: on_time met (solved in 30 min); the others' targets are still running.
    assert sla.attainment(workspace, start, start + 9 * HOUR)["resolution"] == {"met": 1, "total": 1}
    assert sla.attainment(workspace, start, start + 2 * HOUR, queue_ids=[queue.pk])["first_response"] == {
        "met": 1,
        "total": 3,
    }
    assert sla.attainment(workspace, start + 3 * HOUR, start + 4 * HOUR)["first_response"] == {
        "met": 0,
        "total": 0,
    }
    assert billing.workspace_id == workspace.pk


def test_attainment_never_counts_another_workspace(workspace, other_workspace, requester, queue, clock):
    from tests.conftest import make_member
    from tests.factories import QueueFactory
    from workspaces.models import Role

    policy_for(other_workspace)
    foreign_requester = make_member(other_workspace, Role.REQUESTER)
    new_ticket(foreign_requester, QueueFactory(workspace=other_workspace))
    clock.advance(hours=2)
    figures = sla.attainment(workspace, clock.now - 3 * HOUR, clock.now)
    assert figures["first_response"] == {"met": 0, "total": 0}


def test_the_command_and_the_beat_entry_run_the_same_scan(workspace, requester, queue, clock, settings):
    from io import StringIO

    from django.core.management import call_command

    policy_for(workspace)
    new_ticket(requester, queue)
    clock.advance(hours=2)
    out = StringIO()
    call_command("detect_sla_breaches", stdout=out)
    assert "Recorded 1 breach(es)." in out.getvalue()
    assert settings.CELERY_BEAT_SCHEDULE["sla-breaches"]["task"] == sla.breaches_detect_task.name


def test_holidays_of_the_policy_stop_the_clock(workspace, requester, queue, clock):
    clock.now = datetime(2030, 12, 24, 12, 0, tzinfo=UTC)
    policy_for(workspace, holidays=["2030-12-25", "2030-12-26"])
    ticket = fresh(new_ticket(requester, queue, subject="Christmas Eve", priority=Priority.NORMAL))
    # Eight hours from 12:00 on the 24th leave four for after the closed 25th and 26th.
    assert ticket.first_response_due_at == datetime(2030, 12, 24, 13, 0, tzinfo=UTC)
    services.ticket_set_priority(ticket=ticket, priority=Priority.URGENT, actor=None)
    SlaPolicy.objects.update(normal_resolution=16 * 60)
    services.ticket_set_priority(ticket=ticket, priority=Priority.NORMAL, actor=None)
    assert fresh(ticket).resolution_due_at == datetime(2030, 12, 27, 4, 0, tzinfo=UTC)
    services.ticket_set_priority(ticket=ticket, priority=Priority.LOW, actor=None)
    assert fresh(ticket).sla_due_at is None  # no target for low tickets: nothing due


def test_the_breach_email_is_in_the_recipients_language_and_time_zone(
    workspace, requester, agent, queue, clock, after_commit, mailoutbox
):
    agent.user.language, agent.user.time_zone = "de", "Asia/Tokyo"
    agent.user.save()
    clock.now = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
    policy_for(workspace)
    new_ticket(requester, queue, subject="Drucker kaputt")
    mailoutbox.clear()
    clock.advance(hours=2)
    with after_commit():
        sla.breaches_detect()
    [email] = mailoutbox
    assert email.subject.startswith("[#1] Service-Level verfehlt")
    # Due at 11:00 UTC, which is 20:00 in Tokyo.
    assert "Erste Antwort: fällig 4 Mär 2030 20:00 (Überfällig)" in email.body
