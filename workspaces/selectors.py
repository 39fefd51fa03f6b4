"""Reads for the workspace admin pages. Every function takes the workspace (or the acting
membership) and never returns another workspace's rows. Single rows by id are fetched with
``workspaces.access.get_<thing>_or_404``: a foreign id answers 404 exactly like a missing one."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from helpdesk.tokens import hash_token

# memberships_of lives with the access check, which reads it with the current membership.
from workspaces.access import memberships_of, queue_grants  # noqa: F401
from workspaces.models import Invitation, Membership, Queue, Role, User, Workspace


@dataclass
class MemberRow:
    membership: Membership
    queues: list[Queue] = field(default_factory=list)


def _grants_by_user(workspace_id: int, user_ids=None) -> dict[int, list[Queue]]:
    grants = (
        queue_grants(workspace_id=workspace_id)
        .select_related("content_object")
        .order_by("content_object__name")
    )
    if user_ids is not None:
        grants = grants.filter(user_id__in=user_ids)
    by_user: dict[int, list[Queue]] = defaultdict(list)
    for grant in grants:
        by_user[grant.user_id].append(grant.content_object)
    return by_user


def member_rows(*, workspace) -> list[MemberRow]:
    """Members with their granted queues, admins first. Two queries whatever the size."""
    memberships = list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("role", "user__display_name", "user__email")
    )
    grants = _grants_by_user(workspace.pk)
    return [
        MemberRow(membership=m, queues=grants.get(m.user_id, []) if m.role == Role.AGENT else [])
        for m in memberships
    ]


def admin_count(*, workspace) -> int:
    return Membership.objects.filter(workspace=workspace, role=Role.ADMIN).count()


def member_granted_queue_ids(*, membership: Membership) -> set[int]:
    return {q.pk for q in _grants_by_user(membership.workspace_id, [membership.user_id])[membership.user_id]}


def queues_of(*, workspace):
    return Queue.objects.of_workspace(workspace).order_by("name")


# Figures the apps above add to each queue of the admin's Queues page, by name: a callable taking
# ``OuterRef("pk")`` (the queue) and answering a one-value subquery. tickets adds ``open_tickets``.
QUEUE_FIGURES: dict = {}


def queue_figure_register(name: str, subquery_for) -> None:
    QUEUE_FIGURES[name] = subquery_for


def queues_with_counts(*, workspace):
    """Queues with their number of agents granted and the registered figures (open tickets).
    One query: each figure is its own counting subquery, so nothing is joined into a cross
    product."""
    agents = (
        queue_grants()
        .filter(content_object=OuterRef("pk"))
        .order_by()
        .values("content_object")
        .annotate(n=Count("pk"))
        .values("n")
    )
    figures = {
        name: Coalesce(Subquery(subquery_for(OuterRef("pk"))), 0)
        for name, subquery_for in QUEUE_FIGURES.items()
    }
    return (
        Queue.objects.of_workspace(workspace)
        .annotate(agents=Coalesce(Subquery(agents), 0), **figures)
        .order_by("name")
    )


def pending_invitations(*, workspace) -> list[Invitation]:
    """Invitations not yet accepted, revoked or expired, newest first, with their queues."""
    return list(
        Invitation.objects.filter(
            workspace=workspace,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .prefetch_related("queues")
        .order_by("-created_at")
    )


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link's token opens (looked up by its hash), or None."""
    if not token or len(token) > 128:
        return None
    return (
        Invitation.objects.filter(token_hash=hash_token(token))
        .select_related("workspace", "invited_by")
        .prefetch_related("queues")
        .first()
    )


def email_has_account(email: str, *, include_pending: bool = True) -> bool:
    """Whether ``email`` has an account; with ``include_pending=False``, not counting one nobody can
    sign in to yet (an unconfirmed sign-up or a placeholder, ``User.is_pending_signup``)."""
    accounts = User.objects.filter(email__iexact=email)
    if not include_pending:
        accounts = accounts.exclude(is_active=False, email_confirmed_at__isnull=True, last_login__isnull=True)
    return accounts.exists()


def user_by_id(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def workspace_slug_taken(slug: str) -> bool:
    """Whether a workspace holds ``slug`` in any case (on the lower-case unique index)."""
    return Workspace.objects.alias(slug_lower=Lower("slug")).filter(slug_lower=slug.lower()).exists()


def password_reset_candidates(*, email: str):
    """Accounts a reset link for ``email`` may go to: active ones, as Django's reset form picks,
    and unconfirmed sign-ups, whose mailbox owner must be able to take them over (the caller
    still checks ``is_pending_signup`` and the exact address)."""
    return User.objects.filter(email__iexact=email).filter(
        Q(is_active=True) | Q(is_active=False, email_confirmed_at__isnull=True, last_login__isnull=True)
    )
