"""A fast, deterministic bulk loader of synthetic helpdesk data for the benchmarks.

``seed_bench(size)`` fills one large workspace (``bench-main``, ``size`` tickets) and one small
neighbour (``bench-other``) so every measured query has to scope by workspace. The same size and
seed always give the same rows, so results compare between commits.

Each ticket has replies and internal notes (about 3 messages on average; one ticket in 2,000 has
50, and the newest ticket of the measured agent's first queue always has 50), ~10% of messages
carry an attachment row pointing to a few shared files, 5% of tickets have a participant, agents
hold guardian queue grants, one requester owns up to 1,000 tickets (the export subject), another
up to 200 (the erasure subject), and every ticket has its ``ticket.created`` audit event, chained
and hashed exactly as ``audit_record`` does so ``verify_audit_log`` accepts the chain.

The report figures (``TicketMetrics``, ``BacklogCount``) are derived while generating, exactly as
``tickets.reports.backfill`` derives them from the loaded rows (the tests compare the two), which
saves reading every ticket and message back.

On PostgreSQL rows go in with ``COPY`` (psycopg 3 ``cursor.copy``), without waiting for each
commit to reach the disk, into tables whose non-unique indexes and foreign keys are rebuilt only
once the rows are in (bench/deferred_indexes.py): a 1M-ticket seed took 77 minutes row by row,
this way it costs about 460 CPU seconds, linear in the size (measured at 100k and 300k). On
SQLite rows go in with ``bulk_create`` in batches. Ids are allocated here (above the current
maximum) and the sequences are reset after. Ticket numbers are 1..N per workspace and
``Workspace.last_ticket_number`` ends at N; it is written last (after the indexes are back and
the tables analyzed), so it doubles as the "seeding completed" marker (``seeded_size``).

Run on its own: ``python -m bench.seed --size 10k`` (uses DJANGO_SETTINGS_MODULE, default
``bench.settings``).
"""

from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.deferred_indexes import deferred_indexes

SEED = 8
MAIN_SLUG = "bench-main"
OTHER_SLUG = "bench-other"
PASSWORD = "bench-password"
# Fixed, so the same size gives the same rows whatever the day; tickets span four years before it.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=4 * 365)
QUEUE_NAMES = ["Support", "Billing", "Sales", "Returns", "Shipping", "Accounts", "Security", "Partners"]
AGENT_QUEUES = 4  # agent0 (the measured agent) works queues 0-3, about half of the tickets
SEARCH_TERM = "kerberos"  # in about 0.5% of subjects: a selective text search
COMMON_TERM = "refund"  # one of WORDS: in about half of all messages, the search's worst case
BIG_THREAD = 50  # messages on the ticket-page tickets
BIG_EVERY = 2000
HEAVY_TICKETS = 1000  # requester0: "my tickets" and the export subject
ERASE_TICKETS = 200  # requester1: the erasure subject
SHARED_FILES = 5
CHUNK = 20_000  # tickets per transaction
SQLITE_BATCH = 2_000

# The columns each table's rows are generated with (the others take their model default).
TICKET_COLUMNS = (
    "id workspace_id number subject status priority queue_id requester_id assignee_id created_at"
    " updated_at public_updated_at closed_at"
).split()
MESSAGE_COLUMNS = "id workspace_id ticket_id author_id kind body body_html created_at".split()
ATTACHMENT_COLUMNS = (
    "id workspace_id ticket_id message_id uploaded_by_id file original_name content_type size created_at"
).split()
PARTICIPANT_COLUMNS = "id workspace_id ticket_id user_id added_at".split()
EVENT_COLUMNS = (
    "id chain seq prev_hash hash created_at workspace_id actor_id actor_label action target_type"
    " target_id detail personal_salt personal_hash"
).split()
METRICS_COLUMNS = (
    "id workspace_id ticket_id queue_id created_at first_response_at first_response_seconds solved_at"
    " resolution_seconds"
).split()
BACKLOG_COLUMNS = "id workspace_id queue_id assignee_id open".split()

SIZE_NAMES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}

WORDS = (
    "account invoice refund password login error export import report billing address order "
    "shipment delay crash update upgrade plan seat license token browser mobile android iphone "
    "windows linux printer network timeout vpn email calendar sync backup restore archive "
    "duplicate charge discount renewal cancel contract quote delivery tracking label customs "
    "warehouse return damaged missing package screen button page slow fast broken working"
).split()
SUBJECT_OPENERS = [
    "Cannot",
    "Question about",
    "Problem with",
    "Request:",
    "Urgent:",
    "Follow-up on",
    "Help with",
    "Feedback on",
]


def parse_size(text: str) -> int:
    """``10k`` -> 10000, ``1M`` -> 1000000, ``200`` -> 200."""
    key = text.strip().lower()
    if key in SIZE_NAMES:
        return SIZE_NAMES[key]
    if key.endswith("k"):
        return int(float(key[:-1]) * 1_000)
    if key.endswith("m"):
        return int(float(key[:-1]) * 1_000_000)
    return int(key)


def size_label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size >= 1_000 and size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


@dataclass
class Plan:
    """How many of each thing a size gets. Pure arithmetic: the same size, the same plan."""

    tickets: int
    other_tickets: int = 0
    agents: int = 0
    requesters: int = 0
    heavy: int = 0
    erase: int = 0
    big_numbers: list[int] = field(default_factory=list)

    @classmethod
    def for_size(cls, size: int) -> Plan:
        plan = cls(tickets=size)
        plan.other_tickets = max(20, size // 100)
        plan.agents = min(60, max(6, size // 1000))
        plan.requesters = max(10, size // 8)
        plan.heavy = min(HEAVY_TICKETS, max(1, size // 10))
        plan.erase = min(ERASE_TICKETS, max(1, size // 50))
        # The newest ticket is always a 50-message thread in queue 0 (the one measured).
        plan.big_numbers = sorted({size, *range(BIG_EVERY, size, BIG_EVERY)})
        return plan


# Writers ---------------------------------------------------------------------------------------


class _Writer:
    """Writes tuples of attribute values; fields not named get their model default."""

    def __init__(self, connection):
        self.connection = connection
        self.models = set()
        self.counts: dict[str, int] = {}

    def _layout(self, model, attnames):
        # Generated columns (Ticket.priority_rank) are computed by the database.
        fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]
        index = {name: i for i, name in enumerate(attnames)}
        unknown = set(attnames) - {f.attname for f in model._meta.concrete_fields}
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {sorted(unknown)}")
        layout = []
        for f in fields:
            if f.attname in index:
                layout.append((f, index[f.attname], None))
            else:
                layout.append((f, None, f.get_default()))
        return layout

    def write(self, model, attnames, rows):
        self.models.add(model)
        label = model._meta.label
        rows = list(rows)
        self.counts[label] = self.counts.get(label, 0) + len(rows)
        if rows:
            self._write(model, attnames, rows)

    def finish(self):
        from django.core.management.color import no_style

        statements = self.connection.ops.sequence_reset_sql(no_style(), list(self.models))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


class CopyWriter(_Writer):
    """PostgreSQL: one ``COPY ... FROM STDIN`` per table and chunk."""

    def _write(self, model, attnames, rows):
        from django.db.models import JSONField

        layout = self._layout(model, attnames)
        columns = ", ".join(self.connection.ops.quote_name(f.column) for f, _, _ in layout)
        table = self.connection.ops.quote_name(model._meta.db_table)
        json_positions = {i for i, (f, _, _) in enumerate(layout) if isinstance(f, JSONField)}
        with self.connection.cursor() as wrapper:
            cursor = wrapper.cursor  # the psycopg 3 cursor under Django's wrapper
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = [row[i] if i is not None else default for _, i, default in layout]
                    for position in json_positions:
                        values[position] = json.dumps(values[position])
                    copy.write_row(values)


class BulkCreateWriter(_Writer):
    """SQLite (and anything else): ``bulk_create`` in batches."""

    def _write(self, model, attnames, rows):
        objects = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=SQLITE_BATCH)


def writer_for(connection) -> _Writer:
    return CopyWriter(connection) if connection.vendor == "postgresql" else BulkCreateWriter(connection)


# Loading ---------------------------------------------------------------------------------------


def _next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def seeded_size(slug: str = MAIN_SLUG) -> int | None:
    """The size a completed seed left in the database, or None when there is none."""
    from workspaces.models import Workspace

    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None or workspace.last_ticket_number == 0:
        return None
    return workspace.last_ticket_number


def shared_file_names(workspace_id: int) -> list[str]:
    return [f"attachments/{workspace_id}/bench-shared-{k}" for k in range(SHARED_FILES)]


def erase_file_name(workspace_id: int, k: int) -> str:
    return f"attachments/{workspace_id}/bench-erase-{k}"


def ensure_files(workspace_id: int) -> None:
    """The few stored files attachment rows point to. Recreated each run (erasure deletes some)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    names = shared_file_names(workspace_id) + [erase_file_name(workspace_id, k) for k in range(20)]
    for k, name in enumerate(names):
        if not default_storage.exists(name):
            # The exact name is kept: the storage only renames when the name is taken.
            default_storage.save(name, ContentFile(f"bench attachment {k}\n".encode() * 64))


def _bulk_models() -> list:
    """The tables that grow with the size: loaded with their secondary indexes deferred."""
    from privacy.audit.models import AuditEvent
    from tickets.models import Attachment, Message, Ticket, TicketMetrics, TicketParticipant

    return [Ticket, Message, Attachment, TicketParticipant, AuditEvent, TicketMetrics]


@contextmanager
def _session_settings(connection):
    """PostgreSQL: the seed's commits need not wait for the disk (a crash means seeding again)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class _Loader:
    def __init__(self, *, size: int, seed: int, log):
        from django.db import connection

        self.plan = Plan.for_size(size)
        self.seed = seed
        self.log = log
        self.writer = writer_for(connection)
        self.password = None

    def run(self):
        from django.contrib.auth.hashers import make_password
        from django.db import connection

        from workspaces.models import Workspace

        started = time.monotonic()
        self.password = make_password(PASSWORD, salt="benchbenchsalt00")
        with _session_settings(connection), deferred_indexes(connection, _bulk_models(), log=self.log):
            main = self._workspace(MAIN_SLUG, "Bench Main", self.plan, main=True)
            other_plan = Plan.for_size(self.plan.other_tickets)
            other_plan.agents, other_plan.requesters = 3, 20
            other = self._workspace(OTHER_SLUG, "Bench Other", other_plan, main=False)
        self.writer.finish()
        self._analyze()
        # Only now, with the indexes back, does the main workspace's counter mark the seed done.
        for workspace, plan in ((other, other_plan), (main, self.plan)):
            Workspace.objects.filter(pk=workspace.pk).update(last_ticket_number=plan.tickets)
            workspace.last_ticket_number = plan.tickets
        self.log(
            f"seeded {self.plan.tickets:,} tickets in {time.monotonic() - started:.1f}s: {self.writer.counts}"
        )
        return main

    def _analyze(self):
        from django.db import connection

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                # As autovacuum leaves the tables some time after a bulk load: the visibility
                # maps set, so the list's counts and the reports read their covering indexes
                # alone, as in production. Every table, not only the tickets: a server with
                # autovacuum off (this machine's) otherwise measured the reports at 1M tickets
                # 1.5-2x slower on a freshly seeded database than on one vacuumed since. 8 s at 1M.
                cursor.execute("VACUUM (ANALYZE)")
            else:
                cursor.execute("ANALYZE")

    def _workspace(self, slug, name, plan, *, main):
        from django.contrib.auth.models import Permission
        from django.db import transaction

        from workspaces.models import (
            QUEUE_PERMISSION,
            Membership,
            Queue,
            QueueUserObjectPermission,
            Role,
            User,
            Workspace,
        )

        rng = random.Random(f"{self.seed}-{slug}")
        with transaction.atomic():
            workspace = Workspace.objects.create(name=name, slug=slug, created_at=ANCHOR - SPAN)
            queues = [
                Queue.objects.create(workspace=workspace, name=queue_name, created_at=ANCHOR - SPAN)
                for queue_name in QUEUE_NAMES
            ]
            # People: admins, agents, requesters (requester0 heavy, requester1 the erasure subject).
            people = [(f"admin{i}", Role.ADMIN) for i in range(2)]
            people += [(f"agent{i}", Role.AGENT) for i in range(plan.agents)]
            people += [(f"requester{i}", Role.REQUESTER) for i in range(plan.requesters)]
            first_user = _next_id(User)
            user_rows, member_rows = [], []
            first_member = _next_id(Membership)
            ids = {}
            for offset, (local, role) in enumerate(people):
                user_id = first_user + offset
                ids[local] = user_id
                email = f"{local}@{slug}.bench.test"
                # Staff and the two measured requesters signed in lately; other requesters at
                # some point of the four years, so about a quarter are past a 3-year retention.
                if role != Role.REQUESTER or local in ("requester0", "requester1"):
                    last_login = ANCHOR - timedelta(days=1)
                else:
                    last_login = ANCHOR - SPAN * rng.random()
                user_rows.append(
                    (
                        user_id,
                        email,
                        f"{local.capitalize()} {slug}",
                        self.password,
                        ANCHOR - SPAN,
                        ANCHOR - SPAN,
                        last_login,
                    )
                )
                member_rows.append((first_member + offset, workspace.pk, user_id, role, ANCHOR - SPAN))
            self.writer.write(
                User,
                [
                    "id",
                    "email",
                    "display_name",
                    "password",
                    "date_joined",
                    "email_confirmed_at",
                    "last_login",
                ],
                user_rows,
            )
            self.writer.write(
                Membership, ["id", "workspace_id", "user_id", "role", "created_at"], member_rows
            )
            permission = Permission.objects.get(
                codename=QUEUE_PERMISSION, content_type__app_label="workspaces", content_type__model="queue"
            )
            grant_rows = []
            first_grant = _next_id(QueueUserObjectPermission)
            for i in range(plan.agents):
                granted = range(AGENT_QUEUES) if i == 0 else {i % len(queues), (i + 3) % len(queues)}
                for q in sorted(granted):
                    grant_rows.append(
                        (first_grant + len(grant_rows), permission.pk, ids[f"agent{i}"], queues[q].pk)
                    )
            self.writer.write(
                QueueUserObjectPermission, ["id", "permission_id", "user_id", "content_object_id"], grant_rows
            )
        agents_of_queue = {q: [] for q in range(len(queues))}
        for i in range(plan.agents):
            granted = range(AGENT_QUEUES) if i == 0 else {i % len(queues), (i + 3) % len(queues)}
            for q in granted:
                agents_of_queue[q].append(ids[f"agent{i}"])
        for agents in agents_of_queue.values():
            if not agents:
                agents.append(ids["agent0"])
        requester_ids = [ids[f"requester{i}"] for i in range(plan.requesters)]
        emails = {user_id: f"{local}@{slug}.bench.test" for local, user_id in ids.items()}
        self._tickets(workspace, queues, plan, rng, agents_of_queue, requester_ids, emails)
        return workspace

    def _tickets(self, workspace, queues, plan, rng, agents_of_queue, requester_ids, emails):
        from django.db import transaction

        from privacy.audit.log import chain_for, content_digest_fast, personal_digest
        from privacy.audit.models import AuditChainHead, AuditEvent
        from tickets.bodies import body_html_of
        from tickets.models import (
            BACKLOG_STATUSES,
            Attachment,
            BacklogCount,
            Message,
            MessageKind,
            Priority,
            Status,
            Ticket,
            TicketMetrics,
            TicketParticipant,
        )

        n = plan.tickets
        workspace_id = workspace.pk
        queue_ids = [queue.pk for queue in queues]
        bodies = _bodies(rng)
        # Stored as the services store it: rendered once when written (Message.body_html).
        rendered = [body_html_of(body) for body in bodies]
        statuses = [Status.CLOSED] * 50 + [Status.SOLVED] * 15 + [Status.OPEN] * 15
        statuses += [Status.PENDING] * 10 + [Status.NEW] * 10
        priorities = [Priority.LOW] * 2 + [Priority.NORMAL] * 5 + [Priority.HIGH] * 2 + [Priority.URGENT]
        solved_statuses = (Status.SOLVED, Status.CLOSED)
        reply, note = MessageKind.REPLY, MessageKind.NOTE
        big = set(plan.big_numbers)
        heavy_every = max(1, n // plan.heavy)
        erase_every = max(1, n // plan.erase)
        shared = shared_file_names(workspace_id)
        heavy_id, erase_id = requester_ids[0], requester_ids[1 % len(requester_ids)]
        others = requester_ids[2:] or requester_ids
        step = SPAN / n
        chain = chain_for(workspace)
        head, _ = AuditChainHead.objects.get_or_create(chain=chain)
        seq, prev_hash = head.last_seq, head.last_hash
        next_ticket, next_message = _next_id(Ticket), _next_id(Message)
        next_attachment, next_participant = _next_id(Attachment), _next_id(TicketParticipant)
        next_event, next_metrics = _next_id(AuditEvent), _next_id(TicketMetrics)
        backlog: dict[tuple[int, int | None], int] = {}
        erase_files = 0
        randrange, random_ = rng.randrange, rng.random
        first = ANCHOR - SPAN
        for chunk_start in range(1, n + 1, CHUNK):
            tickets, messages, attachments, participants, events, metrics = [], [], [], [], [], []
            for number in range(chunk_start, min(n, chunk_start + CHUNK - 1) + 1):
                ticket_id = next_ticket
                next_ticket += 1
                created = first + step * (number - 1) + timedelta(seconds=rng.randint(0, 59))
                q = 0 if number == n else randrange(len(queue_ids))
                # Off the multiples of BIG_EVERY, so the export subject holds the same threads at
                # every size (one 50-message thread: the newest ticket), not one per 2,000 tickets.
                heavy = number % heavy_every == heavy_every // 3 and number + heavy_every <= n
                if heavy or number == n:
                    requester = heavy_id
                elif number % erase_every == erase_every // 2:
                    requester = erase_id
                else:
                    requester = others[randrange(len(others))]
                agents = agents_of_queue[q]
                agent = agents[randrange(len(agents))]
                status = Status.OPEN if number == n else statuses[randrange(len(statuses))]
                word = SEARCH_TERM if random_() < 0.005 else WORDS[randrange(len(WORDS))]
                subject = (
                    f"{SUBJECT_OPENERS[randrange(len(SUBJECT_OPENERS))]} "
                    f"{WORDS[randrange(len(WORDS))]} {word} ({number})"
                )
                count = BIG_THREAD if number in big else 1 + randrange(5)
                at = created
                last_public = created
                # The first public reply by staff after the description (tickets/reports.py).
                responded = None
                for k in range(count):
                    if k == 0:
                        author, kind = requester, reply
                    elif random_() < 0.3:
                        author, kind = agent, note
                    else:
                        author, kind = (agent if k % 2 else requester), reply
                    if kind == reply:
                        last_public = at
                        if responded is None and author == agent:
                            responded = at
                    message_id = next_message
                    next_message += 1
                    pick = randrange(len(bodies))
                    messages.append(
                        (message_id, workspace_id, ticket_id, author, kind, bodies[pick], rendered[pick], at)
                    )
                    if random_() < 0.1:
                        if author == erase_id:
                            name = erase_file_name(workspace_id, erase_files % 20)
                            erase_files += 1
                        else:
                            name = shared[randrange(len(shared))]
                        attachments.append(
                            (
                                next_attachment,
                                workspace_id,
                                ticket_id,
                                message_id,
                                author,
                                name,
                                f"file-{number}-{k}.txt",
                                "text/plain",
                                1152,
                                at,
                            )
                        )
                        next_attachment += 1
                    at = at + timedelta(minutes=30 + randrange(600))
                updated = at - timedelta(minutes=30)
                closed = updated if status == Status.CLOSED else None
                # A status other than new/open was the last change, and requesters see statuses.
                public = last_public if status in (Status.NEW, Status.OPEN) else updated
                assignee = None if status == Status.NEW else agent
                tickets.append(
                    (
                        ticket_id,
                        workspace_id,
                        number,
                        subject,
                        status,
                        priorities[randrange(len(priorities))],
                        queue_ids[q],
                        requester,
                        assignee,
                        created,
                        updated,
                        public,
                        closed,
                    )
                )
                if random_() < 0.05:
                    participant = others[randrange(len(others))]
                    if participant != requester:
                        participants.append((next_participant, workspace_id, ticket_id, participant, created))
                        next_participant += 1
                seq += 1
                # Sealed as audit_record seals: a per-event salt, the personal columns' hash,
                # then the v2 chain hash over the content and the previous hash.
                salt = f"{rng.getrandbits(128):032x}"
                label = emails[requester]
                personal = personal_digest(salt, label, None, "")
                detail = {"number": number, "queue_id": queue_ids[q]}
                target = str(ticket_id)
                digest = content_digest_fast(
                    chain, seq, prev_hash, created, workspace_id, requester, "ticket.created",
                    "tickets.ticket", target, detail, "", personal,
                )  # fmt: skip
                events.append(
                    (next_event, chain, seq, prev_hash, digest, created, workspace_id, requester, label)
                    + ("ticket.created", "tickets.ticket", target, detail, salt, personal)
                )
                prev_hash = digest
                next_event += 1
                # The report figures, as tickets/reports.py's backfill derives them.
                solved = (closed or public) if status in solved_statuses else None
                metrics.append(
                    (
                        next_metrics,
                        workspace_id,
                        ticket_id,
                        queue_ids[q],
                        created,
                        responded,
                        _seconds(created, responded),
                        solved,
                        _seconds(created, solved),
                    )
                )
                next_metrics += 1
                if status in BACKLOG_STATUSES:
                    key = (queue_ids[q], assignee)
                    backlog[key] = backlog.get(key, 0) + 1
            with transaction.atomic():
                self.writer.write(Ticket, TICKET_COLUMNS, tickets)
                self.writer.write(Message, MESSAGE_COLUMNS, messages)
                self.writer.write(Attachment, ATTACHMENT_COLUMNS, attachments)
                self.writer.write(TicketParticipant, PARTICIPANT_COLUMNS, participants)
                self.writer.write(AuditEvent, EVENT_COLUMNS, events)
                self.writer.write(TicketMetrics, METRICS_COLUMNS, metrics)
                AuditChainHead.objects.filter(chain=chain).update(last_seq=seq, last_hash=prev_hash)
            self.log(f"  {workspace.slug}: {min(n, chunk_start + CHUNK - 1):,}/{n:,} tickets")
        first_backlog = _next_id(BacklogCount)
        self.writer.write(
            BacklogCount,
            BACKLOG_COLUMNS,
            [
                (first_backlog + i, workspace_id, queue_id, assignee_id, count)
                for i, ((queue_id, assignee_id), count) in enumerate(
                    sorted(backlog.items(), key=lambda item: (item[0][0], item[0][1] or 0))
                )
            ],
        )


def _seconds(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else max(0, int((end - start).total_seconds()))


def _bodies(rng) -> list[str]:
    bodies = []
    for _ in range(256):
        words = [WORDS[rng.randrange(len(WORDS))] for _ in range(30 + rng.randrange(60))]
        if rng.random() < 0.01:
            words[rng.randrange(len(words))] = SEARCH_TERM
        bodies.append(" ".join(words).capitalize() + ".")
    return bodies


def seed_bench(size: int, *, seed: int = SEED, log=print):
    """Load the synthetic data for ``size`` tickets into the default database. Returns the main
    workspace. Expects a database without the bench workspaces (a fresh one)."""
    loader = _Loader(size=size, seed=seed, log=log)
    workspace = loader.run()
    ensure_files(workspace.pk)
    return workspace


def main(argv=None):
    import argparse
    import os

    import django

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10k")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    seed_bench(parse_size(args.size), seed=args.seed)


if __name__ == "__main__":
    main()
