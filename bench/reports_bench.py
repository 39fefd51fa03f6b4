"""The reports dashboard at a million tickets without seeding a million tickets.

The dashboard reads only its own tables (``TicketMetrics``, ``BacklogCount``), so this fills
them directly with SQL, shaped like bench/seed.py (tickets over four years before its ANCHOR,
8 queues, 35% in the backlog, first responses and resolutions of minutes to days), and times
``tickets.reports.dashboard`` and the page itself for an admin and an agent of 4 queues.

    DATABASE_URL=postgres://.../hd_reports_1m python -m bench.reports_bench --tickets 1000000

PostgreSQL only (``generate_series``); the database is migrated first and refilled each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.environment import BENCH_SECRET_KEY


def fill(tickets: int, log=print):
    from django.db import connection, transaction
    from guardian.shortcuts import assign_perm

    from bench.seed import ANCHOR, QUEUE_NAMES, SPAN
    from tickets.models import BacklogCount
    from workspaces.models import QUEUE_PERMISSION, Membership, Queue, Role, User, Workspace

    with transaction.atomic():
        Workspace.objects.filter(slug="reports-bench").delete()
        User.objects.filter(email__endswith="@reports-bench.test").delete()
        workspace = Workspace.objects.create(name="Reports bench", slug="reports-bench")
        queues = [Queue.objects.create(workspace=workspace, name=name) for name in QUEUE_NAMES]
        admin = User.objects.create_user(email="admin@reports-bench.test", password=None)
        Membership.objects.create(workspace=workspace, user=admin, role=Role.ADMIN)
        agents = []
        for i in range(20):
            user = User.objects.create_user(
                email=f"agent{i}@reports-bench.test", password=None, display_name=f"Agent {i}"
            )
            Membership.objects.create(workspace=workspace, user=user, role=Role.AGENT)
            agents.append(user)
        for queue in queues[:4]:
            assign_perm(QUEUE_PERMISSION, agents[0], queue)
    started = time.monotonic()
    queue_ids = [q.pk for q in queues]
    span = int(SPAN.total_seconds())
    with connection.cursor() as cursor:
        # Deterministic pseudo-random columns from the series number (hashes of n), no Python loop.
        cursor.execute(
            """
            INSERT INTO tickets_ticketmetrics
                (workspace_id, ticket_id, queue_id, created_at, first_response_at, first_response_seconds,
                 solved_at, resolution_seconds)
            SELECT %s, NULL, (%s::bigint[])[1 + n %% 8], c,
                   CASE WHEN n %% 10 < 9 THEN c + fr * interval '1 second' END,
                   CASE WHEN n %% 10 < 9 THEN fr END,
                   CASE WHEN n %% 100 < 65 THEN c + rs * interval '1 second' END,
                   CASE WHEN n %% 100 < 65 THEN rs END
            FROM (
                SELECT n,
                       %s::timestamptz - %s * interval '1 second'
                           + (n::bigint * %s / %s) * interval '1 second' AS c,
                       60 + abs(hashint4(n)) %% 86400 AS fr,
                       600 + abs(hashint4(n + 7)) %% (14 * 86400) AS rs
                FROM generate_series(1, %s) AS n
            ) AS series
            """,
            [workspace.pk, queue_ids, ANCHOR, span, span, tickets, tickets],
        )
    rows = [
        BacklogCount(workspace=workspace, queue=queue, assignee=assignee, open=int(tickets * 0.35 / 8 / 6))
        for queue in queues
        for assignee in [None, *agents[:5]]
    ]
    BacklogCount.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticketmetrics")
        cursor.execute("VACUUM tickets_ticketmetrics")  # the visibility map: index-only scans
    log(f"filled {tickets:,} metrics rows in {time.monotonic() - started:.1f}s")
    return workspace, admin, agents[0]


def timed(function, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()
    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            function()
            times.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    return statistics.median(times), max(times), queries


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.reports_bench")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="keep the rows of the last run")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    import django

    django.setup()
    from datetime import date

    from django.core.management import call_command
    from django.test import Client

    from tickets import reports
    from workspaces.models import Membership, User, Workspace

    call_command("migrate", interactive=False, verbosity=0)
    if args.reuse and Workspace.objects.filter(slug="reports-bench").exists():
        workspace = Workspace.objects.get(slug="reports-bench")
        admin = User.objects.get(email="admin@reports-bench.test")
        agent = User.objects.get(email="agent0@reports-bench.test")
    else:
        workspace, admin, agent = fill(args.tickets)
    end = date(2026, 10, 31)
    print(f"load average: {os.getloadavg()}")
    for who, user in (("admin", admin), ("agent, 4 queues", agent)):
        membership = Membership.objects.select_related("workspace").get(workspace=workspace, user=user)
        for days in (7, 30, 90):
            period = reports.period_of(days, end=end)
            in_period = reports._metrics(workspace.pk, None).filter(
                created_at__gte=period.since, created_at__lt=period.until
            )
            median, worst, queries = timed(
                lambda m=membership, d=days: reports.dashboard(m, days=d, end=end), args.repeat
            )
            print(
                f"dashboard() {who}, {days} days ({in_period.count():,} tickets created in it): "
                f"median {median:.1f} ms, max {worst:.1f} ms, {queries} queries"
            )
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        path = f"/w/{workspace.slug}/reports/?period=90&end={end.isoformat()}"
        median, worst, queries = timed(lambda c=client, p=path: c.get(p), args.repeat)
        print(f"page {who}, 90 days: median {median:.1f} ms, max {worst:.1f} ms, {queries} queries")
    by_queue = timed(lambda: reports.backlog(workspace.pk, [], None), args.repeat)
    print(f"backlog by queue and agent (counters): median {by_queue[0]:.2f} ms, {by_queue[2]} query")


if __name__ == "__main__":
    main()
