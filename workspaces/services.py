"""Writes on workspaces, memberships, queues and invitations. Every change here is audited.

Each service runs in one transaction and records its audit event inside it, so the change and its
trail commit (or roll back) together. Side effects that leave the database (websocket
announcements, invitation emails) run in ``transaction.on_commit``.

Error texts are module constants: views show them as they are and tests import them.
"""

import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from guardian.shortcuts import assign_perm, remove_perm

from helpdesk import outbound
from helpdesk.errors import UserFacingError
from helpdesk.site import absolute_url
from helpdesk.tokens import hash_token
from privacy.audit import events
from workspaces.access import queue_grants
from workspaces.models import (
    QUEUE_PERMISSION,
    WORKSPACE_SLUG_TAKEN,
    Invitation,
    Membership,
    Queue,
    QueueUserObjectPermission,
    Role,
    User,
    Workspace,
)
from workspaces.realtime import announce_access_changed, announce_access_changed_many
from workspaces.selectors import workspace_slug_taken
from workspaces.signals import member_leaving, members_leaving, pending_signup_claimed

logger = logging.getLogger(__name__)

LAST_ADMIN = gettext_lazy("A workspace needs at least one admin. Make someone else an admin first.")
ROLE_CHANGED_SINCE = gettext_lazy(
    "{name} became {role} since you opened the page, so nothing was changed. Choose again if "
    "their role should still change."
)
QUEUES_ONLY_FOR_AGENTS = gettext_lazy(
    "Queue access can only be given to agents (admins already see every queue)."
)
MEMBER_RESTRICTED = gettext_lazy(
    "Processing of this person's data is restricted here: their role and queues cannot be changed until "
    "an admin releases the restriction."
)
QUEUE_OF_OTHER_WORKSPACE = gettext_lazy("That queue does not belong to this workspace.")
QUEUE_NAME_TAKEN = gettext_lazy(
    "There is already a queue named “{name}” in this workspace. Choose another name."
)
ALREADY_MEMBER = gettext_lazy("{email} is already a member of this workspace.")
INVITATION_UNKNOWN = gettext_lazy(
    "This invitation link is not valid. Check that you opened the whole link from the email."
)
INVITATION_EXPIRED = gettext_lazy("This invitation has expired. Ask a workspace admin to send you a new one.")
INVITATION_USED = gettext_lazy("This invitation has already been used. Sign in to reach the workspace.")
INVITATION_REVOKED = gettext_lazy("This invitation was withdrawn by a workspace admin.")
INVITATION_WRONG_ACCOUNT = gettext_lazy(
    "This invitation was sent to a different email address than the one you are signed in with. "
    "Sign out, then open the link again."
)
INVITATION_ALREADY_MEMBER = gettext_lazy("You are already a member of this workspace.")
INVITATION_ACCOUNT_EXISTS = gettext_lazy(
    "An account with this email address already exists. Sign in to accept."
)
INVITATION_TOKEN_BYTES = 32


class InvitationError(UserFacingError):
    """An invitation cannot be used; ``message`` says why, in words for the invitee."""


def invitation_problem(invitation: Invitation) -> str | None:
    """Why the invitation cannot be accepted any more, or None while it is usable."""
    if invitation.revoked_at is not None:
        return INVITATION_REVOKED
    if invitation.accepted_at is not None:
        return INVITATION_USED
    if invitation.expires_at <= timezone.now():
        return INVITATION_EXPIRED
    return None


# Workspaces and memberships ------------------------------------------------------------------


@transaction.atomic
def workspace_create(*, name: str, slug: str, actor=None) -> Workspace:
    """Create a workspace. The slug is stored in lower case and is unique ignoring case
    (``WORKSPACE_SLUG_TAKEN``, also when another request takes it between check and save); the
    name must be one line (``SINGLE_LINE_ERROR``). Audits ``workspace.created``."""
    workspace = Workspace(name=name, slug=slug)
    # Uniqueness is checked below with one message, whichever of the two slug rules would fire.
    workspace.full_clean(validate_unique=False, validate_constraints=False)
    if workspace_slug_taken(workspace.slug):
        raise ValidationError({"slug": WORKSPACE_SLUG_TAKEN}, code="unique")
    try:
        with transaction.atomic():
            workspace.save()
    except IntegrityError:
        raise ValidationError({"slug": WORKSPACE_SLUG_TAKEN}, code="unique")
    events.workspace_created(workspace=workspace, actor=actor)
    return workspace


@transaction.atomic
def membership_create(*, workspace: Workspace, user, role: str, actor=None, request=None) -> Membership:
    membership = Membership(workspace=workspace, user=user, role=role)
    membership.full_clean()
    membership.save()
    events.member_added(membership=membership, actor=actor, request=request)
    return membership


def _lock_member(membership: Membership) -> Membership:
    """Re-read the membership under a row lock, so the decision uses its current role."""
    return Membership.objects.select_for_update().select_related("workspace", "user").get(pk=membership.pk)


def _ensure_another_admin(membership: Membership) -> None:
    """Refuse to take away the workspace's last admin.

    Locks every admin row of the workspace first, so two admins demoting each other at the same
    moment are serialised and the second one sees the first one's change.
    """
    admin_ids = list(
        Membership.objects.select_for_update()
        .filter(workspace_id=membership.workspace_id, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if not [pk for pk in admin_ids if pk != membership.pk]:
        raise ValidationError(LAST_ADMIN, code="last_admin")


def _drop_queue_grants(membership: Membership) -> int:
    """Delete the member's guardian rows on this workspace's queues (guardian never does)."""
    deleted, _ = QueueUserObjectPermission.objects.filter(
        user_id=membership.user_id, content_object__workspace_id=membership.workspace_id
    ).delete()
    return deleted


@transaction.atomic
def member_set_role(
    *, membership: Membership, role: str, actor=None, request=None, seen_role: str | None = None
) -> Membership:
    """Give a member another role. Audits ``member.role_changed``.

    The last admin cannot be demoted (``LAST_ADMIN``). Queue grants are dropped when the member
    stops being an agent, so a later promotion starts from no access rather than stale grants.
    Open websockets of the member are told to re-check their access.

    ``seen_role`` (the role the form showed) makes it a compare-and-set: a change decided on a
    role someone else has changed since is refused (``ROLE_CHANGED_SINCE``), never applied over it.
    """
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the listed roles."})
    membership = _lock_member(membership)
    old_role = membership.role
    if old_role == role:
        return membership
    if membership.is_restricted:
        raise ValidationError(MEMBER_RESTRICTED, code="restricted")
    if seen_role is not None and old_role != seen_role:
        raise ValidationError(
            ROLE_CHANGED_SINCE.format(name=membership.user, role=membership.get_role_display().lower()),
            code="role_changed_since",
        )
    if old_role == Role.ADMIN:
        _ensure_another_admin(membership)
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    grants_removed = _drop_queue_grants(membership) if role != Role.AGENT else 0
    events.member_role_changed(
        membership=membership, old_role=old_role, grants_removed=grants_removed, actor=actor, request=request
    )
    announce_access_changed(workspace_id=membership.workspace_id, user_id=membership.user_id)
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor=None, request=None) -> None:
    """Remove a person from the workspace. Audits ``member.removed``.

    Deletes, in this workspace only: their queue grants (guardian leaves orphans otherwise),
    their ticket participations and the membership itself. Tickets they requested or messages
    they wrote stay: they belong to the workspace's history. The last admin cannot be removed.
    Their next request already answers 404 (``workspace_view`` reads the membership each time);
    open websockets are told to close.
    """
    membership = _lock_member(membership)
    if membership.role == Role.ADMIN:
        _ensure_another_admin(membership)
    grants_removed = _drop_queue_grants(membership)
    removed_elsewhere = {}
    for _receiver, counts in member_leaving.send(
        sender=Membership, workspace_id=membership.workspace_id, user_id=membership.user_id
    ):
        removed_elsewhere.update(counts or {})
    workspace, user, role = membership.workspace, membership.user, membership.role
    membership.delete()
    events.member_removed(
        workspace=workspace,
        user=user,
        role=role,
        grants_removed=grants_removed,
        removed_elsewhere=removed_elsewhere,
        actor=actor,
        request=request,
    )
    announce_access_changed(workspace_id=workspace.pk, user_id=user.pk)


def member_remove_many(*, memberships, actor=None, request=None) -> int:
    """``member_remove`` for many memberships at once (retention's inactive requesters, account
    erasure's batches), set-based: the rows locked together, the queue grants and what the
    ``members_leaving`` receivers drop removed per workspace in one statement each, the
    memberships deleted in one statement, each person's ``member.removed`` written together
    per workspace. The last admin is refused as ``member_remove`` refuses them. Inside the
    caller's transaction; returns how many memberships ended."""
    ids = [membership.pk for membership in memberships]
    if not ids:
        return 0
    locked = list(
        Membership.objects.select_for_update()
        .select_related("workspace", "user")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    by_workspace: dict[int, list[Membership]] = {}
    for membership in locked:
        by_workspace.setdefault(membership.workspace_id, []).append(membership)
    for workspace_id, members in by_workspace.items():
        leaving_admins = {m.pk for m in members if m.role == Role.ADMIN}
        if leaving_admins:
            admin_ids = list(
                Membership.objects.select_for_update()
                .filter(workspace_id=workspace_id, role=Role.ADMIN)
                .values_list("pk", flat=True)
            )
            if not [pk for pk in admin_ids if pk not in leaving_admins]:
                raise ValidationError(LAST_ADMIN, code="last_admin")
    for workspace_id, members in by_workspace.items():
        user_ids = [m.user_id for m in members]
        grants = dict.fromkeys(user_ids, 0)
        doomed = QueueUserObjectPermission.objects.filter(
            user_id__in=user_ids, content_object__workspace_id=workspace_id
        )
        rows = list(doomed.values_list("pk", "user_id"))
        for _pk, user_id in rows:
            grants[user_id] += 1
        if rows:
            QueueUserObjectPermission.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        elsewhere: dict[int, dict[str, int]] = {user_id: {} for user_id in user_ids}
        for _receiver, per_user in members_leaving.send(
            sender=Membership, workspace_id=workspace_id, user_ids=user_ids
        ):
            for user_id, counts in (per_user or {}).items():
                elsewhere[user_id].update(counts or {})
        if not members_leaving.has_listeners(Membership):
            for user_id in user_ids:
                for _receiver, counts in member_leaving.send(
                    sender=Membership, workspace_id=workspace_id, user_id=user_id
                ):
                    elsewhere[user_id].update(counts or {})
        Membership.objects.filter(pk__in=[m.pk for m in members]).delete()
        events.members_removed(
            workspace=members[0].workspace,
            removed=[(m.user, m.role, grants[m.user_id], elsewhere[m.user_id]) for m in members],
            actor=actor,
            request=request,
        )
        announce_access_changed_many([(workspace_id, m.user_id) for m in members])
    return len(locked)


# Queues -----------------------------------------------------------------------------------------


def _clean_queue_name(*, workspace_id: int, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    taken = Queue.objects.filter(workspace_id=workspace_id, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if name and taken.exists():
        raise ValidationError({"name": QUEUE_NAME_TAKEN.format(name=name)}, code="unique")
    return name


@transaction.atomic
def queue_create(*, workspace: Workspace, name: str, actor=None, request=None) -> Queue:
    """Create a queue. Names are unique per workspace, ignoring case (``QUEUE_NAME_TAKEN``)."""
    name = _clean_queue_name(workspace_id=workspace.pk, name=name)
    queue = Queue(workspace=workspace, name=name)
    queue.full_clean()
    queue.save()
    events.queue_created(queue=queue, workspace=workspace, actor=actor, request=request)
    return queue


@transaction.atomic
def queue_rename(*, queue: Queue, name: str, actor=None, request=None) -> Queue:
    """Rename a queue. Audits ``queue.renamed`` with the old and new names."""
    queue = Queue.objects.select_for_update().select_related("workspace").get(pk=queue.pk)
    name = _clean_queue_name(workspace_id=queue.workspace_id, name=name, exclude_pk=queue.pk)
    old_name = queue.name
    if name == old_name:
        return queue
    queue.name = name
    queue.full_clean()
    queue.save(update_fields=["name"])
    events.queue_renamed(queue=queue, old_name=old_name, actor=actor, request=request)
    return queue


def _check_queue_for(queue: Queue, membership: Membership) -> None:
    if queue.workspace_id != membership.workspace_id:
        raise ValidationError(QUEUE_OF_OTHER_WORKSPACE, code="other_workspace")
    if not membership.is_agent:
        raise ValidationError(QUEUES_ONLY_FOR_AGENTS, code="not_agent")


@transaction.atomic
def queue_grant(*, queue: Queue, membership: Membership, actor=None, request=None) -> None:
    """Let an agent see and work the tickets of ``queue``. Audits ``queue.access_granted``."""
    _check_queue_for(queue, membership)
    assign_perm(QUEUE_PERMISSION, membership.user, queue)
    events.queue_access_granted(queue=queue, user_id=membership.user_id, actor=actor, request=request)


@transaction.atomic
def queue_revoke(*, queue: Queue, membership: Membership, actor=None, request=None) -> None:
    """Take an agent's access to ``queue`` away. Audits ``queue.access_revoked``.

    Deletes the guardian row and tells the agent's open websockets to re-check their access.
    """
    if queue.workspace_id != membership.workspace_id:
        raise ValidationError(QUEUE_OF_OTHER_WORKSPACE, code="other_workspace")
    remove_perm(QUEUE_PERMISSION, membership.user, queue)
    events.queue_access_revoked(queue=queue, user_id=membership.user_id, actor=actor, request=request)
    announce_access_changed(workspace_id=membership.workspace_id, user_id=membership.user_id)


@transaction.atomic
def member_queues_set(
    *, membership: Membership, queues: Iterable[Queue], actor=None, request=None
) -> tuple[list[Queue], list[Queue]]:
    """Make ``queues`` exactly the agent's granted queues; returns (granted, revoked).

    Grants and revokes only the difference, each through ``queue_grant`` / ``queue_revoke``, so
    every change has its own audit event and nothing is audited when nothing changes.
    """
    membership = _lock_member(membership)
    if membership.is_restricted:
        raise ValidationError(MEMBER_RESTRICTED, code="restricted")
    wanted = {queue.pk: queue for queue in queues}
    for queue in wanted.values():
        _check_queue_for(queue, membership)
    if not membership.is_agent:
        raise ValidationError(QUEUES_ONLY_FOR_AGENTS, code="not_agent")
    # The member's actual grant rows (queues_granted_to answers "every queue" for admins).
    current = {
        grant.content_object.pk: grant.content_object
        for grant in queue_grants(
            workspace_id=membership.workspace_id, user_id=membership.user_id
        ).select_related("content_object")
    }
    granted = [queue for pk, queue in wanted.items() if pk not in current]
    revoked = [queue for pk, queue in current.items() if pk not in wanted]
    for queue in granted:
        queue_grant(queue=queue, membership=membership, actor=actor, request=request)
    for queue in revoked:
        queue_revoke(queue=queue, membership=membership, actor=actor, request=request)
    return granted, revoked


# Invitations ------------------------------------------------------------------------------------


def _send_invitation_email(*, invitation: Invitation, token: str, actor=None, request=None) -> bool:
    """Email the invitation link. A failure is never silent: it is audited
    (``invitation.email_failed``) and ``invitation.email_sent`` tells the caller, whose view tells
    the inviter. Runs after commit, so a rolled-back invitation sends nothing."""
    context = {
        "invitation": invitation,
        "workspace": invitation.workspace,
        "inviter": invitation.invited_by,
        "url": absolute_url(reverse("invitation_accept", args=[token])),
        "valid_days": settings.INVITATION_VALID_DAYS,
    }
    try:
        outbound.send(invitation.email, "invitation", context, kind=outbound.ACCOUNT, raise_errors=True)
    except Exception as error:  # noqa: BLE001 - any mail failure: the invitation stays, the admin is told
        # Never log the token or the address: only which invitation failed and the kind of error.
        logger.warning("Invitation email %s could not be sent", invitation.pk)
        invitation.email_sent = False
        events.invitation_email_failed(
            invitation=invitation,
            workspace=invitation.workspace,
            error=type(error).__name__,
            actor=actor,
            request=request,
        )
        return False
    invitation.email_sent = True
    return True


def _mark_revoked(
    invitation: Invitation, *, workspace: Workspace, now, actor, request, reason: str = ""
) -> None:
    """Withdraw the (locked) invitation of ``workspace`` and audit ``invitation.revoked``."""
    invitation.revoked_at = now
    invitation.save(update_fields=["revoked_at"])
    events.invitation_revoked(
        invitation=invitation, workspace=workspace, reason=reason, actor=actor, request=request
    )


@transaction.atomic
def invitation_create(
    *,
    workspace: Workspace,
    email: str,
    role: str,
    queues: Iterable[Queue] = (),
    actor=None,
    request=None,
) -> tuple[Invitation, str]:
    """Invite ``email`` to the workspace with ``role``; returns (invitation, token).

    The token is random and only its SHA-256 is stored. Inviting an address that already has a
    pending invitation withdraws the older one (audited as ``invitation.revoked``), so only the
    newest link works. Audits ``member.invited``; the email goes out after commit, and a failure
    to send it is audited (``invitation.email_failed``) and left in ``invitation.email_sent``.
    """
    email = User.objects.normalize_email(email)
    queues = list(queues)
    if role not in Role.values:
        raise ValidationError({"role": "Choose one of the listed roles."})
    if queues and role != Role.AGENT:
        raise ValidationError({"queues": QUEUES_ONLY_FOR_AGENTS})
    if any(queue.workspace_id != workspace.pk for queue in queues):
        raise ValidationError({"queues": QUEUE_OF_OTHER_WORKSPACE})
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise ValidationError({"email": ALREADY_MEMBER.format(email=email)})
    now = timezone.now()
    older = Invitation.objects.select_for_update().filter(
        workspace=workspace, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    )
    for previous in older:
        _mark_revoked(
            previous,
            workspace=workspace,
            now=now,
            actor=actor,
            request=request,
            reason="superseded",
        )
    token = secrets.token_urlsafe(INVITATION_TOKEN_BYTES)
    invitation = Invitation(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    invitation.queues.set(queues)
    events.member_invited(
        invitation=invitation,
        workspace=workspace,
        queue_ids=[queue.pk for queue in queues],
        actor=actor,
        request=request,
    )
    # Set once the email was tried, after commit: True or False. It stays None while an outer
    # transaction is still open (the email then goes when that one commits).
    invitation.email_sent = None
    transaction.on_commit(
        lambda: _send_invitation_email(invitation=invitation, token=token, actor=actor, request=request),
        robust=True,
    )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor=None, request=None) -> Invitation:
    """Withdraw a pending invitation; its link then says so. Audits ``invitation.revoked``."""
    invitation = Invitation.objects.select_for_update().select_related("workspace").get(pk=invitation.pk)
    problem = invitation_problem(invitation)
    if problem in (INVITATION_USED, INVITATION_REVOKED):
        raise InvitationError(problem)
    _mark_revoked(
        invitation, workspace=invitation.workspace, now=timezone.now(), actor=actor, request=request
    )
    return invitation


def _lock_usable_invitation(invitation: Invitation) -> Invitation:
    # The row lock makes acceptance single-use even when the link is opened twice at once.
    invitation = Invitation.objects.select_for_update().select_related("workspace").get(pk=invitation.pk)
    problem = invitation_problem(invitation)
    if problem:
        raise InvitationError(problem)
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user, request=None) -> Membership:
    """Accept an invitation as ``user``: creates the membership and the invited queue grants.

    Refused (``InvitationError``) when the invitation is expired, used or revoked, when the
    user's email is not the invited one, or when they already belong to the workspace.
    Audits ``member.added``, one ``queue.access_granted`` per queue and ``invitation.accepted``.
    """
    invitation = _lock_usable_invitation(invitation)
    if User.objects.normalize_email(user.email) != User.objects.normalize_email(invitation.email):
        raise InvitationError(INVITATION_WRONG_ACCOUNT)
    existing = Membership.objects.filter(workspace_id=invitation.workspace_id, user=user).first()
    if existing is not None and not invitation_completes(invitation, existing):
        raise InvitationError(INVITATION_ALREADY_MEMBER)
    membership = existing or membership_create(
        workspace=invitation.workspace, user=user, role=invitation.role, actor=user, request=request
    )
    queues = list(invitation.queues.filter(workspace_id=invitation.workspace_id))
    if membership.is_agent:
        for queue in queues:
            queue_grant(queue=queue, membership=membership, actor=user, request=request)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    events.invitation_accepted(
        invitation=invitation, user=user, queue_ids=[queue.pk for queue in queues], request=request
    )
    return membership


def invitation_completes(invitation: Invitation, membership: Membership) -> bool:
    """A requester invitation of someone who already is a requester (staff opened a ticket on
    their behalf: ``workspaces.intake.requester_invite``) is accepted without a new membership."""
    return invitation.role == Role.REQUESTER and membership.role == Role.REQUESTER


def _claim_pending_account(*, invitation: Invitation, user, display_name: str, password: str, request=None):
    """The invitation link proved the mailbox of an account nobody could sign in to (a placeholder
    or an unconfirmed sign-up): its opener sets the name and password, like a password reset of a
    pending sign-up, and ``pending_signup_claimed`` lets the sign-up's owner confirm it (dropping
    policy acceptances typed by whoever signed up)."""
    user.display_name = (display_name or "").strip() or user.display_name
    validate_password(password, user=user)
    user.set_password(password)
    user.full_clean(validate_unique=False)
    user.save(update_fields=["display_name", "password"])
    pending_signup_claimed.send(sender=User, user=user, request=request)
    user.refresh_from_db()
    if not user.is_active:
        user.is_active = True
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["is_active", "email_confirmed_at"])
    events.account_created_by_invitation(user=user, workspace_id=invitation.workspace_id, request=request)
    return invitation_accept(invitation=invitation, user=user, request=request)


@transaction.atomic
def invitation_accept_new_account(
    *, invitation: Invitation, display_name: str, password: str, request=None
) -> Membership:
    """Create the invitee's account and accept the invitation with it, in one transaction.

    The account is active and its email confirmed: the invitation link proved the address.
    Refused with ``INVITATION_ACCOUNT_EXISTS`` when the address already has an account.
    Audits ``account.created`` (account chain) and everything ``invitation_accept`` audits.
    """
    invitation = _lock_usable_invitation(invitation)
    placeholder = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
    if placeholder is not None:
        if not placeholder.is_pending_signup:
            raise InvitationError(INVITATION_ACCOUNT_EXISTS)
        return _claim_pending_account(
            invitation=invitation,
            user=placeholder,
            display_name=display_name,
            password=password,
            request=request,
        )
    now = timezone.now()
    user = User(
        email=invitation.email,
        display_name=(display_name or "").strip(),
        is_active=True,
        email_confirmed_at=now,
        date_joined=now,
    )
    validate_password(password, user=user)
    user.set_password(password)
    user.full_clean()
    user.save()
    events.account_created_by_invitation(user=user, workspace_id=invitation.workspace_id, request=request)
    return invitation_accept(invitation=invitation, user=user, request=request)
