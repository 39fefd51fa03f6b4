"""The retention kind workspaces owns (inactive requester accounts), registered in
``WorkspacesConfig.ready()``, and the reads the retention preview and sweep need about
workspaces and their people.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from privacy.personal_data.retention_kinds import (
    Batch,
    HoldSet,
    RetentionKind,
    cutoff,
    none_of,
    register_retention_kind,
    requester_expiry_hooks,
    requesters_expiry_hooks,
    split_held,
)
from workspaces.models import Membership, Role, User, Workspace
from workspaces.services import member_remove, member_remove_many

REQUESTERS = "requesters"


def workspaces_in_order():
    """Every workspace, in the order the preview lists and the sweep walks them."""
    return Workspace.objects.order_by("pk")


def workspaces_of_people(user_ids) -> dict[int, list[int]]:
    """``{user_id: [workspace_id, ...]}``: the workspaces each person is a member of."""
    found: dict[int, list[int]] = {}
    for user_id, workspace_id in Membership.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "workspace_id"
    ):
        found.setdefault(user_id, []).append(workspace_id)
    return found


def due_requesters(workspace_id: int, policy, holds: HoldSet, now):
    """Requester memberships whose person has not signed in (or, never signed in, joined)
    before the cutoff."""
    limit = cutoff(policy.requesters_days, now)
    if limit is None:
        return none_of(Membership), none_of(Membership)
    expired = Membership.objects.filter(workspace_id=workspace_id, role=Role.REQUESTER).filter(
        Q(user__last_login__lt=limit) | Q(user__last_login__isnull=True, user__date_joined__lt=limit)
    )
    return split_held(expired, holds, Q(user_id__in=sorted(holds.user_ids)) if holds.user_ids else None)


def requester_expire(batch: Batch, membership) -> dict[str, int]:
    """An inactive requester leaves the workspace: the apps holding their data there remove it
    first (tickets: their tickets anonymized, words redacted, files deleted), then their
    membership ends (``member.removed``). A person left in no workspace is erased through account
    erasure's own path (``batch.erase_account``). Runs inside the batch's transaction."""
    user_id = membership.user_id
    counts: dict[str, int] = {}
    for expire in requester_expiry_hooks():
        for key, value in expire(batch, user_id).items():
            counts[key] = counts.get(key, 0) + value
    member_remove(membership=membership, actor=None)
    user = User.objects.select_for_update().get(pk=user_id)
    if not Membership.objects.filter(user_id=user_id).exists() and user.is_active and not user.is_superuser:
        batch.erase_account(user)
        counts["accounts_erased"] = 1
    return counts


def requesters_act(batch: Batch) -> int:
    """``requester_expire`` for the whole batch, set-based: the apps' expiry hooks take all the
    batch's people at once, then each membership ends (``member.removed`` each), then the
    people left in no workspace are erased together (``batch.erase_accounts``)."""
    memberships = list(
        Membership.objects.filter(pk__in=batch.ids).select_related("user", "workspace").order_by("pk")
    )
    user_ids = [membership.user_id for membership in memberships]
    for expire in requesters_expiry_hooks():
        expire(batch, user_ids)
    member_remove_many(memberships=memberships, actor=None)
    still_members = set(Membership.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    users = list(
        User.objects.select_for_update()
        .filter(pk__in=[u for u in user_ids if u not in still_members], is_active=True, is_superuser=False)
        .order_by("pk")
    )
    if users and batch.erase_accounts is not None:
        batch.erase_accounts(users)
    else:
        for user in users:
            batch.erase_account(user)
    return len(batch.ids)


KIND = RetentionKind(
    name=REQUESTERS,
    label=_("Inactive requester accounts"),
    help=(
        "Counted from the person's last sign-in. They leave the workspace and their tickets here are "
        "anonymized; an account left in no workspace is erased."
    ),
    days_field="requesters_days",
    position=40,
    action="removed and anonymized",
    due=due_requesters,
    act=requesters_act,
)


def register_retention() -> None:
    register_retention_kind(KIND)
