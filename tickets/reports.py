"""The reports dashboard's figures: kept from ticket events, read per period.

Two small tables hold them (tickets/models.py, "reports"):

- ``TicketMetrics``, one row per ticket: created, first public reply by staff, (last) solved,
  with the two durations. The ticket services call ``ticket_opened``, ``ticket_changed`` and
  ``first_response`` in the transaction of the change, so a rolled-back change leaves no figure.
- ``BacklogCount``, open tickets per (queue, assignee), moved by ``ticket_changed`` whenever a
  ticket enters, leaves or moves within the backlog.

A dashboard then costs the same number of queries whatever the number of tickets: per-day
counts and percentiles read the period's rows through an index that holds every column they
need (so the work grows with the tickets of the chosen period, never with the history), and
the backlog reads at most queues x staff counter rows. ``backfill`` rebuilds both tables from
the tickets (migration and ``manage.py rebuild_report_figures``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Aggregate, Case, Count, F, FloatField, IntegerField, Min, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from tickets import sla
from tickets.models import (
    BACKLOG_STATUSES,
    BacklogCount,
    Message,
    MessageKind,
    SlaPolicy,
    Status,
    Ticket,
    TicketMetrics,
)
from workspaces.access import queues_granted_to
from workspaces.models import Membership, Role

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
SOLVED_STATUSES = (Status.SOLVED, Status.CLOSED)
STAFF_ROLES = (Role.ADMIN, Role.AGENT)


# Keeping the figures (called by tickets/services.py inside its transactions) ------------------


@dataclass(frozen=True)
class Snapshot:
    """What the figures depend on, read from the locked ticket before a change."""

    queue_id: int
    assignee_id: int | None
    status: str


def snapshot(ticket: Ticket) -> Snapshot:
    return Snapshot(queue_id=ticket.queue_id, assignee_id=ticket.assignee_id, status=ticket.status)


def _backlog_key(queue_id, assignee_id, status):
    return (queue_id, assignee_id) if status in BACKLOG_STATUSES else None


def _backlog_add(workspace_id: int, key: tuple, delta: int) -> None:
    queue_id, assignee_id = key
    rows = BacklogCount.objects.filter(workspace_id=workspace_id, queue_id=queue_id, assignee_id=assignee_id)
    if rows.update(open=F("open") + delta):
        return
    try:
        # A savepoint: a concurrent first insert of the same row only costs this one statement.
        with transaction.atomic():
            BacklogCount.objects.create(
                workspace_id=workspace_id, queue_id=queue_id, assignee_id=assignee_id, open=delta
            )
    except IntegrityError:
        rows.update(open=F("open") + delta)


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def ticket_opened(ticket: Ticket) -> None:
    """A ticket was created (its metrics row and its place in the backlog)."""
    TicketMetrics.objects.create(
        workspace_id=ticket.workspace_id,
        ticket=ticket,
        queue_id=ticket.queue_id,
        created_at=ticket.created_at,
    )
    key = _backlog_key(ticket.queue_id, ticket.assignee_id, ticket.status)
    if key is not None:
        _backlog_add(ticket.workspace_id, key, 1)


def ticket_changed(ticket: Ticket, *, was: Snapshot, now: datetime | None = None) -> None:
    """The ticket's status, queue or assignee may have changed since ``was``: move its backlog
    count, keep its metrics row's queue, and set (or clear, on reopening) its solved time.
    Costs no query when nothing the figures depend on changed."""
    old = _backlog_key(was.queue_id, was.assignee_id, was.status)
    new = _backlog_key(ticket.queue_id, ticket.assignee_id, ticket.status)
    if old != new:
        if old is not None:
            _backlog_add(ticket.workspace_id, old, -1)
        if new is not None:
            _backlog_add(ticket.workspace_id, new, 1)
    changes = {}
    if ticket.queue_id != was.queue_id:
        changes["queue_id"] = ticket.queue_id
    solved_now, solved_before = ticket.status in SOLVED_STATUSES, was.status in SOLVED_STATUSES
    if solved_now and not solved_before:
        at = now or timezone.now()
        changes.update(solved_at=at, resolution_seconds=_seconds(ticket.created_at, at))
    elif solved_before and not solved_now:
        changes.update(solved_at=None, resolution_seconds=None)
    if changes:
        TicketMetrics.objects.filter(ticket_id=ticket.pk).update(**changes)


def tickets_changed(tickets: list[Ticket], *, was: dict, now: datetime | None = None) -> None:
    """``ticket_changed`` for a bulk change (tickets/bulk_services.py): ``was`` maps each ticket's
    pk to its snapshot. The backlog moves once per counter, the metrics rows in one UPDATE per
    kind of change, whatever the number of tickets; no query when nothing counted changed."""
    deltas: dict[tuple, int] = {}
    moved: dict[int, list[int]] = {}
    solved, reopened = [], []
    for ticket in tickets:
        before = was[ticket.pk]
        old = _backlog_key(before.queue_id, before.assignee_id, before.status)
        new = _backlog_key(ticket.queue_id, ticket.assignee_id, ticket.status)
        if old != new:
            for key, delta in ((old, -1), (new, 1)):
                if key is not None:
                    deltas[key] = deltas.get(key, 0) + delta
        if ticket.queue_id != before.queue_id:
            moved.setdefault(ticket.queue_id, []).append(ticket.pk)
        solved_now, solved_before = ticket.status in SOLVED_STATUSES, before.status in SOLVED_STATUSES
        if solved_now and not solved_before:
            solved.append(ticket)
        elif solved_before and not solved_now:
            reopened.append(ticket.pk)
    for key, delta in sorted(deltas.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        if delta:
            _backlog_add(tickets[0].workspace_id, key, delta)
    for queue_id, ids in moved.items():
        TicketMetrics.objects.filter(ticket_id__in=ids).update(queue_id=queue_id)
    if solved:
        at = now or timezone.now()
        seconds = Case(
            *[When(ticket_id=t.pk, then=Value(_seconds(t.created_at, at))) for t in solved],
            output_field=IntegerField(),
        )
        TicketMetrics.objects.filter(ticket_id__in=[t.pk for t in solved]).update(
            solved_at=at, resolution_seconds=seconds
        )
    if reopened:
        TicketMetrics.objects.filter(ticket_id__in=reopened).update(solved_at=None, resolution_seconds=None)


def first_response(ticket: Ticket, *, at: datetime) -> None:
    """A public reply by staff: the first one sets the ticket's first-response time."""
    TicketMetrics.objects.filter(ticket_id=ticket.pk, first_response_at__isnull=True).update(
        first_response_at=at, first_response_seconds=_seconds(ticket.created_at, at)
    )


def tickets_forgetting(ticket_ids) -> None:
    """Tickets about to be deleted (retention) leave the backlog; their metrics rows stay."""
    rows = (
        Ticket.objects.filter(pk__in=ticket_ids, status__in=BACKLOG_STATUSES)
        .values("workspace_id", "queue_id", "assignee_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        _backlog_add(row["workspace_id"], (row["queue_id"], row["assignee_id"]), -row["n"])


# Rebuilding them from the tickets (the migration and rebuild_report_figures) ------------------

BACKFILL_BATCH = 5_000


def backfill(
    *,
    ticket_model=Ticket,
    message_model=Message,
    metrics_model=TicketMetrics,
    backlog_model=BacklogCount,
    membership_model=Membership,
    workspace_id: int | None = None,
    batch: int = BACKFILL_BATCH,
    log=None,
) -> int:
    """Recompute every metrics row and backlog count from the tickets, in batches of ``batch``
    tickets (one transaction each for the metrics). Takes the models so the migration can pass
    its historical ones. The first response is the first public reply after the description by
    someone who is staff of the workspace now; the solved time of a ticket solved before these
    figures existed is its last public change (the status change), or when it was closed.
    Returns the number of tickets read."""
    tickets = ticket_model.objects.all()
    if workspace_id is not None:
        tickets = tickets.filter(workspace_id=workspace_id)
    staff = {
        (w, u)
        for w, u in membership_model.objects.filter(role__in=STAFF_ROLES).values_list(
            "workspace_id", "user_id"
        )
    }
    done, last_id = 0, 0
    while True:
        rows = list(
            tickets.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list(
                "pk", "workspace_id", "queue_id", "status", "created_at", "public_updated_at", "closed_at"
            )[:batch]
        )
        if not rows:
            break
        ids = [r[0] for r in rows]
        description = dict(
            message_model.objects.filter(ticket_id__in=ids)
            .values("ticket_id")
            .annotate(first=Min("id"))
            .order_by()
            .values_list("ticket_id", "first")
        )
        first_reply: dict[int, datetime] = {}
        replies = (
            message_model.objects.filter(ticket_id__in=ids, kind=MessageKind.REPLY)
            .order_by("ticket_id", "created_at", "id")
            .values_list("id", "ticket_id", "workspace_id", "author_id", "created_at")
        )
        for message_id, ticket_id, ws, author_id, created in replies:
            if ticket_id in first_reply or message_id == description.get(ticket_id):
                continue
            if (ws, author_id) in staff:
                first_reply[ticket_id] = created
        fresh = []
        for pk, ws, queue_id, status, created, public_updated, closed in rows:
            responded = first_reply.get(pk)
            solved = None
            if status in SOLVED_STATUSES:
                solved = closed if status == Status.CLOSED and closed else public_updated
            fresh.append(
                metrics_model(
                    workspace_id=ws,
                    ticket_id=pk,
                    queue_id=queue_id,
                    created_at=created,
                    first_response_at=responded,
                    first_response_seconds=_seconds(created, responded) if responded else None,
                    solved_at=solved,
                    resolution_seconds=_seconds(created, solved) if solved else None,
                )
            )
        with transaction.atomic():
            metrics_model.objects.filter(ticket_id__in=ids).delete()
            metrics_model.objects.bulk_create(fresh, batch_size=1_000)
        done += len(rows)
        last_id = ids[-1]
        if log:
            log(f"{done} tickets")
    _recount_backlog(ticket_model, backlog_model, workspace_id)
    return done


def _recount_backlog(ticket_model, backlog_model, workspace_id) -> None:
    counts = (
        ticket_model.objects.filter(status__in=BACKLOG_STATUSES)
        .values("workspace_id", "queue_id", "assignee_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    existing = backlog_model.objects.all()
    if workspace_id is not None:
        counts, existing = (
            counts.filter(workspace_id=workspace_id),
            existing.filter(workspace_id=workspace_id),
        )
    with transaction.atomic():
        existing.delete()
        backlog_model.objects.bulk_create(
            backlog_model(
                workspace_id=r["workspace_id"],
                queue_id=r["queue_id"],
                assignee_id=r["assignee_id"],
                open=r["n"],
            )
            for r in counts
        )


# Reading them (the dashboard and its CSV downloads) ------------------------------------------


@dataclass(frozen=True)
class Period:
    """The last ``days`` days in the viewer's time zone, today included."""

    days: int
    since: datetime
    until: datetime
    day_list: tuple[date, ...]


def period_of(days: int, *, now: datetime | None = None, end: date | None = None, tz=None) -> Period:
    """``days`` days ending with ``end`` (default: today)."""
    tz = tz or timezone.get_current_timezone()
    today = end or timezone.localtime(now or timezone.now(), tz).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    until = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return Period(
        days=days, since=since, until=until, day_list=tuple(first + timedelta(n) for n in range(days))
    )


@dataclass(frozen=True)
class DayRow:
    day: date
    created: int
    solved: int


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile of one duration over a period, in seconds (None: no ticket)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class BacklogRow:
    label: str
    open: int
    key: str = ""


@dataclass
class Dashboard:
    period: Period
    queues: list
    queue: object | None
    days: list[DayRow] = field(default_factory=list)
    first_response: Durations | None = None
    resolution: Durations | None = None
    backlog_by_queue: list[BacklogRow] = field(default_factory=list)
    backlog_by_agent: list[BacklogRow] = field(default_factory=list)
    sla: dict | None = None

    @property
    def created_total(self) -> int:
        return sum(d.created for d in self.days)

    @property
    def solved_total(self) -> int:
        return sum(d.solved for d in self.days)

    @property
    def backlog_total(self) -> int:
        return sum(r.open for r in self.backlog_by_queue)


def report_queues(membership: Membership) -> list:
    """The queues whose figures this member sees: the same grants as the ticket list."""
    return list(queues_granted_to(membership).order_by("name", "pk"))


def _metrics(workspace_id: int, queue_ids):
    rows = TicketMetrics.objects.filter(workspace_id=workspace_id)
    return rows if queue_ids is None else rows.filter(queue_id__in=queue_ids)


def _per_day(rows, column: str, period: Period) -> dict[date, int]:
    tz = period.since.tzinfo
    counted = (
        rows.filter(**{f"{column}__gte": period.since, f"{column}__lt": period.until})
        .annotate(day=TruncDate(column, tzinfo=tz))
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("day", "n")
    )
    return dict(counted)


def daily_counts(workspace_id: int, queue_ids, period: Period) -> list[DayRow]:
    """Tickets created and solved on each day of the period (two grouped index range scans)."""
    rows = _metrics(workspace_id, queue_ids)
    created = _per_day(rows, "created_at", period)
    solved = _per_day(rows, "solved_at", period)
    return [DayRow(day=d, created=created.get(d, 0), solved=solved.get(d, 0)) for d in period.day_list]


class Percentile(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    # The fraction is a float from this module's code (never from input), formatted with %r.
    template = "%(function)s(%(fraction)r) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(sorted_values: list, fraction: float) -> float | None:
    """Linear interpolation between the closest ranks: what percentile_cont answers."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def durations(workspace_id: int, queue_ids, period: Period, *, at: str, seconds: str) -> Durations:
    """Median and p90 of ``seconds`` over the tickets whose ``at`` falls in the period: in SQL
    on PostgreSQL, over the period's values (read from the index) in Python on SQLite."""
    rows = _metrics(workspace_id, queue_ids).filter(
        **{f"{at}__gte": period.since, f"{at}__lt": period.until, f"{seconds}__isnull": False}
    )
    if connection.vendor == "postgresql":
        figures = rows.aggregate(
            count=Count("*"), median=Percentile(seconds, 0.5), p90=Percentile(seconds, 0.9)
        )
        return Durations(**figures)
    values = sorted(rows.values_list(seconds, flat=True))
    return Durations(count=len(values), median=percentile(values, 0.5), p90=percentile(values, 0.9))


def backlog(workspace_id: int, queues: list, queue_ids) -> tuple[list[BacklogRow], list[BacklogRow]]:
    """Open tickets by queue and by assignee, from the counters (one query)."""
    rows = BacklogCount.objects.filter(workspace_id=workspace_id, open__gt=0)
    if queue_ids is not None:
        rows = rows.filter(queue_id__in=queue_ids)
    by_queue: dict[int, int] = {}
    by_agent: dict[int | None, int] = {}
    names: dict[int | None, str] = {}
    # The assignee is shown by name only: their password hash and dates stay unread (reading
    # every field of each row's person was most of this function's time at 1M tickets).
    shown = ("queue_id", "assignee_id", "open", "assignee__display_name", "assignee__email")
    for row in rows.select_related("assignee").only(*shown).order_by():
        by_queue[row.queue_id] = by_queue.get(row.queue_id, 0) + row.open
        by_agent[row.assignee_id] = by_agent.get(row.assignee_id, 0) + row.open
        if row.assignee_id is not None:
            names[row.assignee_id] = str(row.assignee)
    queue_rows = [
        BacklogRow(label=q.name, open=by_queue.get(q.pk, 0), key=str(q.pk))
        for q in queues
        if queue_ids is None or q.pk in queue_ids
    ]
    agent_rows = sorted(
        (BacklogRow(label=names[a], open=n, key=str(a)) for a, n in by_agent.items() if a is not None),
        key=lambda r: (-r.open, r.label.lower()),
    )
    if None in by_agent:
        agent_rows.append(BacklogRow(label="", open=by_agent[None], key="none"))
    return queue_rows, agent_rows


def sla_attainment_row(*, workspace, period: Period, queue_ids) -> dict | None:
    """Service-level targets met out of those decided in the period (tickets/sla.py), or None
    while the workspace has never had a service-level policy. Adds two queries."""
    if not SlaPolicy.objects.filter(workspace_id=workspace.pk).exists():
        return None
    figures = sla.attainment(workspace, period.since, period.until, queue_ids=queue_ids)
    for row in figures.values():
        row["percent"] = round(100 * row["met"] / row["total"]) if row["total"] else None
    return figures


def dashboard(
    membership: Membership, *, days: int = DEFAULT_PERIOD, end: date | None = None, queue=None, now=None
) -> Dashboard:
    """Every figure of the dashboard for this member: their queues only (all for admins), or the
    one ``queue`` chosen among them. A fixed number of queries, whatever the number of tickets."""
    queues = report_queues(membership)
    if queue is not None:
        queue_ids = [queue.pk]
    elif membership.is_admin:
        queue_ids = None  # every queue of the workspace: no IN list to pass
    else:
        queue_ids = [q.pk for q in queues]
    period = period_of(days, now=now, end=end)
    ws = membership.workspace_id
    by_queue, by_agent = backlog(ws, queues, queue_ids)
    return Dashboard(
        period=period,
        queues=queues,
        queue=queue,
        days=daily_counts(ws, queue_ids, period),
        first_response=durations(
            ws, queue_ids, period, at="first_response_at", seconds="first_response_seconds"
        ),
        resolution=durations(ws, queue_ids, period, at="solved_at", seconds="resolution_seconds"),
        backlog_by_queue=by_queue,
        backlog_by_agent=by_agent,
        sla=sla_attainment_row(workspace=membership.workspace, period=period, queue_ids=queue_ids),
    )
