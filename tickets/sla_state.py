"""What a ticket's service-level columns mean right now: read from the row alone (no policy, no
calendar, no query), so the list, live rows, the ticket page and emails can all show it.

"Breaching soon" starts when a quarter of the target's business time is left (``sla_warn_at``,
worked out by ``tickets.sla`` with the calendar when the target is set): for a one-hour first
response that is the last 15 business minutes, for a 24-business-hour resolution the last six.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"

# States of one target.
ON_TRACK = "on_track"
SOON = "soon"
BREACHED = "breached"
PAUSED = "paused"
MET = "met"
MISSED = "missed"  # done, but after its due time


@dataclass(frozen=True)
class Target:
    kind: str
    due_at: datetime | None
    state: str
    done_at: datetime | None = None


def running_kind(ticket) -> str | None:
    """The target the clock runs for: first response until answered, then resolution."""
    if ticket.first_response_due_at is not None and ticket.first_responded_at is None:
        return FIRST_RESPONSE
    if ticket.resolution_due_at is not None and ticket.sla_resolved_at is None:
        return RESOLUTION
    return None


def breached_at_of(ticket, kind: str):
    return ticket.first_response_breached_at if kind == FIRST_RESPONSE else ticket.resolution_breached_at


def _state(ticket, kind: str, due, done, now) -> str:
    if done is not None:
        return MET if done <= due else MISSED
    if ticket.sla_paused_at is not None:
        return PAUSED
    if breached_at_of(ticket, kind) is not None or due <= now:
        return BREACHED
    if kind == running_kind(ticket) and ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        return SOON
    return ON_TRACK


def targets(ticket, now=None) -> list[Target]:
    """Both targets of the ticket that have a due time, with their state (the ticket page)."""
    now = now or timezone.now()
    found = []
    if ticket.first_response_due_at is not None:
        due, done = ticket.first_response_due_at, ticket.first_responded_at
        found.append(Target(FIRST_RESPONSE, due, _state(ticket, FIRST_RESPONSE, due, done, now), done))
    if ticket.resolution_due_at is not None:
        due, done = ticket.resolution_due_at, ticket.sla_resolved_at
        found.append(Target(RESOLUTION, due, _state(ticket, RESOLUTION, due, done, now), done))
    return found


def next_due(ticket, now=None) -> Target | None:
    """The running target (the list's "Due" column), or None when nothing is due. A ticket
    waiting in Pending with a target to come back to answers a PAUSED target with no due time."""
    if ticket.sla_due_at is None:
        kind = running_kind(ticket)
        if kind is not None and ticket.sla_paused_at is not None and ticket.status == "pending":
            return Target(kind, None, PAUSED)
        return None
    now = now or timezone.now()
    kind = running_kind(ticket) or RESOLUTION
    return Target(kind, ticket.sla_due_at, _state(ticket, kind, ticket.sla_due_at, None, now))
