""" "Who saw my data": which workspace roles read or changed a person's tickets and data, from the
audit log.

Reads of a ticket are audited already (``ticket.viewed``, written when an agent or admin opens
the ticket page, at most once per person, ticket and hour, events.VIEWED_WINDOW); changes are the
ticket events and the events about the person (role, restriction, data requests). The person
sees the workspace, the role of whoever acted (their role there now) and when; the individual's
name only where the workspace allows it (``Workspace.reveal_viewer_names``). Their own acts are
left out. The tickets are reached through the personal-data registry (what tickets registered),
never by importing tickets.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from privacy.audit import actions
from privacy.audit.models import AuditEvent
from privacy.audit.selectors import USER_TARGET_TYPE
from privacy.personal_data import registry
from workspaces.models import Membership, Workspace

LIMIT = 50
TICKET_TARGET_TYPE = "tickets.ticket"

# What each event means to the person whose data it touched.
TICKET_ACTIONS = {
    actions.TICKET_VIEWED: _("read your ticket"),
    actions.TICKET_STATUS_CHANGED: _("changed the status of your ticket"),
    actions.TICKET_PRIORITY_CHANGED: _("changed your ticket"),
    actions.TICKET_QUEUE_CHANGED: _("moved your ticket"),
    actions.TICKET_ASSIGNED: _("assigned your ticket"),
    actions.PARTICIPANT_ADDED: _("added someone to your ticket"),
    actions.PARTICIPANT_REMOVED: _("removed someone from your ticket"),
}
PERSON_ACTIONS = {
    actions.MEMBER_ROLE_CHANGED: _("changed your role"),
    actions.MEMBER_RESTRICTED: _("restricted the processing of your data"),
    actions.MEMBER_RESTRICTION_RELEASED: _("released the restriction of your data"),
}


@dataclass(frozen=True)
class Access:
    at: datetime
    workspace: str
    who: str
    what: str
    ticket: int | None


def _own_tickets(user) -> list[tuple[int, int, int]]:
    """(id, workspace id, number) of the tickets the person requested or takes part in."""
    try:
        entry = registry.entry_for("tickets.Ticket")
    except LookupError:
        return []
    return list(entry.rows_of(user).values_list("pk", "workspace_id", "number")[:5000])


def accesses_of(user, *, limit: int = LIMIT) -> list[Access]:
    """The newest reads and changes by others of the person's tickets and data. Two queries (the
    person's tickets, the events), plus one for the workspaces and one for the actors' roles
    when there are events."""
    tickets = _own_tickets(user)
    numbers = {(workspace_id, str(pk)): number for pk, workspace_id, number in tickets}
    about = Q(target_type=USER_TARGET_TYPE, target_id=str(user.pk), action__in=list(PERSON_ACTIONS))
    if tickets:
        about |= Q(
            target_type=TICKET_TARGET_TYPE,
            target_id__in=[str(pk) for pk, _w, _n in tickets],
            action__in=list(TICKET_ACTIONS),
        )
    rows = list(
        AuditEvent.objects.filter(about)
        .exclude(workspace_id__isnull=True)
        .exclude(actor_id=user.pk)
        .only("created_at", "workspace_id", "actor_id", "actor_label", "action", "target_id")
        .order_by("-id")[:limit]
    )
    workspace_ids = {e.workspace_id for e in rows}
    workspaces = {w.pk: w for w in Workspace.objects.filter(pk__in=workspace_ids)}
    roles = {
        (m.workspace_id, m.user_id): m.get_role_display()
        for m in Membership.objects.filter(
            workspace_id__in=workspace_ids, user_id__in={e.actor_id for e in rows if e.actor_id}
        )
    }
    found = []
    for event in rows:
        workspace = workspaces.get(event.workspace_id)
        if workspace is None:
            continue
        role = roles.get((event.workspace_id, event.actor_id)) or _("Former member")
        who = f"{role} ({event.actor_label})" if workspace.reveal_viewer_names and event.actor_label else role
        what = TICKET_ACTIONS.get(event.action) or PERSON_ACTIONS.get(event.action, event.action)
        found.append(
            Access(
                at=event.created_at,
                workspace=workspace.name,
                who=str(who),
                what=str(what),
                ticket=numbers.get((event.workspace_id, event.target_id)),
            )
        )
    return found
