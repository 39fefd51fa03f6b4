"""Service levels (issue 13): due times for the first response and the resolution of tickets,
counted in the workspace's business hours, breach detection and attainment figures.

How a ticket's clock works (the columns are described on ``Ticket``):

- a target's due time is ``created_at`` plus the target in business time (``tickets.
  business_hours``), plus the business time the ticket spent paused. Pending pauses the clock
  (waiting for the customer), and so do Solved and Closed (nothing to do until it is reopened);
- the first public reply by staff meets the first-response target; Solved or Closed meets the
  resolution target (reopening makes it run again, the time solved not counted);
- ``sla_due_at`` is the running target, null while paused or when nothing is due: the list
  shows it and sorts by it, and the breach scan finds the ones that passed.

The services call ``on_created`` and ``ticket_changed`` at the moments that move the clock and
save the fields these return; everything else is decided here. A ticket without an active policy
(or whose priority has no target) has no due times: "no policy, no SLA". Saving a policy applies it
to the workspace's open tickets in the background (``policy_apply_task``, in batches); breaches
that are already past when a policy first reaches a ticket are recorded without email, so turning
SLAs on never sends a flood about old tickets.

Breaches are found by ``breaches_detect`` (beat task every minute, or ``manage.py
detect_sla_breaches``): each breach is claimed by a conditional UPDATE, so two runs at once never
record or email one twice. The email goes to the assignee, or, on an unassigned ticket, to the
agents of its queue (the admins when no agent works it): the people who answer its replies.
"""

import zoneinfo
from datetime import UTC, date, datetime

from celery import shared_task
from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from privacy.audit import events
from tickets import business_hours, notifications, realtime
from tickets.models import Message, MessageKind, SlaPolicy, Status, Ticket
from tickets.sla_state import FIRST_RESPONSE, breached_at_of, running_kind
from workspaces.models import Membership, Role

PAUSED_STATUSES = (Status.PENDING, Status.SOLVED, Status.CLOSED)
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)
# "Breaching soon" once this share of the target is used (a quarter left).
WARN_SHARE = 0.75
APPLY_BATCH = 500
# Small batches: a batch's transaction holds its tickets' row locks and the audit chain head of
# their workspace while it records them, so an agent saving one of them waits only briefly.
BREACH_BATCH = 50
# One run of the scan handles at most this many batches; the next run (a minute later) goes on.
BREACH_MAX_BATCHES = 200

SLA_FIELDS = [
    "first_response_due_at",
    "resolution_due_at",
    "first_responded_at",
    "sla_resolved_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "sla_due_at",
    "sla_warn_at",
    "sla_breach_check_at",
    "first_response_breached_at",
    "resolution_breached_at",
]


# The policy and its calendar ------------------------------------------------------------------


def active_policy(workspace_id: int) -> SlaPolicy | None:
    return SlaPolicy.objects.filter(workspace_id=workspace_id, is_active=True).first()


def policy_of(workspace) -> SlaPolicy | None:
    """The workspace's policy, active or not (the admin page)."""
    return SlaPolicy.objects.filter(workspace_id=workspace.pk).first()


def zone_of(policy: SlaPolicy):
    try:
        return zoneinfo.ZoneInfo(policy.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def schedule_of(policy: SlaPolicy) -> business_hours.Schedule:
    week = tuple(tuple(day) if day else None for day in policy.weekly_hours)
    holidays = frozenset(date.fromisoformat(day) for day in policy.holidays)
    return business_hours.Schedule(zone=zone_of(policy), week=week, holidays=holidays)


POLICY_FIELDS = (
    "is_active",
    "time_zone",
    *(f"{p}_{k}" for p in ("low", "normal", "high", "urgent") for k in ("first_response", "resolution")),
    "weekly_hours",
    "holidays",
)


@transaction.atomic
def policy_save(*, workspace, values: dict, actor, request=None) -> tuple[SlaPolicy, list[str]]:
    """Create or change the workspace's policy from ``values`` (``SlaPolicyForm.values``).
    Returns the policy and the names of the settings that changed. A change audits
    ``sla.policy_changed`` and, after commit, re-applies the policy to the open tickets in the
    background (``policy_apply_task``); saving the same values changes nothing."""
    policy = SlaPolicy.objects.select_for_update().filter(workspace_id=workspace.pk).first()
    if policy is None:
        policy = SlaPolicy(workspace=workspace)
        changed = list(POLICY_FIELDS)
    else:
        changed = [name for name in POLICY_FIELDS if getattr(policy, name) != values[name]]
        if not changed:
            return policy, []
    for name in POLICY_FIELDS:
        setattr(policy, name, values[name])
    policy.updated_at = timezone.now()
    policy.full_clean()
    schedule_of(policy)  # a bad schedule fails here, inside the transaction
    policy.save()
    events.sla_policy_changed(policy=policy, fields=changed, actor=actor, request=request)
    workspace_id = workspace.pk
    transaction.on_commit(lambda: policy_apply_task.delay(workspace_id), robust=True)
    return policy, changed


# Keeping one ticket's clock --------------------------------------------------------------------


def _tracked(ticket: Ticket) -> bool:
    return ticket.first_response_due_at is not None or ticket.resolution_due_at is not None


def _refresh(ticket: Ticket, policy: SlaPolicy | None, schedule=None) -> None:
    """Set the due times and the running target from the policy (None: no SLA any more; the
    targets already met or missed keep their due times, for the figures)."""
    if policy is None:
        first, resolution = None, None
    else:
        first, resolution = policy.targets_for(ticket.priority)
        schedule = schedule or schedule_of(policy)
    paused = ticket.sla_paused_seconds or 0

    def due(minutes, share=1.0):
        return business_hours.add(schedule, ticket.created_at, minutes * 60 * share + paused)

    if ticket.first_responded_at is None:
        ticket.first_response_due_at = due(first) if first else None
    if ticket.sla_resolved_at is None:
        ticket.resolution_due_at = due(resolution) if resolution else None
    kind = running_kind(ticket)
    if kind is None or ticket.sla_paused_at is not None:
        ticket.sla_due_at = ticket.sla_warn_at = ticket.sla_breach_check_at = None
        return
    ticket.sla_due_at = ticket.first_response_due_at if kind == FIRST_RESPONSE else ticket.resolution_due_at
    ticket.sla_warn_at = due(first if kind == FIRST_RESPONSE else resolution, WARN_SHARE)
    ticket.sla_breach_check_at = None if breached_at_of(ticket, kind) is not None else ticket.sla_due_at


def on_created(ticket: Ticket) -> None:
    """Set the due times of a new ticket (before its first save). One query (the policy)."""
    policy = active_policy(ticket.workspace_id)
    if policy is not None:
        _refresh(ticket, policy)


def _pause_and_resolve(ticket: Ticket, old_status: str, now, schedule) -> None:
    new = ticket.status
    if new in DONE_STATUSES and old_status not in DONE_STATUSES:
        ticket.sla_resolved_at = ticket.sla_resolved_at or now
    elif new not in DONE_STATUSES and old_status in DONE_STATUSES:
        ticket.sla_resolved_at = None  # reopened: the resolution target runs again
    if schedule is None:
        return
    if new in PAUSED_STATUSES and ticket.sla_paused_at is None:
        ticket.sla_paused_at = now
    elif new not in PAUSED_STATUSES and ticket.sla_paused_at is not None:
        paused = business_hours.between(schedule, ticket.sla_paused_at, now)
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + paused
        ticket.sla_paused_at = None


_LOOK_UP = object()


def ticket_changed(
    *,
    ticket: Ticket,
    now,
    old_status: str | None = None,
    staff_replied: bool = False,
    priority_changed=False,
    policy=_LOOK_UP,
) -> list[str]:
    """Move the clock of a locked ticket after a change; returns the fields to save.

    ``old_status``: the status before, when it changed; ``staff_replied``: a public reply by
    staff (the first one meets the first-response target). At most one query (the policy), none
    for a ticket without due times unless its priority changed."""
    status_moved = old_status is not None and old_status != ticket.status
    first_reply = staff_replied and ticket.first_responded_at is None
    if not (status_moved or first_reply or priority_changed):
        return []
    if first_reply:
        ticket.first_responded_at = now
    if policy is _LOOK_UP:
        policy = active_policy(ticket.workspace_id) if _tracked(ticket) or priority_changed else None
    elif not (_tracked(ticket) or priority_changed):
        policy = None
    schedule = schedule_of(policy) if policy is not None else None
    if not _tracked(ticket) and schedule is not None:
        # A ticket that gains targets now (its priority got one): paused from now if it waits.
        ticket.sla_paused_seconds = None
        ticket.sla_paused_at = now if ticket.status in PAUSED_STATUSES else None
    if status_moved:
        _pause_and_resolve(ticket, old_status, now, schedule)
    if policy is not None or _tracked(ticket):
        _refresh(ticket, policy, schedule)
    return list(SLA_FIELDS)


def tickets_changed(*, tickets: list[Ticket], now, old_statuses: dict | None = None, priority_changed=False):
    """``ticket_changed`` for a bulk change of tickets of one workspace: the policy read once, the
    clocks saved in one ``bulk_update``. ``old_statuses``: ``{ticket id: status before}``."""
    if not tickets:
        return
    policy = active_policy(tickets[0].workspace_id)
    moved = []
    for ticket in tickets:
        before = [getattr(ticket, name) for name in SLA_FIELDS]
        old = (old_statuses or {}).get(ticket.pk)
        ticket_changed(
            ticket=ticket, now=now, old_status=old, priority_changed=priority_changed, policy=policy
        )
        if [getattr(ticket, name) for name in SLA_FIELDS] != before:
            moved.append(ticket)
    if moved:
        Ticket.objects.bulk_update(moved, list(SLA_FIELDS), batch_size=500)


# Applying a saved policy to open tickets --------------------------------------------------------


def _first_staff_replies(workspace_id: int, ticket_ids: list[int]) -> dict[int, datetime]:
    staff = Membership.objects.filter(workspace_id=workspace_id, role__in=[Role.ADMIN, Role.AGENT]).values(
        "user_id"
    )
    rows = (
        Message.objects.filter(
            workspace_id=workspace_id, ticket_id__in=ticket_ids, kind=MessageKind.REPLY, author_id__in=staff
        )
        .values("ticket_id")
        .annotate(first=Min("created_at"))
        .order_by()
    )
    return {row["ticket_id"]: row["first"] for row in rows}


def _apply_one(ticket: Ticket, policy, schedule, now, first_replies: dict) -> None:
    if not _tracked(ticket):
        if ticket.first_responded_at is None:
            ticket.first_responded_at = first_replies.get(ticket.pk)
        ticket.sla_paused_seconds = None
        ticket.sla_paused_at = now if ticket.status in PAUSED_STATUSES and policy is not None else None
        _refresh(ticket, policy, schedule)
        # Already past when the policy first reaches the ticket: recorded, never emailed.
        kind = running_kind(ticket)
        if ticket.sla_due_at is not None and ticket.sla_due_at <= now and kind is not None:
            setattr(ticket, f"{kind}_breached_at", now)
            ticket.sla_breach_check_at = None
        return
    if policy is None:
        ticket.sla_paused_at = None
    _refresh(ticket, policy, schedule)


def policy_apply(*, workspace_id: int, now=None, batch: int = APPLY_BATCH) -> int:
    """Apply the workspace's policy as it is now (or its absence) to every open ticket, in
    batches of ``batch`` rows, each batch locked and saved in its own transaction (a ticket
    changed meanwhile is re-read under the lock). Returns the number of tickets updated."""
    now = now or timezone.now()
    policy = active_policy(workspace_id)
    schedule = schedule_of(policy) if policy is not None else None
    last_id, done = 0, 0
    while True:
        with transaction.atomic():
            ids = list(
                Ticket.objects.filter(workspace_id=workspace_id, pk__gt=last_id)
                .exclude(status__in=DONE_STATUSES)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return done
            rows = list(Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
            untracked = [t.pk for t in rows if not _tracked(t) and t.first_responded_at is None]
            first_replies = _first_staff_replies(workspace_id, untracked) if untracked and policy else {}
            for ticket in rows:
                _apply_one(ticket, policy, schedule, now, first_replies)
            Ticket.objects.bulk_update(rows, SLA_FIELDS)
            done += len(rows)
        last_id = ids[-1]


@shared_task(name="tickets.sla_apply_policy")
def policy_apply_task(workspace_id: int) -> int:
    return policy_apply(workspace_id=workspace_id)


# Breaches ---------------------------------------------------------------------------------------


def _record_breach(ticket: Ticket, now) -> bool:
    kind = running_kind(ticket)
    if kind is None:
        return False
    # The claim: only the run whose UPDATE still finds the breach unrecorded goes on.
    claimed = Ticket.objects.filter(pk=ticket.pk, sla_breach_check_at=ticket.sla_breach_check_at).update(
        sla_breach_check_at=None, **{f"{kind}_breached_at": now}
    )
    if not claimed:
        return False
    events.sla_breached(ticket=ticket, target=kind, due_at=ticket.sla_due_at)
    notifications.notify_sla_breached(ticket=ticket)
    transaction.on_commit(lambda: realtime.broadcast_ticket(ticket, public=False), robust=True)
    return True


def breaches_detect(*, now=None, batch: int = BREACH_BATCH) -> int:
    """Record every running target whose due time has passed and email the people who answer
    the ticket. Safe to run twice at once: rows another run holds are skipped (``SKIP LOCKED``
    on PostgreSQL) and each breach is claimed by a conditional UPDATE. Returns how many."""
    now = now or timezone.now()
    found = 0
    for _ in range(BREACH_MAX_BATCHES):
        with transaction.atomic():
            rows = list(
                Ticket.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("workspace")
                .filter(sla_breach_check_at__lte=now)
                .order_by("sla_breach_check_at")[:batch]
            )
            found += sum(_record_breach(ticket, now) for ticket in rows)
        if len(rows) < batch:
            break
    return found


@shared_task(name="tickets.sla_detect_breaches")
def breaches_detect_task() -> int:
    return breaches_detect()


# Attainment (the reports' "SLA attainment" row) -------------------------------------------------


def attainment(workspace, since: datetime, until: datetime, queue_ids=None) -> dict:
    """Targets met out of targets decided, for tickets whose due time fell in [since, until).

    ``{"first_response": {"met": m, "total": n}, "resolution": {"met": m, "total": n}}``. A
    target is decided once it was met (answered or resolved, on time or late) or its due time
    passed while the clock ran; one still running (or paused) counts nowhere yet. One query.
    """
    now = timezone.now()
    tickets = Ticket.objects.filter(workspace_id=workspace.pk)
    if queue_ids is not None:
        tickets = tickets.filter(queue_id__in=list(queue_ids))
    in_fr = Q(first_response_due_at__gte=since, first_response_due_at__lt=until)
    in_res = Q(resolution_due_at__gte=since, resolution_due_at__lt=until)
    running = Q(sla_paused_at__isnull=True)
    fr_met = Q(first_responded_at__isnull=False, first_responded_at__lte=F("first_response_due_at"))
    res_met = Q(sla_resolved_at__isnull=False, sla_resolved_at__lte=F("resolution_due_at"))
    fr_decided = Q(first_responded_at__isnull=False) | (Q(first_response_due_at__lte=now) & running)
    res_decided = Q(sla_resolved_at__isnull=False) | (Q(resolution_due_at__lte=now) & running)
    figures = tickets.filter(in_fr | in_res).aggregate(
        fr_total=Count("pk", filter=in_fr & fr_decided),
        fr_met=Count("pk", filter=in_fr & fr_met),
        res_total=Count("pk", filter=in_res & res_decided),
        res_met=Count("pk", filter=in_res & res_met),
    )
    return {
        "first_response": {"met": figures["fr_met"], "total": figures["fr_total"]},
        "resolution": {"met": figures["res_met"], "total": figures["res_total"]},
    }
