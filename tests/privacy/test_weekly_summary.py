"""The weekly summary (issue #17): only to people who opted in, once per ISO week, saying what
concerns them (staff: their queues; requesters: their own open tickets)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from privacy.account import weekly_summary
from privacy.account.models import NotificationPreferences
from privacy.account.profile import preferences_update
from tests.concurrency import run_threads
from tests.conftest import make_member
from tests.tickets.ticket_helpers import agent_of, new_ticket
from tickets import services
from tickets.models import Status
from workspaces.models import Role

MONDAY = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def opt_in(*memberships):
    for membership in memberships:
        preferences_update(user=membership.user, values={"email_weekly_summary": True})


def to(outbox):
    return sorted(address for message in outbox for address in message.to)


def test_only_people_who_opted_in_get_it(workspace, queue, admin, agent, requester, mailoutbox):
    new_ticket(requester, queue)
    opt_in(agent, requester)
    assert weekly_summary.send_weekly_summaries(now=MONDAY) == 2
    assert to(mailoutbox) == sorted([agent.user.email, requester.user.email])
    assert all(len(m.to) == 1 for m in mailoutbox)
    assert all("Your weekly helpdesk summary (2026-W49)" == m.subject for m in mailoutbox)


def test_a_rerun_in_the_same_week_sends_nothing_and_next_week_sends_again(
    workspace, queue, agent, mailoutbox
):
    opt_in(agent)
    out = StringIO()
    call_command("send_weekly_summaries", stdout=out)
    assert "Sent 1 weekly summary email(s)." in out.getvalue()
    assert weekly_summary.send_weekly_summaries() == 0
    assert len(mailoutbox) == 1
    assert to(mailoutbox) == [agent.user.email]


def test_once_per_week_on_fixed_dates(workspace, agent, mailoutbox):
    opt_in(agent)
    assert weekly_summary.send_weekly_summaries(now=MONDAY) == 1
    assert weekly_summary.send_weekly_summaries(now=MONDAY + timedelta(days=3)) == 0
    assert weekly_summary.send_weekly_summaries(now=MONDAY + timedelta(days=7)) == 1
    assert len(mailoutbox) == 2


def test_someone_who_opted_out_again_or_is_inactive_gets_none(workspace, agent, requester, mailoutbox):
    opt_in(agent, requester)
    preferences_update(user=agent.user, values={"email_weekly_summary": False})
    requester.user.is_active = False
    requester.user.save()
    assert weekly_summary.send_weekly_summaries(now=MONDAY) == 0
    assert mailoutbox == []


def test_staff_see_their_counts_and_the_oldest_waiting_ticket(
    workspace, queue, other_queue, admin, agent, requester, mailoutbox
):
    old = new_ticket(requester, queue, subject="Old printer")
    mine = new_ticket(requester, queue, subject="Mine")
    services.ticket_assign(ticket=mine, assignee=agent.user, actor=admin.user)
    solved = new_ticket(requester, queue, subject="Done")
    services.ticket_set_status(ticket=solved, status=Status.SOLVED, actor=agent.user)
    new_ticket(requester, other_queue, subject="Billing thing")  # not the agent's queue
    # Make "Old printer" the one untouched longest.
    type(old).objects.filter(pk=old.pk).update(updated_at=MONDAY - timedelta(days=20))
    opt_in(agent)
    weekly_summary.send_weekly_summaries(now=MONDAY)
    [message] = mailoutbox
    assert "Open tickets in your queues: 2" in message.body
    assert "Open tickets assigned to you: 1" in message.body
    assert f'Waiting longest: #{old.number} "Old printer"' in message.body
    assert f"/w/acme/tickets/{old.number}/" in message.body
    assert "Billing thing" not in message.body
    html = next(content for content, kind in message.alternatives if kind == "text/html")
    assert "Old printer" in html


def test_requesters_see_their_own_open_tickets_only(workspace, queue, agent, requester, mailoutbox):
    mine = new_ticket(requester, queue, subject="My laptop")
    done = new_ticket(requester, queue, subject="Old laptop")
    services.ticket_set_status(ticket=done, status=Status.SOLVED, actor=agent.user)
    someone = make_member(workspace, Role.REQUESTER)
    new_ticket(someone, queue, subject="Someone else's desk")
    opt_in(requester)
    weekly_summary.send_weekly_summaries(now=MONDAY)
    [message] = mailoutbox
    assert "Your open tickets: 1" in message.body
    assert f'#{mine.number} "My laptop"' in message.body
    assert "Old laptop" not in message.body and "Someone else's desk" not in message.body
    assert "Open tickets in your queues" not in message.body


def test_a_failed_send_is_retried_by_the_next_run(workspace, agent, mailoutbox, settings):
    opt_in(agent)
    settings.EMAIL_BACKEND = "tests.privacy.test_weekly_summary.FailingBackend"
    assert weekly_summary.send_weekly_summaries(now=MONDAY) == 0
    assert NotificationPreferences.objects.get(user=agent.user).weekly_summary_week == ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert weekly_summary.send_weekly_summaries(now=MONDAY) == 1
    assert to(mailoutbox) == [agent.user.email]


def test_the_beat_schedule_runs_the_task():
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-summaries"]
    assert entry["task"] == weekly_summary.send_weekly_summaries_task.name


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_email_each(workspace, queue, mailoutbox):
    agents = [agent_of(workspace, queue) for _ in range(3)]
    opt_in(*agents)
    results = []
    run_threads(2, lambda i: results.append(weekly_summary.send_weekly_summaries(now=MONDAY)))
    assert sum(results) == 3
    assert to(mailoutbox) == sorted(a.user.email for a in agents)


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")
