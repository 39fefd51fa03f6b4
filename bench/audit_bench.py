"""Audit-log benchmark: ``python bench/audit_bench.py --events 1000000``.

Measures, on the database of ``DATABASE_URL`` (PostgreSQL; SQLite works for a smoke run):

1. the CPU time of one audited action (writing process and database backend) beside a bare
   INSERT's; audited actions per second on ONE workspace through ``audit_record`` (each call on
   its own: one transaction, one durable commit), by ``--writers`` writer PROCESSES (1 4 8 16
   32), with inline sealing (every writer takes the chain head lock: the code before issue 15;
   ``--inline-writers``) and deferred sealing (writers insert unsealed rows; the sealer links
   them), each beside the floor for the same complete audit row and for a bare INSERT;
   then the sealer: rows sealed per second from a backlog, and, while writers write and the
   sealer runs every ``AUDIT_SEAL_INTERVAL_SECONDS`` as the beat task does, its rate, longest
   run, what was left unsealed and the delay from writing to sealed (p50/p95/max); and
   ``verify_audit_log`` over all of it (``--writes-only`` stops here);
2. a bulk load up to ``--events`` rows with a fast path that computes the real chained hashes
   (the same functions ``audit_record`` uses) and COPYs them in (PostgreSQL) or bulk-inserts;
3. ``verify_audit_log`` rows per second over the whole table;
4. the admin page's first page and a filtered page at that size.

It runs in its own database, ``<name of DATABASE_URL's database>_audit_bench`` (created when
missing; ``--database`` to choose), and empties the two audit tables there first.
"""

import argparse
import multiprocessing
import os
import random
import secrets
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACTIONS = ("ticket.created", "reply.created", "note.created", "ticket.viewed", "ticket.status_changed")
AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1",
)


def _bench_database_url(base: str, name: str | None) -> str:
    parts = urlsplit(base)
    database = name or f"{parts.path.lstrip('/') or 'helpdesk'}_audit_bench"
    if parts.scheme.startswith("postgres"):
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
    return urlunsplit(parts._replace(path=f"/{database}"))


def setup(args):
    base = os.environ.get("DATABASE_URL")
    if base:
        os.environ["DATABASE_URL"] = _bench_database_url(base, args.database)
    else:
        print("WARNING: DATABASE_URL is not set: running on SQLite (figures are not PostgreSQL's).")
        os.environ.setdefault("HELPDESK_VAR_DIR", str(ROOT / "var" / "audit_bench"))
    os.environ.setdefault("SECRET_KEY", "audit-bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    # One connection per writer thread for the whole run (a pool of 10 would cap the writers).
    os.environ.setdefault("DB_POOL", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def reset():
    from django.db import connection, transaction

    from privacy.audit.maintenance import audit_maintenance

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE privacy_auditevent, privacy_auditchainhead RESTART IDENTITY")
            return
    with transaction.atomic(), audit_maintenance(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM privacy_auditevent")
        cursor.execute("DELETE FROM privacy_auditchainhead")


def workspaces(count):
    from workspaces.models import Workspace

    return [
        Workspace.objects.get_or_create(slug=f"bench-{i}", defaults={"name": f"Bench {i}"})[0]
        for i in range(count)
    ]


def users(count):
    from workspaces.models import User

    return [
        User.objects.get_or_create(email=f"bench{i}@example.test", defaults={"display_name": f"Bench {i}"})[0]
        for i in range(count)
    ]


# Writers are processes, not threads: a web server runs several processes, and threads of one
# process share one GIL, so the bench would measure the interpreter instead of the database.
# Forked after the parent closed its connections, so each writer opens its own.
_FORK = multiprocessing.get_context("fork")


def _run_processes(writers, seconds, prepare, *args, forked=None):
    """Run ``writers`` processes: each calls ``prepare(index, *args)`` (connection, requests:
    not timed), waits for the others, then calls the returned step until ``seconds`` have passed.
    ``forked()`` runs in this process once they exist, before they start. Returns (steps done,
    seconds from the first writer's start to the last writer's end)."""
    from django.db import connections

    connections.close_all()
    start = _FORK.Barrier(writers + 1)
    results = _FORK.SimpleQueue()

    def child(index):
        try:
            step = prepare(index, *args)
            start.wait()
            begun = time.perf_counter()
            deadline, count = begun + seconds, 0
            while time.perf_counter() < deadline:
                step(count)
                count += 1
            results.put((begun, time.perf_counter(), count))
        except BaseException as error:  # reported to the parent, which fails the run
            results.put((0.0, 0.0, repr(error)))
            raise
        finally:
            connections.close_all()

    pool = [_FORK.Process(target=child, args=(i,), daemon=True) for i in range(writers)]
    for process in pool:
        process.start()
    if forked is not None:
        forked()
    start.wait()
    outcomes = [results.get() for _ in pool]
    for process in pool:
        process.join()
    failures = [count for _, _, count in outcomes if isinstance(count, str)]
    if failures:
        raise RuntimeError(f"{len(failures)} writer(s) failed: {failures[0]}")
    begun = min(first for first, _, _ in outcomes)
    ended = max(last for _, last, _ in outcomes)
    return sum(count for _, _, count in outcomes), ended - begun


def _requests(index, people):
    from django.test import RequestFactory

    factory, rng = RequestFactory(), random.Random(index)
    requests = []
    for i in range(50):
        request = factory.get(
            "/",
            REMOTE_ADDR=f"10.{index % 250}.{i % 250}.{rng.randrange(1, 250)}",
            HTTP_USER_AGENT=AGENTS[i % 2],
        )
        request.user = people[i % len(people)]
        requests.append(request)
    return requests


def _audit_writer(index, workspace, people, durable):
    """One writer's audited action: ``audit_record`` called on its own, so each is one
    transaction with its own commit (autocommit: the INSERT commits at once)."""
    from django.db import connection

    rng = random.Random(index)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET synchronous_commit = {'on' if durable else 'off'}")
    requests = _requests(index, people)  # a request exists before its audit event is written
    return _audited_action(requests, workspace, rng)


def _audited_action(requests, workspace, rng):
    """``step(n)``: the n-th audited action of a writer, as the product writes one."""
    from privacy.audit.log import audit_record

    def step(count):
        audit_record(
            action=ACTIONS[count % len(ACTIONS)],
            request=requests[count % len(requests)],
            workspace=workspace,
            target_type="tickets.ticket",
            target_id=rng.randrange(1, 10_000),
            detail={"number": count, "queue_id": 1 + count % 5},
        )

    return step


def measure_record(writers, seconds, workspace, people, *, durable=True, forked=None):
    """Audited actions per second on ONE workspace (the busy-workspace case of issue 15):
    ``writers`` processes writing for ``seconds``, each action its own transaction with a
    durable commit (``synchronous_commit = on``) unless ``durable`` is False.
    Returns (events, seconds)."""
    return _run_processes(writers, seconds, _audit_writer, workspace, people, durable, forked=forked)


def bulk_rows(chain, workspace_id, start_seq, prev_hash, count, start_at, people, rng):
    """Rows of one chain with real chained hashes, continuing from (start_seq - 1, prev_hash)."""
    from privacy.audit.log import content_digest_fast, personal_digest

    moment = start_at
    step = timedelta(milliseconds=37)
    for offset in range(count):
        seq = start_seq + offset
        moment += step
        person = people[offset % len(people)]
        action = ACTIONS[offset % len(ACTIONS)]
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        agent = AGENTS[offset % 2]
        target_id = str(rng.randrange(1, 100_000))
        detail = {"number": int(target_id), "queue_id": 1 + offset % 7}
        salt = secrets.token_hex(16)
        personal = personal_digest(salt, person.email, ip, agent)
        digest = content_digest_fast(
            chain, seq, prev_hash, moment, workspace_id, person.pk, action, "tickets.ticket", target_id,
            detail, "", personal,
        )  # fmt: skip
        yield (
            chain, seq, prev_hash, digest, moment, workspace_id, person.pk, person.email, ip, agent, action,
            "tickets.ticket", target_id, detail, "", salt, personal,
        )  # fmt: skip
        prev_hash = digest


COLUMNS = (
    "chain, seq, prev_hash, hash, created_at, workspace_id, actor_id, actor_label, ip_address, user_agent, "
    "action, target_type, target_id, detail, dedupe_key, personal_salt, personal_hash, content_hash"
)


def bulk_load(total, spaces, people):
    """Append ``total`` events over the workspaces' chains, interleaved as real traffic is (so
    ids of one workspace are spread over the table), with real hashes, in one transaction."""
    import json

    from django.db import connection, transaction

    from privacy.audit.models import AuditChainHead, AuditEvent

    rng = random.Random(7)
    per_chain = total // len(spaces)
    started = time.perf_counter()
    with transaction.atomic():
        generators, heads = [], {}
        for workspace in spaces:
            chain = f"ws:{workspace.pk}"
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(chain=chain)
            last = (
                AuditEvent.objects.filter(chain=chain)
                .order_by("-seq")
                .values_list("created_at", flat=True)
                .first()
            )
            start_at = max(last or datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
            generators.append(
                bulk_rows(
                    chain, workspace.pk, head.last_seq + 1, head.last_hash, per_chain, start_at, people, rng
                )
            )
            heads[chain] = (head.last_seq, head.last_hash)

        def interleaved():
            for _ in range(per_chain):
                for rows in generators:
                    row = next(rows)
                    heads[row[0]] = (row[1], row[3])
                    # content_hash empty: these are v2 rows (the whole content in the chain hash).
                    yield (*row[:13], json.dumps(row[13]), *row[14:], "")

        if connection.vendor == "postgresql":
            sql = f"COPY privacy_auditevent ({COLUMNS}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for row in interleaved():
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * 18)
            sql = f"INSERT INTO privacy_auditevent ({COLUMNS}) VALUES ({marks})"  # noqa: S608 - constant
            batch = []
            with connection.cursor() as cursor:
                for row in interleaved():
                    batch.append(row)
                    if len(batch) >= 5000:
                        cursor.executemany(sql, batch)
                        batch.clear()
                if batch:
                    cursor.executemany(sql, batch)
        for chain, (last_seq, last_hash) in heads.items():
            AuditChainHead.objects.filter(pk=chain).update(last_seq=last_seq, last_hash=last_hash)
    seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE privacy_auditevent")
    return per_chain * len(spaces), seconds


FLOOR_CHAIN = "bench:floor"
FLOOR_SQL = (
    "INSERT INTO privacy_auditevent (chain, prev_hash, hash, created_at, workspace_id, actor_label, "  # noqa: S608
    "user_agent, action, target_type, target_id, detail, dedupe_key, personal_salt, personal_hash, "
    "content_hash) VALUES (%s, '', '', %s, NULL, 'a@example.test', 'ua', 'ticket.created', "
    "'tickets.ticket', '1', '{}', '', 's', 'p', 'c')"
)


def _floor_writer(index, sql):
    from django.db import connection

    cursor = connection.cursor()
    if connection.vendor == "postgresql":
        cursor.execute("SET synchronous_commit = on")

    def step(count):
        cursor.execute(sql, [FLOOR_CHAIN, datetime.now(UTC)])

    return step


def measure_floor(writers, seconds):
    """The database's own limit for the same work: ``writers`` processes each committing a
    one-row INSERT into the audit table (same indexes, durable commit, no Python around it but
    the driver). What audit_record's deferred write is compared with; the rows are removed."""
    from django.db import connection, transaction

    from privacy.audit.maintenance import audit_maintenance

    count, elapsed = _run_processes(writers, seconds, _floor_writer, FLOOR_SQL)
    with transaction.atomic(), audit_maintenance(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM privacy_auditevent WHERE chain = %s", [FLOOR_CHAIN])
    return count, elapsed


def measure_cost(count, workspace, people):
    """CPU time of one audited action, which does not depend on how loaded the machine is: this
    process's (Python, driver) and its database backend's (read from /proc, so only when the
    server runs on this machine), per durable audit_record call and per bare INSERT (the floor).
    Returns {"audit_record": (client_us, backend_us or None), "floor": (...)}."""
    from django.db import connection, transaction

    from privacy.audit.maintenance import audit_maintenance

    if connection.vendor != "postgresql":
        return {}
    cursor = connection.cursor()
    cursor.execute("SET synchronous_commit = on")
    cursor.execute("SELECT pg_backend_pid()")
    stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def backend_seconds():
        if not stat.exists():
            return None
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    audited = _audited_action(_requests(0, people), workspace, random.Random(5))

    def floor(i):
        cursor.execute(FLOOR_SQL, [FLOOR_CHAIN, datetime.now(UTC)])

    costs = {}
    for name, step in (("audit_record", audited), ("floor", floor)):
        step(0)
        backend, client = backend_seconds(), time.process_time()
        for i in range(count):
            step(i)
        client = (time.process_time() - client) / count * 1e6
        backend = None if backend is None else (backend_seconds() - backend) / count * 1e6
        costs[name] = (client, backend)
    with transaction.atomic(), audit_maintenance(), connection.cursor() as cleanup:
        cleanup.execute("DELETE FROM privacy_auditevent WHERE chain = %s", [FLOOR_CHAIN])
    return costs


def _row_writer(index, workspace, people):
    from django.db import connection

    from privacy.audit.log import _insert_statement, _unsealed, client_ip

    request = _requests(index, people)[0]
    event = _unsealed(
        {
            "chain": f"ws:{workspace.pk}",
            "workspace": workspace,
            "actor": request.user,
            "actor_label": request.user.email,
            "ip_address": client_ip(request),
            "user_agent": request.META["HTTP_USER_AGENT"],
            "action": ACTIONS[0],
            "target_type": "tickets.ticket",
            "target_id": "1234",
            "detail": {"number": 1234, "queue_id": 1},
            "dedupe_key": "",
        }
    )
    sql, adapters = _insert_statement(connection.vendor, connection.features.can_return_columns_from_insert)
    values = [
        getattr(event, name) if adapt is None else adapt(getattr(event, name), connection)
        for name, adapt in adapters
    ]
    cursor = connection.cursor()
    if connection.vendor == "postgresql":
        cursor.execute("SET synchronous_commit = on")

    def step(count):
        cursor.execute(sql, values)

    return step


def measure_row_floor(writers, seconds, workspace, people):
    """The floor for the audit row itself: the statement audit_record runs, with a complete row
    (same size, same index entries), prepared once per writer and inserted again and again.
    The gap between this and audit_record is the per-action work in the writing process."""
    return _run_processes(writers, seconds, _row_writer, workspace, people)


def load_unsealed(total, workspace, people):
    """``total`` unsealed rows of one workspace as writers leave them (real content hashes), in
    one transaction: the backlog the sealer is timed on."""
    import json

    from django.db import connection, transaction

    from privacy.audit.log import content_digest, personal_digest

    rng = random.Random(11)
    chain = f"ws:{workspace.pk}"
    columns = (
        "chain, prev_hash, hash, created_at, workspace_id, actor_id, actor_label, ip_address, user_agent, "
        "action, target_type, target_id, detail, dedupe_key, personal_salt, personal_hash, content_hash"
    )
    rows = []
    now = datetime.now(UTC)
    for offset in range(total):
        person = people[offset % len(people)]
        ip, agent = f"10.1.{rng.randrange(256)}.{rng.randrange(1, 255)}", AGENTS[offset % 2]
        action, target_id = ACTIONS[offset % len(ACTIONS)], str(rng.randrange(1, 100_000))
        detail = {"number": int(target_id)}
        salt = secrets.token_hex(16)
        personal = personal_digest(salt, person.email, ip, agent)
        content = content_digest(
            chain, now, workspace.pk, person.pk, action, "tickets.ticket", target_id, detail, "", personal
        )
        rows.append(
            (chain, "", "", now, workspace.pk, person.pk, person.email, ip, agent, action, "tickets.ticket",
             target_id, json.dumps(detail), "", salt, personal, content)
        )  # fmt: skip
    marks = ", ".join(["%s"] * 17)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO privacy_auditevent ({columns}) VALUES ({marks})", rows)  # noqa: S608


def measure_sealer(total, workspace, people):
    """Rows per second the sealer links from a backlog of ``total`` unsealed rows."""
    from privacy.audit.sealer import seal_pending

    load_unsealed(total, workspace, people)
    started = time.perf_counter()
    result = seal_pending(chain=f"ws:{workspace.pk}", max_batches=1_000_000)
    return result.sealed, time.perf_counter() - started


def measure_seal_delay(writers, seconds, workspace, people):
    """Writer processes write for ``seconds`` while one sealer runs every
    AUDIT_SEAL_INTERVAL_SECONDS (as beat does, in this process). Returns a dict: the write rate,
    the sealer's rows and busy seconds (its rate while it keeps up), its longest run, the delay
    from an event's created_at to its sealed_at (p50, p95, max), and what was left unsealed."""
    from django.conf import settings
    from django.db import connections

    from privacy.audit.models import AuditEvent
    from privacy.audit.sealer import seal_pending

    interval = settings.AUDIT_SEAL_INTERVAL_SECONDS
    first_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    writers_done = threading.Event()
    runs = []  # (rows, seconds) of each sealer run

    def sealer():
        try:
            while True:
                time.sleep(interval)
                last = writers_done.is_set()  # this run starts after the last write: then stop
                started = time.perf_counter()
                runs.append((seal_pending().sealed, time.perf_counter() - started))
                if last:
                    return
        finally:
            connections.close_all()

    # Started once the writers are forked: a fork copies only the calling thread, and a thread
    # holding a lock at that moment would leave it held in the child.
    thread = threading.Thread(target=sealer)
    written, elapsed = measure_record(writers, seconds, workspace, people, forked=thread.start)
    writers_done.set()
    thread.join()
    left = AuditEvent.objects.filter(id__gt=first_id, seq__isnull=True).count()
    delays = sorted(
        (sealed - created).total_seconds()
        for created, sealed in AuditEvent.objects.filter(
            id__gt=first_id, workspace=workspace, sealed_at__isnull=False
        ).values_list("created_at", "sealed_at")
    )
    sealed = sum(rows for rows, _ in runs)
    busy = sum(took for _, took in runs)
    return {
        "written": written,
        "write_rate": written / elapsed,
        "sealed": sealed,
        "seal_rate": sealed / busy if busy else 0.0,
        "longest_run": max(took for _, took in runs),
        "largest_run": max(rows for rows, _ in runs),
        "left": left,
        "p50": delays[len(delays) // 2] if delays else 0.0,
        "p95": delays[int(len(delays) * 0.95)] if delays else 0.0,
        "max": delays[-1] if delays else 0.0,
    }


def measure_pages(workspace):
    from privacy.audit.selectors import AuditFilters, audit_events_page

    timings = {}
    for label, filters in (
        ("first page", AuditFilters()),
        ("action filter", AuditFilters(action="note.created")),
        ("actor filter", AuditFilters(actor_email="bench3@example.test")),
    ):
        started = time.perf_counter()
        page = audit_events_page(workspace=workspace, filters=filters)
        page = audit_events_page(workspace=workspace, filters=filters, before=page.older)
        timings[label] = (time.perf_counter() - started) / 2 * 1000
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="Total events in the table at the end.")
    parser.add_argument(
        "--writers",
        type=int,
        nargs="+",
        default=[1, 4, 8, 16, 32],
        help="Writer processes (deferred sealing).",
    )
    parser.add_argument(
        "--inline-writers", type=int, nargs="*", default=[1, 4], help="Writer processes with inline sealing."
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="Length of each write measurement.")
    parser.add_argument("--seal-rows", type=int, default=20_000, help="Backlog the sealer is timed on.")
    parser.add_argument(
        "--delay-writers", type=int, default=16, help="Writer processes while the sealer's delay is measured."
    )
    parser.add_argument("--delay-seconds", type=float, default=20.0, help="Length of the delay measurement.")
    parser.add_argument("--chains", type=int, default=10, help="Workspaces (chains) of the bulk load.")
    parser.add_argument("--database", help="Database name (default: <DATABASE_URL's>_audit_bench).")
    parser.add_argument(
        "--writes-only", action="store_true", help="Only the audited-actions-per-second part."
    )
    args = parser.parse_args()

    setup(args)
    from django.conf import settings
    from django.db import connection

    from privacy.audit.sealer import seal_pending
    from privacy.audit.verify import verify_audit_chains

    reset()
    spaces = workspaces(args.chains)
    people = users(20)
    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}; {os.cpu_count()} CPUs")
    print(
        "An audited action is one audit_record call on its own: one transaction, one durable commit "
        f"(synchronous_commit on); writers are processes; {args.seconds:g}s per figure."
    )

    def load():
        return f"load average {os.getloadavg()[0]:.1f}"

    settings.AUDIT_SEAL_INLINE = False
    for name, (client, backend) in measure_cost(3000, spaces[0], people).items():
        backend_text = "n/a (server not on this machine)" if backend is None else f"{backend:.0f} us"
        print(f"CPU per {name}: this process {client:.0f} us, database backend {backend_text}")
    for inline, counts in ((True, args.inline_writers), (False, args.writers)):
        settings.AUDIT_SEAL_INLINE = inline
        how = "inline sealing (head lock per event: before)" if inline else "deferred sealing"
        for writers in counts:
            count, seconds = measure_record(writers, args.seconds, spaces[0], people)
            print(
                f"audited actions on one workspace, {writers} writer(s), {how}: {count:,} in {seconds:.2f}s "
                f"= {count / seconds:,.0f}/s ({load()})"
            )
            if not inline:
                count, seconds = measure_row_floor(writers, args.seconds, spaces[0], people)
                print(
                    f"  same audit row, prepared once, inserted again by {writers} writer(s): "
                    f"{count / seconds:,.0f}/s"
                )
                count, seconds = measure_floor(writers, args.seconds)
                print(
                    f"  floor: bare one-row INSERT + durable COMMIT, {writers} writer(s): "
                    f"{count / seconds:,.0f}/s"
                )
    # What the write runs left, so the sealer starts from a backlog of its own.
    seal_pending(max_batches=1_000_000)
    count, seconds = measure_sealer(args.seal_rows, spaces[1], people)
    print(f"sealer: {count:,} rows of one chain in {seconds:.2f}s = {count / seconds:,.0f} rows/s ({load()})")
    delay = measure_seal_delay(args.delay_writers, args.delay_seconds, spaces[0], people)
    print(
        f"sealer every {settings.AUDIT_SEAL_INTERVAL_SECONDS}s beside {args.delay_writers} writers for "
        f"{args.delay_seconds:g}s: written {delay['write_rate']:,.0f}/s; sealed {delay['sealed']:,} rows at "
        f"{delay['seal_rate']:,.0f} rows/s while busy, longest run {delay['longest_run']:.2f}s "
        f"({delay['largest_run']:,} rows), unsealed when the writers stopped {delay['left']:,}; delay from "
        f"write to sealed p50 {delay['p50']:.2f}s, p95 {delay['p95']:.2f}s, max {delay['max']:.2f}s "
        f"({load()})"
    )
    result = verify_audit_chains()
    print(
        f"verify_audit_log after the writes: {result.rows:,} events, "
        f"{'intact' if result.ok else 'BROKEN: ' + str(result.breaks[:3])}"
    )
    if args.writes_only or not result.ok:
        return 0 if result.ok else 1

    loaded, seconds = bulk_load(max(args.events - result.rows, 0), spaces, people)
    print(f"bulk load (hash + COPY): {loaded:,} events in {seconds:.1f}s = {loaded / seconds:,.0f} events/s")

    result = verify_audit_chains()
    print(
        f"verify_audit_log: {result.rows:,} events in {result.chains} chains in {result.seconds:.1f}s "
        f"= {result.rate:,.0f} rows/s; {'intact' if result.ok else 'BROKEN: ' + str(result.breaks[:3])}"
    )
    for label, ms in measure_pages(spaces[0]).items():
        print(f"admin page ({label}, {result.rows:,} rows): {ms:.1f} ms per page")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
