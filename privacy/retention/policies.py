"""Retention policies and what they make due: one function per kind of data, shared by the
preview (the retention page, ``enforce_retention --dry-run``) and the sweep (privacy/retention/sweep.py).

Each kind has a selector ``due_<kind>(workspace_id, policy, holds, now)`` returning
``(due, spared)``: the rows the next run acts on, and the expired rows a legal hold keeps. The
kinds are disjoint, so acting on one never changes another's count: notes and attachments on a
ticket that is itself due are counted (and removed) with the ticket. The sweep acts on the kinds
in ``KINDS`` order and locks the rows it takes with the same querysets, so the preview at
``now`` is exactly what a run as of ``now`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from privacy.audit import actions
from privacy.audit.log import audit_record
from privacy.retention.holds import HoldSet, attachment_held_q, holds_in, message_held_q, ticket_held_q
from privacy.retention.models import AttachmentBasis, RetentionPolicy, TicketAction

TICKETS, NOTES, ATTACHMENTS, REQUESTERS, EXPORTS, AUDIT_EVENTS = (
    "tickets",
    "notes",
    "attachments",
    "requesters",
    "exports",
    "audit_events",
)
# The order the sweep acts in (tickets first: their notes and files go with them).
KINDS = (TICKETS, NOTES, ATTACHMENTS, REQUESTERS, EXPORTS, AUDIT_EVENTS)
DAYS_FIELD = {
    TICKETS: "tickets_days",
    NOTES: "notes_days",
    ATTACHMENTS: "attachments_days",
    REQUESTERS: "requesters_days",
    EXPORTS: "exports_days",
    AUDIT_EVENTS: "audit_days",
}
KIND_LABELS = {
    TICKETS: "Closed tickets",
    NOTES: "Internal notes",
    ATTACHMENTS: "Attachments",
    REQUESTERS: "Inactive requester accounts",
    EXPORTS: "Finished exports",
    AUDIT_EVENTS: "Audit events",
}
KIND_HELP = {
    TICKETS: "Counted from the ticket's closing.",
    NOTES: "Counted from when the note was written; the note's text is replaced by a marker.",
    ATTACHMENTS: "Counted from upload (or from the ticket's closing); the file is deleted from storage.",
    REQUESTERS: (
        "Counted from the person's last sign-in. They leave the workspace and their tickets here are "
        "anonymized; an account left in no workspace is erased."
    ),
    EXPORTS: "Personal-data export archives of this workspace's members, counted from when they were ready.",
    AUDIT_EVENTS: "The oldest events of this workspace's audit log are deleted; the chain still verifies.",
}
POLICY_WORDS = (
    "Personal data is kept as long as necessary for the purpose it was collected for, "
    "then anonymized or securely deleted."
)
MAX_DAYS = 36500


def policy_defaults() -> dict:
    return {
        name: RetentionPolicy._meta.get_field(name).default
        for name in (*DAYS_FIELD.values(), "tickets_action", "attachments_basis")
    }


def policy_for(workspace, *, create: bool = False) -> RetentionPolicy:
    """The workspace's policy; without a row, the defaults (saved only with ``create``)."""
    policy = RetentionPolicy.objects.filter(workspace_id=workspace.pk).first()
    if policy is None:
        policy = RetentionPolicy(workspace_id=workspace.pk)
        if create:
            policy.full_clean()
            policy.save()
    return policy


def policies_by_workspace(workspace_ids) -> dict[int, RetentionPolicy]:
    found = {p.workspace_id: p for p in RetentionPolicy.objects.filter(workspace_id__in=list(workspace_ids))}
    return {wid: found.get(wid) or RetentionPolicy(workspace_id=wid) for wid in workspace_ids}


def policy_values(policy: RetentionPolicy) -> dict:
    return {
        name: getattr(policy, name) for name in (*DAYS_FIELD.values(), "tickets_action", "attachments_basis")
    }


def cutoff(days: int | None, now):
    return None if days is None else now - timedelta(days=days)


def shortened_kinds(old: dict, new: dict) -> list[str]:
    """Kinds whose period the change shortens (a number after forever, or fewer days), plus
    attachments when the basis changes (it can bring files forward)."""
    kinds = []
    for kind, name in DAYS_FIELD.items():
        before, after = old[name], new[name]
        if after is not None and (before is None or after < before):
            kinds.append(kind)
    if new["attachments_basis"] != old["attachments_basis"] and ATTACHMENTS not in kinds:
        kinds.append(ATTACHMENTS)
    return kinds


@transaction.atomic
def policy_update(*, workspace, actor, values: dict, request=None) -> RetentionPolicy:
    """Save new periods (days or ``None`` for forever) and actions. Audits ``settings.changed``
    with ``{"setting": "retention", "old": {...}, "new": {...}}`` (only what changed)."""
    policy = RetentionPolicy.objects.select_for_update().filter(workspace_id=workspace.pk).first()
    if policy is None:
        policy_for(workspace, create=True)
        policy = RetentionPolicy.objects.select_for_update().get(workspace_id=workspace.pk)
    old = policy_values(policy)
    for name, value in values.items():
        if name not in old:
            raise ValidationError(f"Unknown retention setting {name!r}.")
        setattr(policy, name, value)
    policy.updated_at = timezone.now()
    policy.updated_by = actor
    policy.full_clean()
    new = policy_values(policy)
    changed = {name for name in new if new[name] != old[name]}
    policy.save()
    if changed:
        audit_record(
            action=actions.SETTINGS_CHANGED,
            request=request,
            actor=actor,
            workspace=workspace,
            target=policy,
            detail={
                "setting": "retention",
                "old": {name: old[name] for name in sorted(changed)},
                "new": {name: new[name] for name in sorted(changed)},
            },
        )
    return policy


# What is due ---------------------------------------------------------------------------------------------


def _none(model):
    return model._base_manager.none()


def _split(expired, holds: HoldSet, held: Q | None):
    """``(due, spared)``: a workspace hold spares all of ``expired``; otherwise the rows
    matching ``held`` are spared (none when ``held`` is None: nothing is held)."""
    if holds.workspace:
        return _none(expired.model), expired
    if held is None:
        return expired, _none(expired.model)
    return expired.exclude(held), expired.filter(held)


def due_tickets(workspace_id: int, policy: RetentionPolicy, holds: HoldSet, now):
    from tickets.models import Status, Ticket

    limit = cutoff(policy.tickets_days, now)
    if limit is None:
        return _none(Ticket), _none(Ticket)
    expired = Ticket.objects.filter(
        workspace_id=workspace_id, status=Status.CLOSED, closed_at__lt=limit, anonymized_at__isnull=True
    )
    return _split(expired, holds, ticket_held_q(holds) if holds else None)


def _on_due_ticket(workspace_id, policy, holds, now):
    """True for a row whose ticket is itself due (its whole ticket goes, so it is counted there).

    An EXISTS anti-join: "ticket_id NOT IN (a million ids)" makes PostgreSQL rescan the list for
    every row once it no longer fits in memory (minutes at 1M tickets).
    """
    due, _ = due_tickets(workspace_id, policy, holds, now)
    return Exists(due.filter(pk=OuterRef("ticket_id")))


def due_notes(workspace_id: int, policy: RetentionPolicy, holds: HoldSet, now):
    from privacy.account.anonymizers import RETENTION_MESSAGE
    from tickets.models import Message, MessageKind

    limit = cutoff(policy.notes_days, now)
    if limit is None:
        return _none(Message), _none(Message)
    expired = (
        Message.objects.filter(workspace_id=workspace_id, kind=MessageKind.NOTE, created_at__lt=limit)
        .exclude(body=RETENTION_MESSAGE)
        .exclude(_on_due_ticket(workspace_id, policy, holds, now))
    )
    return _split(expired, holds, message_held_q(workspace_id, holds) if holds else None)


def due_attachments(workspace_id: int, policy: RetentionPolicy, holds: HoldSet, now):
    from tickets.models import Attachment, Status

    limit = cutoff(policy.attachments_days, now)
    if limit is None:
        return _none(Attachment), _none(Attachment)
    expired = Attachment.objects.filter(workspace_id=workspace_id)
    if policy.attachments_basis == AttachmentBasis.CLOSED:
        expired = expired.filter(ticket__status=Status.CLOSED, ticket__closed_at__lt=limit)
    else:
        expired = expired.filter(created_at__lt=limit)
    expired = expired.exclude(_on_due_ticket(workspace_id, policy, holds, now))
    return _split(expired, holds, attachment_held_q(workspace_id, holds) if holds else None)


def due_requesters(workspace_id: int, policy: RetentionPolicy, holds: HoldSet, now):
    """Requester memberships whose person has not signed in (or, never signed in, joined)
    before the cutoff."""
    from workspaces.models import Membership, Role

    limit = cutoff(policy.requesters_days, now)
    if limit is None:
        return _none(Membership), _none(Membership)
    expired = Membership.objects.filter(workspace_id=workspace_id, role=Role.REQUESTER).filter(
        Q(user__last_login__lt=limit) | Q(user__last_login__isnull=True, user__date_joined__lt=limit)
    )
    return _split(expired, holds, Q(user_id__in=sorted(holds.user_ids)) if holds.user_ids else None)


def export_attribution(now, *, holds_by_workspace: dict | None = None) -> dict[int, tuple[list, list]]:
    """Finished exports are the person's, not a workspace's: each is counted in the workspace
    (of its owner's memberships) with the shortest export period, the lowest id on a tie.
    Returns ``{workspace_id: (due ids, spared ids)}``. Exports are few (one per request, and
    they expire in days), so this is computed in Python."""
    from privacy.account.models import DataExport
    from privacy.retention.holds import person_held_anywhere
    from workspaces.models import Membership

    exports = list(
        DataExport.objects.filter(finished_at__isnull=False).values_list("pk", "user_id", "finished_at")
    )
    if not exports:
        return {}
    owners = {user_id for _, user_id, _ in exports}
    workspaces_of: dict[int, list[int]] = {}
    for user_id, workspace_id in Membership.objects.filter(user_id__in=owners).values_list(
        "user_id", "workspace_id"
    ):
        workspaces_of.setdefault(user_id, []).append(workspace_id)
    policies = policies_by_workspace({w for ids in workspaces_of.values() for w in ids})
    held_people = person_held_anywhere(owners, now=now)
    holds_by_workspace = holds_by_workspace if holds_by_workspace is not None else {}
    result: dict[int, tuple[list, list]] = {}
    for pk, user_id, finished_at in exports:
        candidates = [
            (policies[w].exports_days, w)
            for w in workspaces_of.get(user_id, [])
            if policies[w].exports_days is not None
        ]
        if not candidates:
            continue
        days, workspace_id = min(candidates)
        if finished_at >= now - timedelta(days=days):
            continue
        if workspace_id not in holds_by_workspace:
            holds_by_workspace[workspace_id] = holds_in(workspace_id, now=now)
        spared = user_id in held_people or holds_by_workspace[workspace_id].workspace
        due_ids, spared_ids = result.setdefault(workspace_id, ([], []))
        (spared_ids if spared else due_ids).append(pk)
    return result


def due_exports(workspace_id: int, policy: RetentionPolicy, holds: HoldSet, now):
    from privacy.account.models import DataExport

    due_ids, spared_ids = export_attribution(now, holds_by_workspace={workspace_id: holds}).get(
        workspace_id, ([], [])
    )
    return DataExport.objects.filter(pk__in=due_ids), DataExport.objects.filter(pk__in=spared_ids)


@dataclass(frozen=True)
class AuditCut:
    """The audit purge of one workspace chain: events created before ``before`` go; the ones
    between ``before`` and ``cutoff`` are kept by holds."""

    before: object | None
    due: int
    spared: int


def audit_cut(workspace_id: int, policy: RetentionPolicy, holds: HoldSet, now) -> AuditCut:
    """The purge deletes a prefix of the chain, so a hold on a person or ticket moves the cut to
    just before the first event about them."""
    from privacy.audit.log import chain_for
    from privacy.audit.models import AuditEvent
    from workspaces.models import Workspace

    limit = cutoff(policy.audit_days, now)
    if limit is None:
        return AuditCut(None, 0, 0)
    events = AuditEvent.objects.filter(chain=chain_for(Workspace(pk=workspace_id)))
    expired = events.filter(created_at__lt=limit).count()
    if holds.workspace:
        return AuditCut(None, 0, expired)
    before = limit
    if holds:
        about = Q(target_type="tickets.ticket", target_id__in=[str(t) for t in sorted(holds.ticket_ids)])
        if holds.user_ids:
            users = sorted(holds.user_ids)
            about |= Q(actor_id__in=users) | Q(
                target_type="workspaces.user", target_id__in=[str(u) for u in users]
            )
            from tickets.models import Ticket

            tickets = Ticket.objects.filter(workspace_id=workspace_id).filter(ticket_held_q(holds))
            about |= Q(
                target_type="tickets.ticket",
                target_id__in=[str(t) for t in tickets.values_list("pk", flat=True)],
            )
        first = (
            events.filter(about, created_at__lt=limit)
            .order_by("seq")
            .values_list("created_at", flat=True)
            .first()
        )
        if first is not None:
            before = first
    due = events.filter(created_at__lt=before).count()
    return AuditCut(before if due else None, due, expired - due)


SELECTORS = {
    TICKETS: due_tickets,
    NOTES: due_notes,
    ATTACHMENTS: due_attachments,
    REQUESTERS: due_requesters,
    EXPORTS: due_exports,
}


# The preview ---------------------------------------------------------------------------------------------


def preview_workspace(workspace, *, now=None, policy: RetentionPolicy | None = None) -> dict[str, dict]:
    """``{kind: {"due": n, "spared": m}}`` for one workspace as of ``now``: what the next run
    does (and what holds keep). ``policy`` lets the page preview an unsaved change."""
    now = now or timezone.now()
    policy = policy or policy_for(workspace)
    holds = holds_in(workspace.pk, now=now)
    counts = {}
    for kind in KINDS:
        if kind == AUDIT_EVENTS:
            cut = audit_cut(workspace.pk, policy, holds, now)
            counts[kind] = {"due": cut.due, "spared": cut.spared}
            continue
        due, spared = SELECTORS[kind](workspace.pk, policy, holds, now)
        counts[kind] = {"due": due.count(), "spared": spared.count()}
    return counts


def preview(*, now=None, workspaces=None) -> dict:
    """The preview of every workspace (``enforce_retention --dry-run``)."""
    from workspaces.models import Workspace

    now = now or timezone.now()
    workspaces = list(workspaces if workspaces is not None else Workspace.objects.order_by("pk"))
    policies = policies_by_workspace([w.pk for w in workspaces])
    return {
        "as_of": now.isoformat(),
        "workspaces": [
            {
                "id": w.pk,
                "slug": w.slug,
                "policy": policy_values(policies[w.pk]),
                "kinds": preview_workspace(w, now=now, policy=policies[w.pk]),
            }
            for w in workspaces
        ],
    }


def kind_rows(policy: RetentionPolicy, counts: dict) -> list[dict]:
    """The retention page's table: one row per kind with its period, action and counts."""
    rows = []
    for kind in KINDS:
        days = getattr(policy, DAYS_FIELD[kind])
        if kind == TICKETS:
            action = "deleted" if policy.tickets_action == TicketAction.DELETE else "anonymized"
        elif kind == NOTES:
            action = "redacted"
        elif kind == REQUESTERS:
            action = "removed and anonymized"
        else:
            action = "deleted"
        rows.append(
            {
                "kind": kind,
                "label": KIND_LABELS[kind],
                "help": KIND_HELP[kind],
                "days": days,
                "action": action,
                "due": counts[kind]["due"],
                "spared": counts[kind]["spared"],
            }
        )
    return rows
