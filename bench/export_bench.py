"""Export benchmark: time and peak memory of a personal-data export on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_self_bench .venv/bin/python bench/export_bench.py

Creates the database if needed, migrates it, bulk-creates a requester with 10,000 tickets and
100,000 messages (10 per ticket: the requester's replies, agents' replies, and one internal note
in ten that must not be exported), then builds the export in a fresh child process and reports
wall time, the archive size, the child's peak RSS (ru_maxrss) and the Python heap peak
(tracemalloc). A small account (100 tickets, 1,000 messages) is measured the same way, so flat
memory shows as two similar peaks. ``--tickets`` and ``--per-ticket`` change the sizes.

``--workspace bench-main`` puts the same account into an existing workspace instead (a copy of
a ``python -m bench`` database): run on the 10k and the 100k copy, the two figures show whether
the export grows with other people's tickets. The child also reports its CPU seconds and its
query count, which a busy machine does not blur as it blurs wall time.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hd_self_bench")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")


def ensure_database() -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    with psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def setup_django():
    import django

    django.setup()


def seed(tickets: int, per_ticket: int, tag: str, workspace_slug: str | None = None) -> int:
    """Bulk-create one requester's account (in a new workspace, or after the tickets of
    ``workspace_slug``); returns the requester's id."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from tickets.models import Message, MessageKind, Ticket
    from workspaces.models import Membership, Queue, Role, User, Workspace

    now = timezone.now()
    with transaction.atomic():
        if workspace_slug:
            workspace = Workspace.objects.select_for_update().get(slug=workspace_slug)
            queue = Queue.objects.filter(workspace=workspace).order_by("pk").first()
        else:
            workspace = Workspace.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}-{int(time.time())}")
            queue = Queue.objects.create(workspace=workspace, name="Support")
        first = workspace.last_ticket_number
        stamp = f"{workspace.slug}-{tag}-{int(time.time())}"
        password = make_password(None)
        requester = User.objects.create(
            email=f"requester-{stamp}@bench.test", display_name="Bench Requester", password=password
        )
        agent = User.objects.create(
            email=f"agent-{stamp}@bench.test", display_name="Bench Agent", password=password
        )
        Membership.objects.create(workspace=workspace, user=requester, role=Role.REQUESTER)
        Membership.objects.create(workspace=workspace, user=agent, role=Role.ADMIN)
        batch = 2000
        for start in range(0, tickets, batch):
            rows = [
                Ticket(
                    workspace=workspace,
                    number=first + n + 1,
                    subject=f"Ticket {n + 1}: the printer on floor {n % 7} is making noises again",
                    queue=queue,
                    requester=requester,
                    created_at=now,
                    updated_at=now,
                )
                for n in range(start, min(start + batch, tickets))
            ]
            created = Ticket.objects.bulk_create(rows, batch_size=batch)
            messages = []
            for ticket in created:
                for i in range(per_ticket):
                    note = i == per_ticket - 1
                    messages.append(
                        Message(
                            workspace=workspace,
                            ticket=ticket,
                            author=agent if (note or i % 2) else requester,
                            kind=MessageKind.NOTE if note else MessageKind.REPLY,
                            body=("Internal: " if note else "")
                            + f"Message {i} on ticket {ticket.number}. " * 6,
                            created_at=now,
                        )
                    )
            Message.objects.bulk_create(messages, batch_size=5000)
        Workspace.objects.filter(pk=workspace.pk).update(last_ticket_number=first + tickets)
    # Fresh planner statistics, as autovacuum would gather after a bulk load; without them the
    # planner still believes the tables are empty.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return requester.pk


def child(user_id: int, trace: bool) -> None:
    """Build the export in this process and print the measurements as JSON. With ``trace`` the
    Python heap is traced (tracemalloc slows allocation several times: time is measured in a
    separate, untraced run)."""
    import tempfile

    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from privacy.account.export import write_archive
    from workspaces.models import User

    user = User.objects.get(pk=user_id)
    if trace:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries, tempfile.TemporaryFile() as out:
        write_archive(user, out)
        size = out.tell()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    heap_peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "seconds": round(elapsed, 2),
                "cpu_seconds": round(cpu, 2),
                "queries": len(queries.captured_queries),
                "archive_bytes": size,
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "heap_peak_mib": round(heap_peak / 1024 / 1024, 1),
            }
        )
    )


def _run_child(user_id: int, *extra: str) -> dict:
    output = subprocess.run(  # noqa: S603 - our own script, our own arguments
        [sys.executable, __file__, "--child", str(user_id), *extra],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(user_id: int) -> dict:
    timed = _run_child(user_id)
    traced = _run_child(user_id, "--trace")
    return {**timed, "heap_peak_mib": traced["heap_peak_mib"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=int)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--per-ticket", type=int, default=10)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--workspace", help="slug of an existing workspace to add the account to")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.trace)
        return
    ensure_database()
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    results = {}
    for label, tickets in (("small", max(1, args.tickets // 100)), ("large", args.tickets)):
        started = time.perf_counter()
        user_id = seed(tickets, args.per_ticket, label, args.workspace)
        seeded = time.perf_counter() - started
        result = measure(user_id)
        result.update(tickets=tickets, messages=tickets * args.per_ticket, seed_seconds=round(seeded, 1))
        results[label] = result
        print(f"{label}: {json.dumps(result)}", flush=True)
    large = results["large"]
    print(
        f"\nExport of a requester with {large['tickets']:,} tickets and {large['messages']:,} messages "
        f"on PostgreSQL: {large['seconds']} s, archive {large['archive_bytes'] / 1024 / 1024:.1f} MiB, "
        f"peak RSS {large['peak_rss_mib']} MiB (small account: {results['small']['peak_rss_mib']} MiB), "
        f"Python heap peak {large['heap_peak_mib']} MiB (small: {results['small']['heap_peak_mib']} MiB)."
    )


if __name__ == "__main__":
    main()
