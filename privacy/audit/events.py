"""Typed audit events: one function per kind of event, and the only callers of ``audit_record``.

Each function's keyword arguments fix what its event records (chain, target and ``detail``
keys), so two places writing the same action cannot drift apart, and what an event holds is
read here rather than at a dozen call sites. Product code writes events only through these
functions (``from privacy.audit import events`` then ``events.member_removed(...)``); a test
checks that every documented action has a function the product calls, and the reverse.

An action may have more than one function when it is written in distinct shapes (``settings.
changed`` for retention periods and for a published policy). ``EVENT_ACTIONS`` maps each
function name to its action.

Like ``audit_record``, every function runs inside the caller's transaction (or opens one) and
returns the event, or ``None`` when a rate limit skipped it. Never pass message bodies,
passwords, tokens, file contents or third parties' email addresses.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from privacy.audit import actions
from privacy.audit.log import TARGET_MAX, audit_record, audit_record_many, client_ip, recent_events
from privacy.audit.models import AuditEvent

USER_TARGET_TYPE = "workspaces.user"

REFUSED_WINDOW = timedelta(minutes=10)
# Reasons workspace_view gives access_refused (other access functions add their own).
REFUSED_NOT_MEMBER = "not_member"
REFUSED_ROLE = "role"
REFUSED_NOT_VISIBLE = "not_visible"
VIEWED_WINDOW = timedelta(hours=1)
INVITATION_REFUSED_WINDOW = timedelta(minutes=10)
SSO_REFUSED_WINDOW = timedelta(minutes=10)

EVENT_ACTIONS: dict[str, str] = {}


def _writes(action: str) -> Callable:
    """Register the decorated function as a writer of ``action`` (read by the vocabulary test)."""
    actions.validate_action(action)

    def register(func: Callable) -> Callable:
        EVENT_ACTIONS[func.__name__] = action
        func.action = action
        return func

    return register


# Signing in and out (account chain) -----------------------------------------------------------


@_writes(actions.AUTH_LOGIN)
def auth_login(*, user, request=None) -> AuditEvent:
    return audit_record(action=actions.AUTH_LOGIN, request=request, actor=user)


@_writes(actions.AUTH_LOGOUT)
def auth_logout(*, user, request=None) -> AuditEvent:
    return audit_record(action=actions.AUTH_LOGOUT, request=request, actor=user)


@_writes(actions.AUTH_LOGIN_FAILED)
def auth_login_failed(*, account=None, refused_while_locked: bool = False, request=None) -> AuditEvent:
    """``account``: the user the typed address belongs to, if any (never the address itself)."""
    detail = {"refused_while_locked": True} if refused_while_locked else {}
    return audit_record(
        action=actions.AUTH_LOGIN_FAILED, request=request, actor=None, target=account, detail=detail
    )


@_writes(actions.AUTH_LOCKED_OUT)
def auth_locked_out(*, account=None, scopes: list[str], request=None) -> AuditEvent:
    return audit_record(
        action=actions.AUTH_LOCKED_OUT,
        request=request,
        actor=None,
        target=account,
        detail={"scope": scopes},
    )


@_writes(actions.AUTH_PASSWORD_CHANGED)
def auth_password_changed(*, user, request=None) -> AuditEvent:
    return audit_record(action=actions.AUTH_PASSWORD_CHANGED, request=request, actor=user, target=user)


@_writes(actions.AUTH_PASSWORD_RESET_REQUESTED)
def auth_password_reset_requested(*, account=None, request=None) -> AuditEvent:
    """For an unknown address nothing about it is kept: only that it matched no account."""
    return audit_record(
        action=actions.AUTH_PASSWORD_RESET_REQUESTED,
        request=request,
        actor=None,
        target=account,
        detail={} if account else {"known_account": False},
    )


@_writes(actions.AUTH_PASSWORD_RESET_DONE)
def auth_password_reset_done(*, user, request=None) -> AuditEvent:
    return audit_record(action=actions.AUTH_PASSWORD_RESET_DONE, request=request, actor=user, target=user)


@_writes(actions.AUTH_SECOND_FACTOR_PASSED)
def auth_second_factor_passed(*, user, method: str, request=None) -> AuditEvent:
    return audit_record(
        action=actions.AUTH_SECOND_FACTOR_PASSED,
        request=request,
        actor=user,
        target=user,
        detail={"method": method},
    )


@_writes(actions.AUTH_SECOND_FACTOR_FAILED)
def auth_second_factor_failed(*, user, method: str, failures: int, request=None) -> AuditEvent:
    """``user``: the account whose password already passed; never the code that was typed."""
    return audit_record(
        action=actions.AUTH_SECOND_FACTOR_FAILED,
        request=request,
        actor=None,
        target=user,
        detail={"method": method, "failures": failures},
    )


@_writes(actions.AUTH_SECOND_FACTOR_LOCKED)
def auth_second_factor_locked(*, user, minutes: int, request=None) -> AuditEvent:
    return audit_record(
        action=actions.AUTH_SECOND_FACTOR_LOCKED,
        request=request,
        actor=None,
        target=user,
        detail={"minutes": minutes},
    )


@_writes(actions.AUTH_SESSIONS_SIGNED_OUT)
def auth_session_signed_out(*, user, session_id: int, this_device: bool, request=None) -> AuditEvent:
    """One session, chosen on the account page; never its key or its address."""
    return audit_record(
        action=actions.AUTH_SESSIONS_SIGNED_OUT,
        request=request,
        actor=user,
        target=user,
        detail={"scope": "one", "count": 1, "session": session_id, "this_device": this_device},
    )


@_writes(actions.AUTH_SESSIONS_SIGNED_OUT)
def auth_sessions_signed_out(*, user, scope: str, count: int, request=None) -> AuditEvent:
    """``scope``: ``others`` or ``all`` (the person's choice), ``password_changed`` or
    ``password_reset`` (what a new password does to the other sessions)."""
    return audit_record(
        action=actions.AUTH_SESSIONS_SIGNED_OUT,
        request=request,
        actor=user,
        target=user,
        detail={"scope": scope, "count": count},
    )


# Single sign-on (workspace chain) -----------------------------------------------------------------


@_writes(actions.SSO_SIGNED_IN)
def sso_signed_in(*, user, workspace, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SSO_SIGNED_IN, request=request, actor=user, workspace=workspace, target=user
    )


@_writes(actions.SSO_REFUSED)
def sso_refused(*, workspace, reason: str, account=None, request=None) -> AuditEvent | None:
    """``reason``: a short code, never the provider's text or the asserted address. ``account``:
    the user the verified-or-not address belongs to, when there is one. At most once per
    workspace, reason and network address in 10 minutes, so replayed callbacks cannot flood the
    log."""
    return audit_record(
        action=actions.SSO_REFUSED,
        request=request,
        workspace=workspace,
        target=account,
        detail={"reason": reason[:48]},
        dedupe_key=f"sso_refused:w{workspace.pk}:{reason[:48]}:ip{client_ip(request) or '-'}",
        dedupe_window=SSO_REFUSED_WINDOW,
    )


@_writes(actions.SSO_ACCOUNT_CREATED)
def sso_account_created(*, user, workspace, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SSO_ACCOUNT_CREATED,
        request=request,
        actor=user,
        workspace=workspace,
        target=user,
        detail={"role": "requester"},
    )


@_writes(actions.SSO_CONFIG_CHANGED)
def sso_config_changed(*, config, changed: list[str], actor=None, request=None) -> AuditEvent:
    """``changed``: names of the fields that changed (``client_secret`` when a new one was set,
    never its value); the new on/off and just-in-time values ride along."""
    return audit_record(
        action=actions.SSO_CONFIG_CHANGED,
        request=request,
        actor=actor,
        workspace=config.workspace,
        target=config,
        detail={"changed": sorted(changed), "enabled": config.enabled, "allow_jit": config.allow_jit},
    )


# The person's own account (account chain) -----------------------------------------------------


@_writes(actions.ACCOUNT_SIGNUP)
def account_signup(
    *, user, policy_ids: Iterable[int], request=None, age_confirmed: bool = False
) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_SIGNUP,
        request=request,
        actor=None,
        target=user,
        detail={"policies": list(policy_ids), "age_confirmed": age_confirmed},
    )


@_writes(actions.ACCOUNT_SIGNUP_REPLACED)
def account_signup_replaced(*, user, policy_ids: Iterable[int], request=None) -> AuditEvent:
    """No actor, like ``account.signup``: nobody has proved they own the address yet."""
    return audit_record(
        action=actions.ACCOUNT_SIGNUP_REPLACED,
        request=request,
        actor=None,
        target=user,
        detail={"policies": list(policy_ids)},
    )


@_writes(actions.ACCOUNT_SIGNUP_CONFIRMED)
def account_signup_confirmed(*, user, via: str = "", request=None) -> AuditEvent:
    """``via`` is ``"password_reset"`` when setting a password through a reset link confirmed it."""
    return audit_record(
        action=actions.ACCOUNT_SIGNUP_CONFIRMED,
        request=request,
        actor=user,
        target=user,
        detail={"via": via} if via else {},
    )


@_writes(actions.ACCOUNT_SIGNUP_REJECTED)
def account_signup_rejected(*, user_id: int, anonymized: int = 0) -> AuditEvent:
    """The account is already deleted: only its id remains, and no IP address or browser (the
    person who clicked "this wasn't me" asked for nothing to be kept)."""
    return audit_record(
        action=actions.ACCOUNT_SIGNUP_REJECTED,
        actor=None,
        target_type=USER_TARGET_TYPE,
        target_id=user_id,
        detail={"events_anonymized": anonymized},
    )


@_writes(actions.ACCOUNT_SIGNUPS_PURGED)
def account_signups_purged(*, count: int) -> AuditEvent:
    return audit_record(action=actions.ACCOUNT_SIGNUPS_PURGED, detail={"count": count})


@_writes(actions.ACCOUNT_CREATED)
def account_created_by_invitation(*, user, workspace_id: int, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_CREATED,
        request=request,
        actor=user,
        target=user,
        detail={"via": "invitation", "workspace_id": workspace_id},
    )


@_writes(actions.ACCOUNT_UPDATED)
def account_profile_updated(*, user, fields: list[str], request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_UPDATED, request=request, actor=user, target=user, detail={"fields": fields}
    )


@_writes(actions.ACCOUNT_UPDATED)
def account_notifications_updated(*, user, changes: dict[str, bool], request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_UPDATED,
        request=request,
        actor=user,
        target=user,
        detail={"notifications": changes},
    )


@_writes(actions.ACCOUNT_UPDATED)
def account_consents_updated(*, user, answers: dict[str, bool], request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_UPDATED,
        request=request,
        actor=user,
        target=user,
        detail={"consents": answers},
    )


@_writes(actions.ACCOUNT_UPDATED)
def account_email_change_requested(*, user, request=None) -> AuditEvent:
    """Neither address is recorded; ``account.email_changed`` follows the confirmation."""
    return audit_record(
        action=actions.ACCOUNT_UPDATED,
        request=request,
        actor=user,
        target=user,
        detail={"email_change": "requested"},
    )


@_writes(actions.ACCOUNT_UPDATED)
def account_email_change_cancelled(*, user, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_UPDATED,
        request=request,
        actor=user,
        target=user,
        detail={"email_change": "cancelled"},
    )


@_writes(actions.ACCOUNT_EMAIL_CHANGED)
def account_email_changed(*, user, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_EMAIL_CHANGED, request=request, actor=user, target=user, detail={}
    )


@_writes(actions.ACCOUNT_POLICY_ACCEPTED)
def account_policy_accepted(*, user, version, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_POLICY_ACCEPTED,
        request=request,
        actor=user,
        target=version,
        detail={"kind": version.kind, "version": version.version},
    )


@_writes(actions.ACCOUNT_DELETION_REQUESTED)
def account_deletion_requested(*, user, erasure, grace_days: int, via: str, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_DELETION_REQUESTED,
        request=request,
        actor=user,
        target=user,
        detail={"erasure": erasure.pk, "grace_days": grace_days, "via": via},
    )


@_writes(actions.ACCOUNT_DELETION_CANCELLED)
def account_deletion_cancelled(*, user, erasure, reason: str, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_DELETION_CANCELLED,
        request=request,
        actor=user,
        target=user,
        detail={"erasure": erasure.pk, "reason": reason},
    )


@_writes(actions.ACCOUNT_DELETED)
def account_deleted(*, erasure) -> AuditEvent:
    """The erasure finished; the account is gone, so the target is its id only."""
    return audit_record(
        action=actions.ACCOUNT_DELETED,
        actor=None,
        target_type=USER_TARGET_TYPE,
        target_id=erasure.user_id or "",
        detail={"erasure": erasure.pk, "counts": erasure.counts},
    )


@_writes(actions.ACCOUNT_DELETED)
def account_deleted_by_retention(*, user_id: int, counts: dict[str, int]) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_DELETED,
        actor=None,
        target_type=USER_TARGET_TYPE,
        target_id=user_id,
        detail={"reason": "retention", "counts": counts},
    )


@_writes(actions.ACCOUNT_DELETED)
def accounts_deleted_by_retention(*, erased) -> list[AuditEvent]:
    """``account_deleted_by_retention`` for many people, written together: ``erased`` are
    ``(user, counts)`` pairs (the user row is the target: its id only)."""
    return audit_record_many(
        action=actions.ACCOUNT_DELETED,
        workspace=None,
        actor=None,
        items=[(user, {"reason": "retention", "counts": counts}) for user, counts in erased],
    )


@_writes(actions.ACCOUNT_FACTOR_ADDED)
def account_factor_added(*, user, kind: str, request=None) -> AuditEvent:
    """``kind``: ``totp`` or ``passkey``."""
    return audit_record(
        action=actions.ACCOUNT_FACTOR_ADDED, request=request, actor=user, target=user, detail={"kind": kind}
    )


@_writes(actions.ACCOUNT_FACTOR_REMOVED)
def account_factor_removed(*, user, kind: str, confirmed_by: str, request=None) -> AuditEvent:
    """``confirmed_by``: ``password`` or ``code``, what the person re-entered to remove it."""
    return audit_record(
        action=actions.ACCOUNT_FACTOR_REMOVED,
        request=request,
        actor=user,
        target=user,
        detail={"kind": kind, "confirmed_by": confirmed_by},
    )


@_writes(actions.ACCOUNT_RECOVERY_CODES_GENERATED)
def account_recovery_codes_generated(*, user, count: int, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_RECOVERY_CODES_GENERATED,
        request=request,
        actor=user,
        target=user,
        detail={"count": count},
    )


@_writes(actions.ACCOUNT_RECOVERY_CODE_USED)
def account_recovery_code_used(*, user, remaining: int, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ACCOUNT_RECOVERY_CODE_USED,
        request=request,
        actor=user,
        target=user,
        detail={"remaining": remaining},
    )


# Workspaces, members, invitations, queues (workspace chain) ----------------------------------


@_writes(actions.WORKSPACE_CREATED)
def workspace_created(*, workspace, actor=None) -> AuditEvent:
    return audit_record(action=actions.WORKSPACE_CREATED, actor=actor, workspace=workspace, target=workspace)


@_writes(actions.SETTINGS_CHANGED)
def two_factor_requirement_changed(*, workspace, required: bool, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SETTINGS_CHANGED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=workspace,
        detail={"setting": "require_two_factor", "old": not required, "new": required},
    )


@_writes(actions.SETTINGS_CHANGED)
def intake_settings_changed(*, workspace, old: dict, new: dict, actor=None, request=None) -> AuditEvent:
    """Who may open tickets without an invitation; ``old`` and ``new``: the settings that changed."""
    return audit_record(
        action=actions.SETTINGS_CHANGED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=workspace,
        detail={"setting": "intake", "old": old, "new": new},
    )


@_writes(actions.SETTINGS_CHANGED)
def retention_settings_changed(
    *, policy, workspace, old: dict, new: dict, actor=None, request=None
) -> AuditEvent:
    """``old`` and ``new``: only the settings that changed."""
    return audit_record(
        action=actions.SETTINGS_CHANGED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=policy,
        detail={"setting": "retention", "old": old, "new": new},
    )


@_writes(actions.SETTINGS_CHANGED)
def policy_published(*, policy, actor=None, request=None) -> AuditEvent:
    """A site-wide setting: the account chain."""
    return audit_record(
        action=actions.SETTINGS_CHANGED,
        request=request,
        actor=actor,
        target=policy,
        detail={
            "setting": "policy_published",
            "kind": policy.kind,
            "version": policy.version,
            "material": policy.is_material,
        },
    )


@_writes(actions.MEMBER_ADDED)
def member_added(*, membership, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.MEMBER_ADDED,
        request=request,
        actor=actor,
        workspace=membership.workspace,
        target=membership.user,
        detail={"role": membership.role},
    )


@_writes(actions.MEMBER_ROLE_CHANGED)
def member_role_changed(
    *, membership, old_role: str, grants_removed: int, actor=None, request=None
) -> AuditEvent:
    return audit_record(
        action=actions.MEMBER_ROLE_CHANGED,
        request=request,
        actor=actor,
        workspace=membership.workspace,
        target=membership.user,
        detail={"from": old_role, "to": membership.role, "grants_removed": grants_removed},
    )


@_writes(actions.MEMBER_REMOVED)
def member_removed(
    *,
    workspace,
    user,
    role: str,
    grants_removed: int,
    removed_elsewhere: dict[str, int],
    actor=None,
    request=None,
) -> AuditEvent:
    """The membership is already deleted, so its parts are passed. ``removed_elsewhere``: counts
    reported by the apps that dropped the member's rows (participations...)."""
    return audit_record(
        action=actions.MEMBER_REMOVED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=user,
        detail={"role": role, "grants_removed": grants_removed, **removed_elsewhere},
    )


@_writes(actions.MEMBER_REMOVED)
def members_removed(*, workspace, removed, actor=None, request=None) -> list[AuditEvent]:
    """``member_removed`` for many members of one workspace, written together: ``removed`` are
    ``(user, role, grants_removed, removed_elsewhere)``."""
    return audit_record_many(
        action=actions.MEMBER_REMOVED,
        workspace=workspace,
        actor=actor,
        request=request,
        items=[
            (user, {"role": role, "grants_removed": grants, **elsewhere})
            for user, role, grants, elsewhere in removed
        ],
    )


@_writes(actions.MEMBER_INVITED)
def member_invited(
    *, invitation, workspace, queue_ids: Iterable[int], actor=None, request=None
) -> AuditEvent:
    """The target is the invitation (its id), never the invited address."""
    return audit_record(
        action=actions.MEMBER_INVITED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=invitation,
        detail={"role": invitation.role, "queue_ids": sorted(queue_ids)},
    )


@_writes(actions.INVITATION_ACCEPTED)
def invitation_accepted(*, invitation, user, queue_ids: Iterable[int], request=None) -> AuditEvent:
    return audit_record(
        action=actions.INVITATION_ACCEPTED,
        request=request,
        actor=user,
        workspace=invitation.workspace,
        target=invitation,
        detail={"role": invitation.role, "queue_ids": sorted(queue_ids)},
    )


@_writes(actions.INVITATION_REVOKED)
def invitation_revoked(*, invitation, workspace, reason: str = "", actor=None, request=None) -> AuditEvent:
    """``reason`` is empty for an admin's revocation, ``"superseded"`` for a newer invitation."""
    return audit_record(
        action=actions.INVITATION_REVOKED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=invitation,
        detail={"reason": reason} if reason else {},
    )


@_writes(actions.INVITATION_EMAIL_FAILED)
def invitation_email_failed(*, invitation, workspace, error: str, actor=None, request=None) -> AuditEvent:
    """``error`` is the kind of failure (an exception class name), never its text: mail errors
    quote addresses."""
    return audit_record(
        action=actions.INVITATION_EMAIL_FAILED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=invitation,
        detail={"error": error},
    )


@_writes(actions.INVITATION_REFUSED)
def invitation_refused(*, invitation, reason: str, request=None) -> AuditEvent | None:
    """An invitation link was opened but cannot be used. ``reason`` is a short code (expired,
    revoked, used, wrong_account, already_member, account_exists), never the page's text.

    At most once per invitation, reason and person (signed out: address) in 10 minutes, so
    reloading the page does not fill the workspace's log.
    """
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        who = f"u{user.pk}"
    else:
        who = f"ip{client_ip(request) or '-'}"
    return audit_record(
        action=actions.INVITATION_REFUSED,
        request=request,
        workspace=invitation.workspace,
        target=invitation,
        detail={"reason": reason[:48]},
        dedupe_key=f"invitation_refused:{invitation.pk}:{reason[:48]}:{who}",
        dedupe_window=INVITATION_REFUSED_WINDOW,
    )


@_writes(actions.QUEUE_CREATED)
def queue_created(*, queue, workspace, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.QUEUE_CREATED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=queue,
        detail={"name": queue.name},
    )


@_writes(actions.QUEUE_RENAMED)
def queue_renamed(*, queue, old_name: str, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.QUEUE_RENAMED,
        request=request,
        actor=actor,
        workspace=queue.workspace,
        target=queue,
        detail={"from": old_name, "to": queue.name},
    )


@_writes(actions.QUEUE_ACCESS_GRANTED)
def queue_access_granted(*, queue, user_id: int, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.QUEUE_ACCESS_GRANTED,
        request=request,
        actor=actor,
        workspace=queue.workspace,
        target=queue,
        detail={"user_id": user_id},
    )


@_writes(actions.QUEUE_ACCESS_REVOKED)
def queue_access_revoked(*, queue, user_id: int, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.QUEUE_ACCESS_REVOKED,
        request=request,
        actor=actor,
        workspace=queue.workspace,
        target=queue,
        detail={"user_id": user_id},
    )


# Tickets and their messages (workspace chain) -------------------------------------------------


@_writes(actions.TICKET_CREATED)
def ticket_created(*, ticket, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.TICKET_CREATED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=ticket,
        detail={"number": ticket.number, "queue_id": ticket.queue_id, "requester_id": ticket.requester_id},
    )


def _ticket_change(action: str, *, ticket, old, new, actor, request, reason: str) -> AuditEvent:
    """One property of a ticket changed: ``{"number", "from", "to"}`` and the reason, if any."""
    detail = {"number": ticket.number, "from": old, "to": new}
    if reason:
        detail["reason"] = reason
    return audit_record(
        action=action, request=request, actor=actor, workspace=ticket.workspace, target=ticket, detail=detail
    )


@_writes(actions.TICKET_STATUS_CHANGED)
def ticket_status_changed(
    *, ticket, old: str, new: str, actor=None, request=None, reason: str = ""
) -> AuditEvent:
    return _ticket_change(
        actions.TICKET_STATUS_CHANGED,
        ticket=ticket,
        old=old,
        new=new,
        actor=actor,
        request=request,
        reason=reason,
    )


@_writes(actions.TICKET_PRIORITY_CHANGED)
def ticket_priority_changed(*, ticket, old: str, new: str, actor=None, request=None) -> AuditEvent:
    return _ticket_change(
        actions.TICKET_PRIORITY_CHANGED,
        ticket=ticket,
        old=old,
        new=new,
        actor=actor,
        request=request,
        reason="",
    )


@_writes(actions.TICKET_QUEUE_CHANGED)
def ticket_queue_changed(*, ticket, old: int, new: int, actor=None, request=None) -> AuditEvent:
    """``old`` and ``new``: queue ids."""
    return _ticket_change(
        actions.TICKET_QUEUE_CHANGED, ticket=ticket, old=old, new=new, actor=actor, request=request, reason=""
    )


@_writes(actions.TICKET_ASSIGNED)
def ticket_assigned(
    *, ticket, old: int | None, new: int | None, actor=None, request=None, reason: str = ""
) -> AuditEvent:
    """``old`` and ``new``: assignee user ids, ``None`` for unassigned."""
    return _ticket_change(
        actions.TICKET_ASSIGNED, ticket=ticket, old=old, new=new, actor=actor, request=request, reason=reason
    )


@_writes(actions.TICKET_MERGED)
def ticket_merged(*, source, target, actor=None, request=None) -> list[AuditEvent]:
    """``source`` was merged into ``target``: one event on each ticket, so either's history
    shows it (``role`` says which side the ticket was on)."""
    return [
        audit_record(
            action=actions.TICKET_MERGED,
            request=request,
            actor=actor,
            workspace=ticket.workspace,
            target=ticket,
            detail={"number": ticket.number, "role": role, "other": other.number},
        )
        for ticket, role, other in ((source, "source", target), (target, "target", source))
    ]


# Bulk changes (tickets/bulk_services.py): one event per ticket, exactly as the single-ticket
# functions above write it, written together (``audit_record_many``). ``changes`` are
# ``(ticket, old, new)`` triples of one workspace.


def _tickets_changed(*, action: str, changes, actor, request, reason: str = "") -> list[AuditEvent]:
    changes = list(changes)
    if not changes:
        return []
    items = []
    for ticket, old, new in changes:
        detail = {"number": ticket.number, "from": old, "to": new}
        if reason:
            detail["reason"] = reason
        items.append((ticket, detail))
    workspace = changes[0][0].workspace
    return audit_record_many(action=action, workspace=workspace, actor=actor, request=request, items=items)


@_writes(actions.TICKET_STATUS_CHANGED)
def tickets_status_changed(*, changes, actor=None, request=None) -> list[AuditEvent]:
    return _tickets_changed(
        action=actions.TICKET_STATUS_CHANGED, changes=changes, actor=actor, request=request
    )


@_writes(actions.TICKET_PRIORITY_CHANGED)
def tickets_priority_changed(*, changes, actor=None, request=None) -> list[AuditEvent]:
    return _tickets_changed(
        action=actions.TICKET_PRIORITY_CHANGED, changes=changes, actor=actor, request=request
    )


@_writes(actions.TICKET_QUEUE_CHANGED)
def tickets_queue_changed(*, changes, actor=None, request=None) -> list[AuditEvent]:
    return _tickets_changed(
        action=actions.TICKET_QUEUE_CHANGED, changes=changes, actor=actor, request=request
    )


@_writes(actions.TICKET_ASSIGNED)
def tickets_assigned(*, changes, actor=None, request=None, reason: str = "") -> list[AuditEvent]:
    return _tickets_changed(
        action=actions.TICKET_ASSIGNED, changes=changes, actor=actor, request=request, reason=reason
    )


def _viewed_key_start(user_id: int) -> str:
    return f"viewed:u{user_id}:t"


def viewed_window_start() -> datetime:
    """Since when a view of a ticket counts as this hour's (``ticket_viewed`` records one)."""
    return timezone.now() - VIEWED_WINDOW


def with_viewed_recently(tickets, *, user_id: int, since):
    """``tickets`` annotated with ``viewed_recently``: whether ``ticket_viewed`` recorded this
    person's view of each since ``since`` (``viewed_window_start()``), read with the tickets
    themselves, so that a page can skip ``ticket_viewed`` when it would write nothing."""
    key = Concat(Value(_viewed_key_start(user_id)), Cast(OuterRef("pk"), CharField()))
    return tickets.annotate(viewed_recently=Exists(recent_events(key, since)))


@_writes(actions.TICKET_VIEWED)
def ticket_viewed(*, membership, ticket, request=None) -> AuditEvent | None:
    """An agent or admin opened ``ticket``: once per person, ticket and hour.

    Requesters' views are not recorded (they read their own tickets). Returns the event, or
    ``None`` when nothing was written. A ticket read ``with_viewed_recently`` and viewed this
    hour writes nothing and asks nothing more.
    """
    if ticket.workspace_id != membership.workspace_id:
        raise ValueError("The ticket is not in the member's workspace.")
    if not membership.is_staff or getattr(ticket, "viewed_recently", False):
        return None
    return audit_record(
        action=actions.TICKET_VIEWED,
        request=request,
        actor=membership.user,
        workspace=membership.workspace,
        target=ticket,
        detail={"number": ticket.number},
        dedupe_key=f"{_viewed_key_start(membership.user_id)}{ticket.pk}",
        dedupe_window=VIEWED_WINDOW,
    )


@_writes(actions.PARTICIPANT_ADDED)
def participant_added(*, ticket, user_id: int, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.PARTICIPANT_ADDED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=ticket,
        detail={"number": ticket.number, "user_id": user_id},
    )


@_writes(actions.PARTICIPANT_REMOVED)
def participant_removed(*, ticket, user_id: int, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.PARTICIPANT_REMOVED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=ticket,
        detail={"number": ticket.number, "user_id": user_id},
    )


@_writes(actions.REPLY_CREATED)
def reply_created(*, message, ticket, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.REPLY_CREATED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=message,
        detail={"ticket": ticket.number},
    )


@_writes(actions.NOTE_CREATED)
def note_created(*, message, ticket, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.NOTE_CREATED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=message,
        detail={"ticket": ticket.number},
    )


@_writes(actions.MESSAGE_EDITED)
def message_edited(*, message, ticket, editor, request=None) -> AuditEvent:
    """The ticket number and the kind, never the text (old or new)."""
    return audit_record(
        action=actions.MESSAGE_EDITED,
        request=request,
        actor=editor,
        workspace=ticket.workspace,
        target=message,
        detail={"ticket": ticket.number, "kind": message.kind},
    )


@_writes(actions.ATTACHMENT_UPLOADED)
def attachment_uploaded(*, attachment, ticket, actor=None, request=None) -> AuditEvent:
    """Size and sniffed type only: no file name, no content."""
    return audit_record(
        action=actions.ATTACHMENT_UPLOADED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=attachment,
        detail={
            "ticket": ticket.number,
            "message": attachment.message_id,
            "size": attachment.size,
            "content_type": attachment.content_type,
        },
    )


@_writes(actions.ATTACHMENT_REJECTED)
def attachment_rejected(*, membership, reasons: Iterable[str], ticket=None, request=None) -> AuditEvent:
    """Files sent with a form were refused. ``reasons``: the validation codes (too_large,
    blocked_extension, ...), never the file names; ``ticket``: the ticket replied to, if any."""
    return audit_record(
        action=actions.ATTACHMENT_REJECTED,
        request=request,
        actor=membership.user,
        workspace=membership.workspace,
        target=ticket,
        detail={"reasons": sorted(set(reasons)), "ticket": ticket.number if ticket is not None else None},
    )


@_writes(actions.ATTACHMENT_DOWNLOADED)
def attachment_downloaded(*, attachment, membership, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ATTACHMENT_DOWNLOADED,
        request=request,
        actor=membership.user,
        workspace=membership.workspace,
        target=attachment,
        detail={"ticket_id": attachment.ticket_id, "size": attachment.size},
    )


@_writes(actions.ATTACHMENT_ERASURE_FLAGGED)
def attachment_erasure_flagged(*, attachment, ticket_number: int, reason: str, outcome: str) -> AuditEvent:
    """No actor and no name: the person is being erased; the workspace's staff see which file
    to check (or that it was deleted)."""
    return audit_record(
        action=actions.ATTACHMENT_ERASURE_FLAGGED,
        workspace=attachment.workspace,
        target=attachment,
        detail={
            "ticket": ticket_number,
            "ticket_id": attachment.ticket_id,
            "attachment": attachment.pk,
            "reason": reason,
            "outcome": outcome,
        },
    )


# Emails about tickets (workspace chain) -------------------------------------------------------


def _email_detail(email, message_id_hash: str) -> dict:
    return {
        "number": email.ticket.number,
        "kind": email.kind,
        "recipient_id": email.recipient_id,
        "message_id_hash": message_id_hash,
        "attempts": email.attempts,
    }


@_writes(actions.EMAIL_SENT)
def email_sent(*, email, message_id_hash: str) -> AuditEvent:
    """``email`` is a ``tickets.mail.models.OutboundEmail``; its address, subject and text are
    never written here."""
    return audit_record(
        action=actions.EMAIL_SENT,
        workspace=email.ticket.workspace,
        target=email.ticket,
        detail=_email_detail(email, message_id_hash),
    )


@_writes(actions.EMAIL_FAILED)
def email_failed(*, email, message_id_hash: str, error: str) -> AuditEvent:
    return audit_record(
        action=actions.EMAIL_FAILED,
        workspace=email.ticket.workspace,
        target=email.ticket,
        detail={**_email_detail(email, message_id_hash), "error": error},
    )


# Access control -------------------------------------------------------------------------------


def _refusal_kind(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name:
        return match.url_name[:48]
    return "unknown"


@_writes(actions.ACCESS_REFUSED)
def access_refused(
    request,
    *,
    reason: str,
    workspace=None,
    workspace_slug: str = "",
    kind: str = "",
    target_type: str = "",
    target_id: str | int = "",
) -> AuditEvent | None:
    """``request`` was refused (answered 404): at most once per 10 minutes for the same person
    (or, signed out, the same address) and kind of page (the URL name by default).

    The event goes to the workspace's chain when the workspace exists (its admins see who
    probed), otherwise to the account chain with the slug asked for.
    """
    kind = (kind or _refusal_kind(request))[:48]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        who = f"u{user.pk}"
    else:
        who = f"ip{client_ip(request) or '-'}"
    detail: dict[str, Any] = {"reason": reason[:64], "kind": kind, "method": request.method[:10]}
    if workspace is None and workspace_slug:
        detail["slug"] = workspace_slug[:TARGET_MAX]
    return audit_record(
        action=actions.ACCESS_REFUSED,
        request=request,
        workspace=workspace,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        dedupe_key=f"refused:{who}:{kind}",
        dedupe_window=REFUSED_WINDOW,
    )


RATE_LIMIT_WINDOW = timedelta(minutes=10)


@_writes(actions.RATE_LIMIT_REFUSED)
def rate_limit_refused(*, action: str, scope: str, user=None, request=None) -> AuditEvent | None:
    """A rate limit refused ``action`` (a short name such as ``password_reset``); ``scope`` says
    which count was full (``address``, ``ip``, ``account``). Never the address typed.

    At most once per action, scope and person (signed out: network address) in 10 minutes, so
    a flood of refused requests is one line, not a flood of lines.
    """
    if user is None and request is not None:
        signed_in = getattr(request, "user", None)
        user = signed_in if signed_in is not None and signed_in.is_authenticated else None
    who = f"u{user.pk}" if user is not None else f"ip{client_ip(request) or '-'}"
    return audit_record(
        action=actions.RATE_LIMIT_REFUSED,
        request=request,
        actor=user,
        detail={"action": action[:48], "scope": scope[:16]},
        dedupe_key=f"rate_limit:{action[:48]}:{scope[:16]}:{who}",
        dedupe_window=RATE_LIMIT_WINDOW,
    )


# Personal data: export, retention, legal holds -----------------------------------------------


@_writes(actions.EXPORT_REQUESTED)
def export_requested(*, export, user, via: str, request=None) -> AuditEvent:
    return audit_record(
        action=actions.EXPORT_REQUESTED, request=request, actor=user, target=export, detail={"via": via}
    )


@_writes(actions.EXPORT_REQUESTED)
def export_written_by_operator(*, user, size: int) -> AuditEvent:
    """``manage.py export_user_data``: no actor (an operator at the console), the person as target."""
    return audit_record(
        action=actions.EXPORT_REQUESTED, actor=None, target=user, detail={"via": "operator", "size": size}
    )


@_writes(actions.EXPORT_DOWNLOADED)
def export_downloaded(*, export, request=None) -> AuditEvent:
    return audit_record(
        action=actions.EXPORT_DOWNLOADED,
        request=request,
        actor=export.user,
        target=export,
        detail={"size": export.size},
    )


@_writes(actions.RETENTION_RUN)
def retention_run(*, run, workspace, counts: dict[str, int], spared: dict[str, int]) -> AuditEvent:
    return audit_record(
        action=actions.RETENTION_RUN,
        workspace=workspace,
        target=run,
        detail={"run": run.pk, "as_of": run.as_of.isoformat(), "counts": counts, "spared": spared},
    )


@_writes(actions.LEGAL_HOLD_PLACED)
def legal_hold_placed(*, hold, workspace, ticket=None, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.LEGAL_HOLD_PLACED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=hold,
        detail={
            "scope": hold.scope,
            "user_id": hold.user_id,
            "ticket": ticket.number if hold.ticket_id else None,
            "ends_at": hold.ends_at.isoformat() if hold.ends_at else None,
        },
    )


@_writes(actions.LEGAL_HOLD_RELEASED)
def legal_hold_released(*, hold, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.LEGAL_HOLD_RELEASED,
        request=request,
        actor=actor,
        workspace=hold.workspace,
        target=hold,
        detail={"scope": hold.scope, "placed_at": hold.placed_at.isoformat()},
    )


# The audit log about itself -------------------------------------------------------------------


@_writes(actions.AUDIT_EXPORTED)
def audit_exported(*, workspace, filters: dict[str, Any], request=None) -> AuditEvent:
    """``filters``: the CSV's filters as given (``AuditFilters.as_detail()``)."""
    return audit_record(action=actions.AUDIT_EXPORTED, request=request, workspace=workspace, detail=filters)


@_writes(actions.AUDIT_PURGED)
def audit_purged(
    *, workspace=None, deleted: int, before, anchor_seq: int, anchor_prev_hash: str, actor=None
) -> AuditEvent:
    """The anchor (first remaining seq and its prev_hash) is where verify starts the chain."""
    return audit_record(
        action=actions.AUDIT_PURGED,
        actor=actor,
        workspace=workspace,
        detail={
            "deleted": deleted,
            "before": before.isoformat(),
            "anchor_seq": anchor_seq,
            "anchor_prev_hash": anchor_prev_hash,
        },
    )


@_writes(actions.AUDIT_ANONYMIZED)
def audit_anonymized(*, user_id: int, count: int, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.AUDIT_ANONYMIZED,
        actor=actor,
        request=request,
        target_type=USER_TARGET_TYPE,
        target_id=user_id,
        detail={"events": count},
    )


@_writes(actions.AUDIT_ANONYMIZED)
def audits_anonymized(*, users_counts) -> list[AuditEvent]:
    """``audit_anonymized`` (no actor: retention's batches) for many people, written together:
    ``users_counts`` are ``(user, count)`` pairs (the user row is the target: its id only)."""
    return audit_record_many(
        action=actions.AUDIT_ANONYMIZED,
        workspace=None,
        actor=None,
        items=[(user, {"events": count}) for user, count in users_counts],
    )


# Privacy, second wave: redaction ---------------------------------------------------------------


@_writes(actions.MESSAGE_REDACTED)
def message_redacted(*, message, ticket, places: int, reason: str, actor, request=None) -> AuditEvent:
    """How many places were replaced and why; never the redacted text (the reason is the
    redactor's own words, shown to the workspace's admins)."""
    return audit_record(
        action=actions.MESSAGE_REDACTED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=message,
        detail={"ticket": ticket.number, "kind": message.kind, "places": places, "reason": reason},
    )


@_writes(actions.ATTACHMENT_REDACTED)
def attachment_redacted(*, attachment, ticket, reason: str, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.ATTACHMENT_REDACTED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=attachment,
        detail={"ticket": ticket.number, "message": attachment.message_id, "reason": reason},
    )


@_writes(actions.SETTINGS_CHANGED)
def privacy_setting_changed(
    *, workspace, setting: str, old: bool, new: bool, actor=None, request=None
) -> AuditEvent:
    """``agents_may_redact`` or ``reveal_viewer_names`` on the Security page."""
    return audit_record(
        action=actions.SETTINGS_CHANGED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=workspace,
        detail={"setting": setting, "old": old, "new": new},
    )


# Privacy, second wave: restriction of processing -----------------------------------------------


@_writes(actions.MEMBER_RESTRICTED)
def member_restricted(*, membership, reason: str, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.MEMBER_RESTRICTED,
        request=request,
        actor=actor,
        workspace=membership.workspace,
        target_type=USER_TARGET_TYPE,
        target_id=membership.user_id,
        detail={"reason": reason, "role": membership.role},
    )


@_writes(actions.MEMBER_RESTRICTION_RELEASED)
def member_restriction_released(*, membership, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.MEMBER_RESTRICTION_RELEASED,
        request=request,
        actor=actor,
        workspace=membership.workspace,
        target_type=USER_TARGET_TYPE,
        target_id=membership.user_id,
        detail={"role": membership.role},
    )


# Privacy, second wave: data-subject requests ---------------------------------------------------


@_writes(actions.SUBJECT_REQUEST_FILED)
def subject_request_filed(*, subject_request, actor, request=None) -> AuditEvent:
    """Kind, channel and due date; never the person's words."""
    return audit_record(
        action=actions.SUBJECT_REQUEST_FILED,
        request=request,
        actor=actor,
        workspace=subject_request.workspace,
        target=subject_request,
        detail={
            "kind": subject_request.kind,
            "via": subject_request.via,
            "subject_id": subject_request.subject_id,
            "due": subject_request.due_at.date().isoformat(),
        },
    )


@_writes(actions.SUBJECT_REQUEST_STATUS_CHANGED)
def subject_request_status_changed(*, subject_request, old: str, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SUBJECT_REQUEST_STATUS_CHANGED,
        request=request,
        actor=actor,
        workspace=subject_request.workspace,
        target=subject_request,
        detail={"from": old, "to": subject_request.status},
    )


@_writes(actions.SUBJECT_REQUEST_EXPORTED)
def subject_request_exported(*, subject_request, size: int, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SUBJECT_REQUEST_EXPORTED,
        request=request,
        actor=actor,
        workspace=subject_request.workspace,
        target=subject_request,
        detail={"subject_id": subject_request.subject_id, "size": size},
    )


@_writes(actions.SUBJECT_REQUEST_ERASED)
def subject_request_erased(*, subject_request, counts: dict[str, int], actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SUBJECT_REQUEST_ERASED,
        request=request,
        actor=actor,
        workspace=subject_request.workspace,
        target=subject_request,
        detail={"subject_id": subject_request.subject_id, "counts": counts},
    )


# Privacy, second wave: policies at the right moment --------------------------------------------


@_writes(actions.WORKSPACE_DPA_ACCEPTED)
def workspace_dpa_accepted(*, workspace, version, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.WORKSPACE_DPA_ACCEPTED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=workspace,
        detail={"policy_id": version.pk, "version": version.version},
    )


@_writes(actions.POLICY_CHANGE_ANNOUNCED)
def policy_change_announced(*, policy, sent: int) -> AuditEvent:
    return audit_record(
        action=actions.POLICY_CHANGE_ANNOUNCED,
        target=policy,
        detail={"kind": policy.kind, "version": policy.version, "sent": sent},
    )


# The email channel, inbound (workspace chain) ----------------------------------------------------


@_writes(actions.MAIL_RECEIVED)
def mail_received(*, inbound, ticket=None) -> AuditEvent:
    """Metadata only: never the sender, the subject or the words."""
    return audit_record(
        action=actions.MAIL_RECEIVED,
        workspace=inbound.workspace,
        actor=inbound.sender,
        target_type="tickets.inboundemail",
        target_id=inbound.pk,
        detail={
            "mailbox_id": inbound.mailbox_id,
            "outcome": inbound.outcome,
            "reason": inbound.reason_code,
            "number": ticket.number if ticket is not None else None,
        },
    )


@_writes(actions.MAILBOX_CHANGED)
def mailbox_changed(*, mailbox, change: str, fields: list[str], actor=None, request=None) -> AuditEvent:
    """``change``: added or changed; ``fields``: names only (``imap_secret`` when the
    password was replaced, never its value)."""
    return audit_record(
        action=actions.MAILBOX_CHANGED,
        request=request,
        actor=actor,
        workspace=mailbox.workspace,
        target_type="tickets.mailbox",
        target_id=mailbox.pk,
        detail={"change": change, "fields": sorted(fields)},
    )


# Tags and custom fields (issue 13, workspace chain) ------------------------------------------------


@_writes(actions.TICKET_TAGS_CHANGED)
def ticket_tags_changed(*, ticket, added: list[str], removed: list[str], actor, request=None) -> AuditEvent:
    """One event per save, whatever the number of tags (names are the workspace's vocabulary)."""
    return audit_record(
        action=actions.TICKET_TAGS_CHANGED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=ticket,
        detail={"number": ticket.number, "added": sorted(added), "removed": sorted(removed)},
    )


@_writes(actions.TICKET_FIELDS_CHANGED)
def ticket_fields_changed(*, ticket, fields: list, actor, request=None) -> AuditEvent:
    """``fields``: the CustomField rows whose value changed. Ids and labels only, never a value
    (a field may hold personal data)."""
    return audit_record(
        action=actions.TICKET_FIELDS_CHANGED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=ticket,
        detail={"number": ticket.number, "fields": [{"id": f.pk, "label": f.label} for f in fields]},
    )


def _custom_field_event(*, action: str, field, detail: dict, actor, request) -> AuditEvent:
    return audit_record(
        action=action,
        request=request,
        actor=actor,
        workspace=field.workspace,
        target_type="tickets.customfield",
        target_id=field.pk,
        detail={"label": field.label, **detail},
    )


@_writes(actions.CUSTOM_FIELD_CREATED)
def custom_field_created(*, field, actor, request=None) -> AuditEvent:
    detail = {
        "kind": field.kind,
        "required": field.required,
        "visible_to_requesters": field.visible_to_requesters,
        "personal": field.personal,
    }
    return _custom_field_event(
        action=actions.CUSTOM_FIELD_CREATED, field=field, detail=detail, actor=actor, request=request
    )


@_writes(actions.CUSTOM_FIELD_CHANGED)
def custom_field_changed(*, field, changed: list[str], actor, request=None) -> AuditEvent:
    """``changed``: names of the settings that changed (``label``, ``options``, ``archived`` ...)."""
    return _custom_field_event(
        action=actions.CUSTOM_FIELD_CHANGED,
        field=field,
        detail={"changed": sorted(changed)},
        actor=actor,
        request=request,
    )


@_writes(actions.CUSTOM_FIELD_ARCHIVED)
def custom_field_archived(*, field, actor, request=None) -> AuditEvent:
    return _custom_field_event(
        action=actions.CUSTOM_FIELD_ARCHIVED, field=field, detail={}, actor=actor, request=request
    )


# Service levels (workspace chain) ------------------------------------------------------------


@_writes(actions.SLA_POLICY_CHANGED)
def sla_policy_changed(*, policy, fields: list[str], actor, request=None) -> AuditEvent:
    """``fields``: names of the settings changed (targets, hours, holidays, zone, on/off)."""
    return audit_record(
        action=actions.SLA_POLICY_CHANGED,
        request=request,
        actor=actor,
        workspace=policy.workspace,
        target_type="tickets.slapolicy",
        target_id=policy.pk,
        detail={"fields": sorted(fields), "active": policy.is_active},
    )


@_writes(actions.SLA_BREACHED)
def sla_breached(*, ticket, target: str, due_at) -> AuditEvent:
    """Written by the breach scan (no actor); ``target``: first_response or resolution."""
    return audit_record(
        action=actions.SLA_BREACHED,
        workspace=ticket.workspace,
        target=ticket,
        detail={"number": ticket.number, "target": target, "due_at": due_at.isoformat()},
    )


# Macros, canned replies (workspace chain) ---------------------------------------------------------


def _macro_target(macro) -> dict:
    return {"target_type": "tickets.macro", "target_id": macro.pk}


@_writes(actions.MACRO_CREATED)
def macro_created(*, macro, actor=None, request=None) -> AuditEvent:
    """A shared macro (personal ones are a person's own drafts and are not audited)."""
    return audit_record(
        action=actions.MACRO_CREATED,
        request=request,
        actor=actor,
        workspace=macro.workspace,
        **_macro_target(macro),
        detail={"macro_id": macro.pk, "shortcut": macro.shortcut},
    )


@_writes(actions.MACRO_CHANGED)
def macro_changed(*, macro, fields: list[str], actor=None, request=None) -> AuditEvent:
    """``fields``: names only (``body`` when the text changed, never the text)."""
    return audit_record(
        action=actions.MACRO_CHANGED,
        request=request,
        actor=actor,
        workspace=macro.workspace,
        **_macro_target(macro),
        detail={"macro_id": macro.pk, "fields": sorted(fields)},
    )


@_writes(actions.MACRO_DELETED)
def macro_deleted(*, macro, macro_id: int, actor=None, request=None) -> AuditEvent:
    return audit_record(
        action=actions.MACRO_DELETED,
        request=request,
        actor=actor,
        workspace=macro.workspace,
        target_type="tickets.macro",
        target_id=macro_id,
        detail={"macro_id": macro_id, "shortcut": macro.shortcut},
    )


@_writes(actions.MACRO_APPLIED)
def macro_applied(*, macro, ticket, changed: dict, actor=None, request=None) -> AuditEvent:
    """``changed``: ``{"status": [old, new], "priority": [...], "tags": [...]}`` for what the
    macro changed on the ticket (empty when it changed nothing)."""
    return audit_record(
        action=actions.MACRO_APPLIED,
        request=request,
        actor=actor,
        workspace=ticket.workspace,
        target=ticket,
        detail={
            "number": ticket.number,
            "macro_id": macro.pk,
            "shared": macro.is_shared,
            "changed": changed,
        },
    )


# Reports -----------------------------------------------------------------------------------------


@_writes(actions.REPORT_EXPORTED)
def report_exported(
    *, workspace, table: str, days: int, end, queue_id: int | None, request=None
) -> AuditEvent:
    """A CSV of the reports dashboard: aggregate figures, audited as the export it is."""
    return audit_record(
        action=actions.REPORT_EXPORTED,
        request=request,
        workspace=workspace,
        detail={
            "table": table,
            "days": days,
            "end": end.isoformat(),
            "queue": queue_id if queue_id is not None else "all",
        },
    )


# The agent workbench: shared views of the ticket list (workspace chain) ---------------------------
# The view's name is free text: it stays out of the log (target id and what changed are enough).


@_writes(actions.SAVED_VIEW_SHARED)
def saved_view_shared(*, view, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SAVED_VIEW_SHARED,
        request=request,
        actor=actor,
        workspace=view.workspace,
        target=view,
        detail={"filters": sorted(view.params)},
    )


@_writes(actions.SAVED_VIEW_CHANGED)
def saved_view_changed(*, view, change: str, actor, request=None) -> AuditEvent:
    """``change``: renamed or unshared."""
    return audit_record(
        action=actions.SAVED_VIEW_CHANGED,
        request=request,
        actor=actor,
        workspace=view.workspace,
        target=view,
        detail={"change": change},
    )


@_writes(actions.SAVED_VIEW_DELETED)
def saved_view_deleted(*, view, actor, request=None) -> AuditEvent:
    return audit_record(
        action=actions.SAVED_VIEW_DELETED,
        request=request,
        actor=actor,
        workspace=view.workspace,
        target=view,
        detail={"filters": sorted(view.params)},
    )
