"""Retention benchmark: ``python bench/retention_bench.py [--tickets 100000]``.

On PostgreSQL (``DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/hd_retention``), in
its own database ``<name>_bench`` (dropped and recreated, then migrated):

1. seeds one workspace with N closed tickets past their retention period, each with 3 messages
   (a reply by the requester, a reply and a note by an agent) and 1 attachment whose bytes are a
   real file in the media folder (N/10 requesters, all signed in recently, so only the ticket
   kind acts), then vacuums and analyzes the database (as a real one is, long before its
   tickets are due);
2. times ``manage.py enforce_retention --dry-run`` (the preview);
3. runs ``manage.py enforce_retention`` in a subprocess and reports tickets anonymized per second,
   the subprocess's peak memory (its own ``VmHWM``, see ``PEAK_WRAPPER``) and its CPU seconds (user +
   system: steadier than the wall clock on a shared machine), with the load average before and
   after the sweep (the database server's work is in the wall clock only);
4. checks the result: every ticket anonymized, no attachment row or file left.

``--tickets 1000000`` is opt-in (seeding alone takes minutes).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hd_retention"
SECRET = "bench-secret-key-not-for-production-0123456789abcdef"


def bench_url(base: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/')}_bench"))


def psql(url: str, sql: str) -> None:
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    subprocess.run(["psql", admin, "-q", "-c", sql], check=True, capture_output=True)  # noqa: S603, S607


# Runs manage.py in this same process and writes its peak resident memory (VmHWM) at exit. Not
# ``ru_maxrss`` from ``wait4``: Linux carries the parent's high-water mark into a child across
# exec, so it reported this bench's own size (which grows with the seeded file names: 193 -> 288
# MiB from 100k to 1M) rather than the sweep's.
PEAK_WRAPPER = """
import atexit, os, runpy, sys
def _write_peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
atexit.register(_write_peak)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def env_for(url: str, var_dir: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "HELPDESK_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
    }


def manage(args, env):
    """Run manage.py; return (seconds, its resource usage from wait4, stdout, peak RSS in KiB)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile() as peak,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, "-c", PEAK_WRAPPER, str(ROOT / "manage.py"), *args],
            env={**env, "BENCH_PEAK_FILE": peak.name},
            cwd=ROOT,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(args)} failed:\n{err.read().decode()[-3000:]}")
        peak_kib = int(Path(peak.name).read_text() or 0)
        return seconds, usage, out.read().decode(), peak_kib


def seed(tickets: int, media_root: Path) -> dict:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from tests.factories import QueueFactory, UserFactory, WorkspaceFactory

    workspace = WorkspaceFactory(slug="bench", name="Bench")
    queue = QueueFactory(workspace=workspace, name="Support")
    agent = UserFactory(email="agent@bench.example")
    requesters = max(1, tickets // 10)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO workspaces_user (password, last_login, is_superuser, email, display_name, "
            "is_active, "
            "is_staff, date_joined, email_confirmed_at, language, time_zone) "
            "SELECT '!', %s, false, 'requester' || g || '@bench.example', 'Requester ' || g, true, "
            "false, %s, %s, "
            "'en', 'UTC' FROM generate_series(1, %s) g",
            [now, now - timedelta(days=3000), now, requesters],
        )
        cursor.execute("SELECT min(id) FROM workspaces_user WHERE email LIKE 'requester%%@bench.example'")
        first_requester = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO workspaces_membership (workspace_id, user_id, role, created_at) "
            "SELECT %s, id, 'requester', %s FROM workspaces_user WHERE email LIKE "
            "'requester%%@bench.example'",
            [workspace.pk, now],
        )
        closed = now - timedelta(days=1000)
        cursor.execute(
            "INSERT INTO tickets_ticket (workspace_id, number, subject, status, priority, queue_id, "
            "requester_id, "
            "assignee_id, created_at, updated_at, public_updated_at, closed_at, anonymized_at, "
            "requester_pseudonym, version) "
            "SELECT %s, g, 'Printer ' || g || ' of Requester ' || (g %% %s), 'closed', 'normal', %s, "
            "%s + (g %% %s), "
            "%s, %s, %s, %s, %s, NULL, '', 1 FROM generate_series(1, %s) g",
            [
                workspace.pk,
                requesters,
                queue.pk,
                first_requester,
                requesters,
                agent.pk,
                closed,
                closed,
                closed,
                closed,
                tickets,
            ],
        )
        cursor.execute(
            "INSERT INTO tickets_message (workspace_id, ticket_id, author_id, kind, body, body_html, "
            "created_at, edited_at) "
            "SELECT t.workspace_id, t.id, CASE WHEN k = 1 THEN t.requester_id ELSE %s END, "
            "CASE WHEN k = 3 THEN 'note' ELSE 'reply' END, 'Message ' || k || ' on ticket ' || t.number, "
            "'<p>Message ' || k || ' on ticket ' || t.number || '</p>', "
            "t.created_at, NULL FROM tickets_ticket t CROSS JOIN generate_series(1, 3) k WHERE "
            "t.workspace_id = %s",
            [agent.pk, workspace.pk],
        )
        cursor.execute(
            "INSERT INTO tickets_attachment (workspace_id, ticket_id, message_id, uploaded_by_id, "
            "file, original_name, "
            "content_type, size, created_at) SELECT t.workspace_id, t.id, NULL, t.requester_id, "
            "'attachments/' || t.workspace_id || '/bench-' || t.id, 'scan-' || t.number || '.pdf', "
            "'application/pdf', 32, t.created_at FROM tickets_ticket t WHERE t.workspace_id = %s",
            [workspace.pk],
        )
        # VACUUM too, not only ANALYZE: tickets closed 1,000 days ago have long been vacuumed in
        # any real database. Without it autovacuum of the fresh tables (hint bits, visibility map)
        # ran during the sweep and the sweep's figure measured the seed's aftermath as much.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT file FROM tickets_attachment WHERE workspace_id = %s", [workspace.pk])
        names = [row[0] for row in cursor.fetchall()]
    folder = media_root / "attachments" / str(workspace.pk)
    folder.mkdir(parents=True, exist_ok=True)
    payload = b"%PDF-1.4 bench attachment 0123\n"
    for name in names:
        with open(media_root / name, "wb") as handle:
            handle.write(payload)
    return {"workspace": workspace.pk, "requesters": requesters, "files": len(names)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="Rows per transaction (default: the command's own)."
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="Keep the bench database and media folder.")
    options = parser.parse_args(argv)
    if not options.database_url.startswith("postgres"):
        raise SystemExit("The retention benchmark needs PostgreSQL (DATABASE_URL=postgres://...).")
    url = bench_url(options.database_url)
    name = urlsplit(url).path.lstrip("/")
    psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(url, f'CREATE DATABASE "{name}"')
    var_dir = Path(tempfile.mkdtemp(prefix="retention-bench-"))
    env = env_for(url, str(var_dir))
    manage(["migrate", "--no-input", "-v", "0"], env)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    started = time.perf_counter()
    seeded = seed(options.tickets, var_dir / "media")
    seed_seconds = time.perf_counter() - started

    preview_seconds, _, preview_out, _ = manage(["enforce_retention", "--dry-run", "--json"], env)
    due = json.loads(preview_out)["workspaces"][0]["kinds"]["tickets"]["due"]
    load_before = os.getloadavg()[0]
    sweep = ["enforce_retention", "--json"]
    if options.batch_size:
        sweep.append(f"--batch-size={options.batch_size}")
    seconds, usage, out, peak_kib = manage(sweep, env)
    load_after = os.getloadavg()[0]
    peak_mib = peak_kib / 1024
    done = json.loads(out)["workspaces"][str(seeded["workspace"])]["tickets"]["due"]

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_ticket WHERE anonymized_at IS NULL")
        left = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tickets_attachment")
        attachments_left = cursor.fetchone()[0]
    files_left = sum(1 for _ in (var_dir / "media" / "attachments").rglob("bench-*"))
    result = {
        "tickets": options.tickets,
        "batch_size": options.batch_size or "default",
        "seed_seconds": round(seed_seconds, 1),
        "preview_seconds": round(preview_seconds, 2),
        "preview_due": due,
        "sweep_seconds": round(seconds, 1),
        "tickets_anonymized": done,
        "tickets_per_second": round(done / seconds, 1),
        "peak_rss_mib": round(peak_mib, 1),
        "sweep_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_1min": [round(load_before, 2), round(load_after, 2)],
        "left_unanonymized": left,
        "attachment_rows_left": attachments_left,
        "files_left": files_left,
    }
    print(json.dumps(result, indent=2))
    if not options.keep:
        connection.close()
        shutil.rmtree(var_dir, ignore_errors=True)
        # FORCE: the server may not have ended the closed session yet.
        psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


if __name__ == "__main__":
    main()
