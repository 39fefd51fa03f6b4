"""The reports dashboard (tickets/reports.py): figures kept from ticket events, read per period,
shown as charts with a table behind each, and downloaded as CSV."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.tickets.ticket_helpers import agent_of, member, new_ticket, note, reply
from tickets import report_charts, reports
from tickets.anonymize import tickets_delete
from tickets.models import BACKLOG_STATUSES, BacklogCount, Status, Ticket, TicketMetrics
from tickets.services import ticket_assign, ticket_move_queue, ticket_set_status
from workspaces.models import Role


def url(name="reports", slug="acme", **kwargs):
    return reverse(name, kwargs={"slug": slug, **kwargs})


def backlog_counts(workspace_id):
    return {
        (r.queue_id, r.assignee_id): r.open
        for r in BacklogCount.objects.filter(workspace_id=workspace_id, open__gt=0)
    }


def backlog_truth(workspace_id):
    rows = (
        Ticket.objects.filter(workspace_id=workspace_id, status__in=BACKLOG_STATUSES)
        .values("queue_id", "assignee_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(r["queue_id"], r["assignee_id"]): r["n"] for r in rows}


def metrics_of(ticket):
    return TicketMetrics.objects.get(ticket_id=ticket.pk)


# Kept from events --------------------------------------------------------------------------------


def test_first_public_staff_reply_sets_the_first_response_time(workspace, queue, requester, agent):
    created = timezone.now() - timedelta(hours=3)
    ticket = new_ticket(requester, queue, created_at=created)
    reply(ticket, requester, "Any news?")  # the requester's own reply is no response
    note(ticket, agent, "Looking")  # nor is an internal note
    assert metrics_of(ticket).first_response_at is None
    answered = created + timedelta(hours=2)
    reply(ticket, agent, "On it", created_at=answered)
    reply(ticket, agent, "Done", created_at=answered + timedelta(hours=1))
    figures = metrics_of(ticket)
    assert figures.first_response_at == answered
    assert figures.first_response_seconds == 7200


def test_solving_sets_the_resolution_and_reopening_clears_it(workspace, queue, requester, agent):
    ticket = new_ticket(requester, queue, created_at=timezone.now() - timedelta(days=1))
    assert backlog_counts(workspace.pk) == {(queue.pk, None): 1}
    ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=agent.user)
    figures = metrics_of(ticket)
    assert figures.solved_at is not None
    assert 86_000 < figures.resolution_seconds < 87_000
    assert backlog_counts(workspace.pk) == {}
    # Closing a solved ticket keeps when it was solved.
    ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=agent.user)
    assert metrics_of(ticket).solved_at == figures.solved_at
    # The requester's reply reopens it: no longer solved, back in the backlog.
    reply(ticket, requester, "Still broken")
    assert metrics_of(ticket).solved_at is None
    assert metrics_of(ticket).resolution_seconds is None
    assert backlog_counts(workspace.pk) == {(queue.pk, None): 1}


def test_backlog_counts_follow_assignment_and_queue_moves(workspace, queue, other_queue, requester, admin):
    agent = agent_of(workspace, queue, other_queue)
    first = new_ticket(requester, queue)
    second = new_ticket(requester, queue)
    ticket_assign(ticket=first, assignee=agent.user, actor=admin.user)
    assert backlog_counts(workspace.pk) == {(queue.pk, None): 1, (queue.pk, agent.user_id): 1}
    ticket_move_queue(ticket=first, queue=other_queue, actor=admin.user)
    assert backlog_counts(workspace.pk) == {(queue.pk, None): 1, (other_queue.pk, agent.user_id): 1}
    assert metrics_of(first).queue_id == other_queue.pk
    reply(second, agent, "Sent the fix", then_status=Status.PENDING)  # pending stays in the backlog
    ticket_set_status(ticket=second, status=Status.SOLVED, actor=agent.user)
    assert backlog_counts(workspace.pk) == backlog_truth(workspace.pk) == {(other_queue.pk, agent.user_id): 1}
    # The dashboard's rows: per queue, and per agent by the name they show.
    by_queue, by_agent = reports.backlog(workspace.pk, [queue, other_queue], None)
    assert [(row.label, row.open) for row in by_queue] == [(queue.name, 0), (other_queue.name, 1)]
    assert [(row.label, row.open) for row in by_agent] == [(str(agent.user), 1)]
    assert str(agent.user) in (agent.user.display_name, agent.user.email)


def test_counters_match_the_tickets_after_many_changes_and_a_rebuild(workspace, queue, other_queue, admin):
    requester = member(workspace, Role.REQUESTER)
    agent = agent_of(workspace, queue)
    tickets = [new_ticket(requester, queue if i % 2 else other_queue) for i in range(8)]
    for i, ticket in enumerate(tickets):
        if i % 3 == 0:
            ticket_move_queue(ticket=ticket, queue=queue, actor=admin.user)
            ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
        if i % 4 == 1:
            ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=admin.user)
        if i % 4 == 2:
            reply(ticket, agent if ticket.queue_id == queue.pk else admin, "Done", then_status=Status.SOLVED)
    tickets_delete(workspace_id=workspace.pk, ticket_ids=[tickets[0].pk, tickets[1].pk])
    live = backlog_counts(workspace.pk)
    assert live == backlog_truth(workspace.pk)
    kept = sorted(TicketMetrics.objects.filter(workspace=workspace).values_list("created_at", "solved_at"))
    assert len(kept) == 8  # a deleted ticket's figures stay (the row names nobody)
    reports.backfill(workspace_id=workspace.pk)
    assert backlog_counts(workspace.pk) == live


def test_bulk_changes_move_the_figures_as_single_changes_do(workspace, queue, other_queue, admin):
    from tickets import bulk

    requester = member(workspace, Role.REQUESTER)
    agent = agent_of(workspace, queue)
    tickets = [new_ticket(requester, other_queue, subject=f"Bulk {i}") for i in range(6)]
    numbers = [t.number for t in tickets]
    for action, value, chosen in (
        ("queue", str(queue.pk), numbers),
        ("assign", str(agent.user_id), numbers[:4]),
        ("status", Status.SOLVED, numbers[:3]),
        ("status", Status.OPEN, numbers[:1]),
    ):
        report = bulk.bulk_apply(
            membership=admin, numbers=chosen, action=action, value=value, actor=admin.user
        )
        assert report.changed == chosen, report.summary()
        assert backlog_counts(workspace.pk) == backlog_truth(workspace.pk)
    solved = TicketMetrics.objects.filter(ticket__in=tickets, solved_at__isnull=False)
    assert sorted(solved.values_list("ticket__number", flat=True)) == numbers[1:3]
    assert all(seconds is not None for seconds in solved.values_list("resolution_seconds", flat=True))
    assert set(TicketMetrics.objects.filter(ticket__in=tickets).values_list("queue_id", flat=True)) == {
        queue.pk
    }


@pytest.mark.django_db(transaction=True)
def test_two_tickets_opened_at_once_both_count(workspace, queue, requester):
    if connection.vendor == "sqlite":
        pytest.skip("Two writers at once need PostgreSQL (SQLite's test database locks the whole table).")
    run_threads(2, lambda index: new_ticket(requester, queue, subject=f"At once {index}"))
    assert backlog_counts(workspace.pk) == {(queue.pk, None): 2}


# Reading them ---------------------------------------------------------------------------------


def test_days_are_the_viewers_days(workspace, queue, requester):
    # 23:30 UTC is already the next day in Berlin.
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    new_ticket(requester, queue, created_at=late)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    berlin = reports.period_of(7, now=now, tz=ZoneInfo("Europe/Berlin"))
    utc = reports.period_of(7, now=now, tz=UTC)
    by_day = {r.day.isoformat(): r.created for r in reports.daily_counts(workspace.pk, None, berlin)}
    assert by_day["2026-12-01"] == 1 and by_day["2026-11-30"] == 0
    by_day = {r.day.isoformat(): r.created for r in reports.daily_counts(workspace.pk, None, utc)}
    assert by_day["2026-11-30"] == 1 and by_day["2026-12-01"] == 0


def test_median_and_p90_match_percentile_cont(workspace, queue, requester, agent):
    # Answered after 1, 2, 3, 4 and 10 minutes: median 3 min, p90 between 4 and 10 min.
    now = timezone.now()
    for minutes in (1, 2, 3, 4, 10):
        created = now - timedelta(hours=1)
        ticket = new_ticket(requester, queue, created_at=created)
        reply(ticket, agent, "Hello", created_at=created + timedelta(minutes=minutes))
    period = reports.period_of(7)
    figures = reports.durations(
        workspace.pk, None, period, at="first_response_at", seconds="first_response_seconds"
    )
    assert figures.count == 5
    assert figures.median == pytest.approx(180)
    assert figures.p90 == pytest.approx(240 + 0.6 * 360)  # percentile_cont's interpolation
    assert reports.percentile([], 0.5) is None


# The page ---------------------------------------------------------------------------------------


def test_admin_sees_every_queue_with_charts_and_tables(
    client, workspace, queue, other_queue, admin, requester
):
    new_ticket(requester, queue)
    new_ticket(requester, other_queue)
    client.force_login(admin.user)
    page = client.get(url())
    assert page.status_code == 200
    body = page.content.decode()
    assert 'role="img"' in body and "<svg" in body
    assert body.count("<table") >= 4  # per day, times, two backlogs (a table behind every chart)
    assert "Support" in body and "Billing" in body
    assert "No service-level policy" in body
    assert f'href="{url()}"' in body  # the staff navigation links here
    # The period picker names the period the figures are for.
    assert re.search(rf'<option value="{reports.DEFAULT_PERIOD}" selected>', body)


def test_service_level_attainment_shows_what_was_met_in_the_period(
    client, workspace, queue, admin, requester
):
    from datetime import timedelta as delta

    from tests.tickets.sla_support import policy_for

    policy_for(workspace)
    answered = new_ticket(requester, queue, created_at=timezone.now() - delta(hours=3))
    new_ticket(requester, queue, created_at=timezone.now() - delta(hours=3))  # never answered
    reply(answered, admin, "Here you go")  # 3 hours after opening: late for a 1-hour target
    Ticket.objects.filter(pk=answered.pk).update(first_responded_at=answered.created_at + delta(minutes=20))
    client.force_login(admin.user)
    body = client.get(url()).content.decode()
    assert "No service-level policy" not in body
    section = body[body.index('id="report-sla"') :]
    section = section[: section.index("</section>")]
    cells = re.findall(r'<td class="num">([^<]*)</td>', section)
    assert cells[:3] == ["1", "2", "50 %"]  # first response: one met of two decided


def test_agent_sees_only_the_figures_of_their_queues(client, workspace, queue, other_queue, requester):
    agent = agent_of(workspace, queue, display_name="Ann Agent")
    for _ in range(2):
        new_ticket(requester, queue)
    for _ in range(5):
        new_ticket(requester, other_queue)
    client.force_login(agent.user)
    page = client.get(url(), {"period": 7})
    body = page.content.decode()
    assert "Billing" not in body
    daily = page.context["board"]
    assert daily.created_total == 2 and daily.backlog_total == 2
    # Asking for another queue's figures shows an error and the agent's own figures.
    page = client.get(url(), {"queue": other_queue.pk})
    assert page.status_code == 400
    assert page.context["board"].created_total == 2
    assert "Select a valid choice" in page.content.decode()


def test_large_figures_are_grouped_as_the_reader_writes_numbers(client, workspace, queue, admin, requester):
    new_ticket(requester, queue)
    # The counter a busy workspace would hold, without opening 12,345 tickets.
    BacklogCount.objects.filter(workspace=workspace, queue=queue).update(open=12345)
    client.force_login(admin.user)
    figures = re.findall(r'class="report-figure">([^<]*)<', client.get(url()).content.decode())
    assert "12,345" in figures
    admin.user.language = "de"
    admin.user.save(update_fields=["language"])
    figures = re.findall(r'class="report-figure">([^<]*)<', client.get(url()).content.decode())
    assert "12.345" in figures


def test_a_past_period_ends_on_the_chosen_day(client, workspace, queue, admin, requester):
    new_ticket(requester, queue, created_at=timezone.now() - timedelta(days=40))
    new_ticket(requester, queue)
    client.force_login(admin.user)
    end = (timezone.localdate() - timedelta(days=35)).isoformat()
    page = client.get(url(), {"period": 7, "end": end})
    board = page.context["board"]
    assert board.days[-1].day.isoformat() == end and board.created_total == 1
    csv_name = client.get(url("reports_csv", table="daily"), {"period": 7, "end": end})["Content-Disposition"]
    assert csv_name.endswith(f'-daily-7d-{end}.csv"')
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page = client.get(url(), {"end": tomorrow})
    assert page.status_code == 400
    assert "Choose a day between 1 January 2000 and today." in page.content.decode()
    assert page.context["board"].created_total == 1  # the last 30 days up to today instead


def test_requesters_do_not_reach_the_reports(client, workspace, requester):
    client.force_login(requester.user)
    assert client.get(url()).status_code == 404
    assert client.get(url("reports_csv", table="daily")).status_code == 404
    assert (
        f'href="{url()}"' not in client.get(reverse("ticket_list", kwargs={"slug": "acme"})).content.decode()
    )


def test_the_dashboard_costs_the_same_queries_whatever_the_number_of_tickets(
    client, workspace, queue, other_queue, admin, requester, django_assert_max_num_queries
):
    agent = agent_of(workspace, queue, other_queue)
    client.force_login(admin.user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(), {"period": 30}).status_code == 200
        return len(queries)

    new_ticket(requester, queue)
    count()  # the first request of a session writes it once (last seen)
    few = count()
    for i in range(12):
        ticket = new_ticket(requester, queue if i % 2 else other_queue)
        reply(ticket, agent, "Hi", then_status=Status.SOLVED if i % 3 else None)
        if i % 4 == 0:
            ticket_assign(ticket=ticket, assignee=agent.user, actor=admin.user)
    assert count() == few
    with django_assert_max_num_queries(14):
        client.get(url(), {"period": 90, "queue": queue.pk})


# CSV --------------------------------------------------------------------------------------------


def test_csv_download_is_safe_named_and_audited(client, workspace, queue, admin, requester):
    queue.name = "=HYPERLINK(1)"
    queue.save()
    new_ticket(requester, queue)
    client.force_login(admin.user)
    response = client.get(url("reports_csv", table="backlog-queues"), {"period": 7})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="acme-backlog-queues-7d-')
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["queue", "open_tickets"], ["'=HYPERLINK(1)", "1"]]
    event = AuditEvent.objects.filter(action="report.exported").get()
    assert event.workspace_id == workspace.pk and event.actor_id == admin.user_id
    today = timezone.localdate().isoformat()
    assert event.detail == {"table": "backlog-queues", "days": 7, "end": today, "queue": "all"}

    daily = list(csv.reader(io.StringIO(client.get(url("reports_csv", table="daily")).content.decode())))
    assert daily[0] == ["date", "created", "solved"] and len(daily) == 31
    assert daily[-1] == [timezone.localdate().isoformat(), "1", "0"]
    times = client.get(url("reports_csv", table="times")).content.decode()
    assert times.splitlines()[0] == "measure,tickets,median_seconds,p90_seconds"
    assert client.get(url("reports_csv", table="nothing")).status_code == 404


# Charts -----------------------------------------------------------------------------------------


def test_axis_tops_are_round_numbers_and_bars_fit_the_drawing():
    assert [report_charts.nice_ceiling(v) for v in (0, 1, 3, 7, 12, 180, 999)] == [1, 1, 5, 10, 20, 200, 1000]
    chart = report_charts.columns_chart(labels=["a", "b"], series=[[3, 0], [1, 7]], series_names=["c", "s"])
    assert [t.value for t in chart["ticks"]] == [0, 2, 4, 6, 8, 10]
    tallest = max(chart["columns"], key=lambda c: c.value)
    assert tallest.value == 7 and tallest.y + tallest.height == chart["baseline"]
    assert all(report_charts.LEFT <= c.x and c.x + c.width <= chart["right"] for c in chart["columns"])
    bars = report_charts.bars_chart(
        [("A queue with a name far too long to fit the label column", 4), ("B", 0)]
    )
    assert bars["bars"][0].label.endswith("…") and bars["bars"][0].full_label.startswith("A queue")
    assert bars["bars"][1].width == 0


def test_chart_coordinates_stay_numbers_in_languages_with_a_decimal_comma(
    client, workspace, queue, admin, requester
):
    new_ticket(requester, queue)
    admin.user.language = "de"
    admin.user.save(update_fields=["language"])
    client.force_login(admin.user)
    body = client.get(url(), {"period": 7}).content.decode()
    assert "Berichte" in body
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert not re.search(r'(x|y|width|height)="\d+,\d', svg)
    assert re.search(r'width="\d+\.\d+"', svg)
