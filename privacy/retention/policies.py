"""Retention policies and what they make due, shared by the preview (the retention page,
``enforce_retention --dry-run``) and the sweep (privacy/retention/sweep.py).

The kinds of data are registered by the apps that own them (privacy/personal_data/retention_kinds.py):
closed tickets, internal notes and attachments by tickets, inactive requesters by workspaces,
finished exports and audit events by privacy (here). Each batched kind has a selector
``due(workspace_id, policy, holds, now)`` returning ``(due, spared)``: the rows the next run acts
on, and the expired rows a legal hold keeps. The kinds are disjoint, so acting on one never
changes another's count. The sweep acts on the kinds in their registered order and locks the
rows it takes with the same querysets, so the preview at ``now`` is exactly what a run as of
``now`` does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from helpdesk.storage import delete_stored_file_on_commit
from privacy.account.models import DataExport
from privacy.audit import events
from privacy.audit.log import chain_for
from privacy.audit.maintenance import audit_events_purge
from privacy.audit.models import AuditEvent
from privacy.personal_data.retention_kinds import (
    Batch,
    HoldSet,
    RetentionKind,
    cutoff,
    hold_lookups,
    register_retention_kind,
    retention_kind,
    retention_kinds,
)
from privacy.retention.account_kinds import account_preview
from privacy.retention.holds import holds_in, person_held_anywhere
from privacy.retention.models import RetentionPolicy
from workspaces.retention_kinds import REQUESTERS, workspaces_in_order, workspaces_of_people

EXPORTS, AUDIT_EVENTS = "exports", "audit_events"


def kind_names() -> tuple[str, ...]:
    """The registered kinds' names in the sweep's order (apps register them in ready())."""
    return tuple(kind.name for kind in retention_kinds())


def days_fields() -> dict[str, str]:
    """``{kind name: the RetentionPolicy field holding its period}``."""
    return {kind.name: kind.days_field for kind in retention_kinds()}


POLICY_WORDS = gettext_lazy(
    "Personal data is kept as long as necessary for the purpose it was collected for, "
    "then anonymized or securely deleted."
)
MAX_DAYS = 36500


def policy_defaults() -> dict:
    return {
        name: RetentionPolicy._meta.get_field(name).default
        for name in (*days_fields().values(), "tickets_action", "attachments_basis", "erasure_files")
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


def erasure_file_actions(workspace_ids) -> dict[int, str]:
    return {wid: policy.erasure_files for wid, policy in policies_by_workspace(list(workspace_ids)).items()}


def policy_values(policy: RetentionPolicy) -> dict:
    names = (*days_fields().values(), "tickets_action", "attachments_basis", "erasure_files")
    return {name: getattr(policy, name) for name in names}


def shortened_kinds(old: dict, new: dict) -> list[str]:
    """Kinds whose period the change shortens (a number after forever, or fewer days), plus
    attachments when the basis changes (it can bring files forward)."""
    kinds = []
    for kind, name in days_fields().items():
        before, after = old[name], new[name]
        if after is not None and (before is None or after < before):
            kinds.append(kind)
    for kind in retention_kinds():
        if kind.name not in kinds and any(new[name] != old[name] for name in kind.moved_by):
            kinds.append(kind.name)
    return kinds


POLICY_CHANGED_SINCE = gettext_lazy(
    "Another admin changed the retention settings since you opened this page, so nothing was saved. "
    "The table above shows the settings now; your choices are kept in the form: check them and save again."
)


def policy_version(policy: RetentionPolicy) -> str:
    """A fingerprint of the settings a form showed: a save made against other settings is
    refused (issue 17) instead of silently undoing another admin's change."""
    # str(): a default still in memory holds choices enums, a row read back plain strings.
    values = sorted(
        (name, None if value is None else str(value)) for name, value in policy_values(policy).items()
    )
    return hashlib.sha256(repr(values).encode()).hexdigest()[:32]


@transaction.atomic
def policy_update(
    *, workspace, actor, values: dict, request=None, seen_version: str | None = None
) -> RetentionPolicy:
    """Save new periods (days or ``None`` for forever) and actions. Audits ``settings.changed``
    with ``{"setting": "retention", "old": {...}, "new": {...}}`` (only what changed).
    With ``seen_version`` (``policy_version`` of the settings shown), settings changed since
    refuse the save (``POLICY_CHANGED_SINCE``, code ``changed_since``)."""
    policy = RetentionPolicy.objects.select_for_update().filter(workspace_id=workspace.pk).first()
    if policy is None:
        policy_for(workspace, create=True)
        policy = RetentionPolicy.objects.select_for_update().get(workspace_id=workspace.pk)
    if seen_version is not None and seen_version != policy_version(policy):
        raise ValidationError(POLICY_CHANGED_SINCE, code="changed_since")
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
        events.retention_settings_changed(
            policy=policy,
            workspace=workspace,
            old={name: old[name] for name in sorted(changed)},
            new={name: new[name] for name in sorted(changed)},
            actor=actor,
            request=request,
        )
    return policy


# The kinds privacy owns: finished exports and the audit log -------------------------------------------


def _memberships_leaving(owners, workspaces_of: dict, policies: dict, holds_by_workspace: dict, now) -> set:
    """``{(user_id, workspace_id)}``: the owners' memberships the inactive-requester kind ends
    in a run as of ``now`` (it acts before the exports kind)."""
    try:
        requesters = retention_kind(REQUESTERS)
    except KeyError:
        return set()
    leaving = set()
    for workspace_id in sorted({w for ids in workspaces_of.values() for w in ids}):
        if workspace_id not in holds_by_workspace:
            holds_by_workspace[workspace_id] = holds_in(workspace_id, now=now)
        due, _spared = requesters.due(
            workspace_id, policies[workspace_id], holds_by_workspace[workspace_id], now
        )
        leaving |= set(due.filter(user_id__in=owners).values_list("user_id", "workspace_id"))
    return leaving


def export_attribution(now, *, holds_by_workspace: dict | None = None) -> dict[int, tuple[list, list]]:
    """Finished exports are the person's, not a workspace's: each is counted in the workspace
    (of its owner's memberships) with the shortest export period, the lowest id on a tie.
    Returns ``{workspace_id: (due ids, spared ids)}``. Exports are few (one per request, and
    they expire in days), so this is computed in Python.

    Only memberships that outlive the run count: the inactive-requester kind runs first, so a
    membership it ends would attribute an export to a workspace whose exports the run has
    already passed (or, ending the last one, erase the account and its exports under that
    kind's count). The preview and the run therefore count the same exports."""
    exports = list(
        DataExport.objects.filter(finished_at__isnull=False).values_list("pk", "user_id", "finished_at")
    )
    if not exports:
        return {}
    owners = {user_id for _, user_id, _ in exports}
    workspaces_of = workspaces_of_people(owners)
    policies = policies_by_workspace({w for ids in workspaces_of.values() for w in ids})
    held_people = person_held_anywhere(owners, now=now)
    holds_by_workspace = holds_by_workspace if holds_by_workspace is not None else {}
    leaving = _memberships_leaving(owners, workspaces_of, policies, holds_by_workspace, now)
    result: dict[int, tuple[list, list]] = {}
    for pk, user_id, finished_at in exports:
        candidates = [
            (policies[w].exports_days, w)
            for w in workspaces_of.get(user_id, [])
            if policies[w].exports_days is not None and (user_id, w) not in leaving
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


def export_file_names(ids) -> list[str]:
    return list(DataExport.objects.filter(pk__in=ids).values_list("file", flat=True))


def exports_delete(batch: Batch) -> int:
    for name in export_file_names(batch.ids):
        if name:
            delete_stored_file_on_commit(storage=default_storage, name=name)
    DataExport.objects.filter(pk__in=batch.ids).delete()
    return len(batch.ids)


def audit_cut(workspace, policy: RetentionPolicy, holds: HoldSet, now) -> AuditCut:
    """The purge deletes a prefix of the chain, so a hold on a person or ticket moves the cut to
    just before the first event about them (or about what the holds cover)."""
    limit = cutoff(policy.audit_days, now)
    if limit is None:
        return AuditCut(None, 0, 0)
    chain = AuditEvent.objects.filter(chain=chain_for(workspace))
    expired = chain.filter(created_at__lt=limit).count()
    if holds.workspace:
        return AuditCut(None, 0, expired)
    before = limit
    if holds:
        about = Q(pk__in=[])
        for target_type, target_ids in hold_lookups().audit_targets(workspace.pk, holds).items():
            about |= Q(target_type=target_type, target_id__in=target_ids)
        if holds.user_ids:
            users = sorted(holds.user_ids)
            about |= Q(actor_id__in=users) | Q(
                target_type="workspaces.user", target_id__in=[str(u) for u in users]
            )
        # The oldest held event by time, not by seq: a late committer is sealed after younger
        # rows, and the purge keeps everything created at or after ``before``.
        first = (
            chain.filter(about, created_at__lt=limit)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if first is not None:
            before = first
    due = chain.filter(created_at__lt=before).count()
    return AuditCut(before if due else None, due, expired - due)


def audit_purge(workspace, cut: AuditCut) -> int:
    if cut.before is None:
        return 0
    event = audit_events_purge(workspace=workspace, before=cut.before)
    return event.detail["deleted"] if event is not None else 0


PRIVACY_KINDS = (
    RetentionKind(
        name=EXPORTS,
        label=gettext_lazy("Finished exports"),
        help="Personal-data export archives of this workspace's members, counted from when they were ready.",
        days_field="exports_days",
        position=50,
        due=due_exports,
        act=exports_delete,
        file_names=export_file_names,
    ),
    RetentionKind(
        name=AUDIT_EVENTS,
        label=gettext_lazy("Audit events"),
        help="The oldest events of this workspace's audit log are deleted; the chain still verifies.",
        days_field="audit_days",
        position=60,
        cut=audit_cut,
        purge=audit_purge,
    ),
)


def register_retention() -> None:
    for kind in PRIVACY_KINDS:
        register_retention_kind(kind)


# The preview ---------------------------------------------------------------------------------------------


def preview_workspace(workspace, *, now=None, policy: RetentionPolicy | None = None) -> dict[str, dict]:
    """``{kind: {"due": n, "spared": m}}`` for one workspace as of ``now``: what the next run
    does (and what holds keep). ``policy`` lets the page preview an unsaved change."""
    now = now or timezone.now()
    policy = policy or policy_for(workspace)
    holds = holds_in(workspace.pk, now=now)
    counts = {}
    for kind in retention_kinds():
        if kind.cut is not None:
            cut = kind.cut(workspace, policy, holds, now)
            counts[kind.name] = {"due": cut.due, "spared": cut.spared}
            continue
        due, spared = kind.due(workspace.pk, policy, holds, now)
        counts[kind.name] = {"due": due.count(), "spared": spared.count()}
    return counts


def preview(*, now=None, workspaces=None) -> dict:
    """The preview of every workspace (``enforce_retention --dry-run``)."""
    now = now or timezone.now()
    workspaces = list(workspaces if workspaces is not None else workspaces_in_order())
    policies = policies_by_workspace([w.pk for w in workspaces])
    return {
        "as_of": now.isoformat(),
        "account": account_preview(now),
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
    return [
        {
            "kind": kind.name,
            "label": kind.label,
            "help": kind.help,
            "days": getattr(policy, kind.days_field),
            "action": kind.action_for(policy),
            "due": counts[kind.name]["due"],
            "spared": counts[kind.name]["spared"],
        }
        for kind in retention_kinds()
    ]
