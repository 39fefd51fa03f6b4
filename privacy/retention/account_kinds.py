"""Retention of what belongs to no workspace: account-level audit events, the sign-in lockout
log, expired sessions and the history of earlier names and addresses.

These are the installation's, not a workspace's: their periods are the operator's
(``ACCOUNT_RETENTION_DAYS`` in settings, each overridable by an environment variable, see
README "Retention"), shown read-only on every workspace's retention page and counted in
``enforce_retention --dry-run``. The sweep (privacy/retention/sweep.py) acts on them once per run,
after the workspaces, under the run's row lock; ``preview`` and ``act`` use the same selectors,
so the preview is exactly what the run does. A person hold (in any workspace) keeps the
person's account events, lockout rows and identifier history. Another app may add a kind with
``register_account_kind`` (the email channel's raw messages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from privacy.account.models import EmailChange, PastIdentifier
from privacy.audit.log import ACCOUNT_CHAIN
from privacy.audit.maintenance import audit_events_purge
from privacy.audit.models import AuditEvent
from privacy.audit.selectors import USER_TARGET_TYPE
from privacy.retention.models import HoldScope, LegalHold
from workspaces.models import User

ACCOUNT_AUDIT, LOCKOUT_LOG, EXPIRED_SESSIONS, IDENTIFIER_HISTORY = (
    "account_audit_events",
    "lockout_log",
    "expired_sessions",
    "identifier_history",
)
DEFAULT_DAYS = {ACCOUNT_AUDIT: 730, LOCKOUT_LOG: 90, EXPIRED_SESSIONS: 0, IDENTIFIER_HISTORY: 365}
CHUNK = 1000


@dataclass(frozen=True)
class AccountKind:
    """``counts(now, days) -> (due, spared)``; ``act(now, days) -> rows removed`` (the same rows)."""

    name: str
    label: str
    help: str
    counts: Callable
    act: Callable
    position: int


_KINDS: dict[str, AccountKind] = {}


def register_account_kind(kind: AccountKind) -> AccountKind:
    existing = _KINDS.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"Account retention kind {kind.name!r} is registered twice.")
    _KINDS[kind.name] = kind
    return kind


def account_kinds() -> tuple[AccountKind, ...]:
    return tuple(sorted(_KINDS.values(), key=lambda kind: kind.position))


def account_days(name: str) -> int | None:
    """The operator's period for ``name`` (``None``: kept forever)."""
    configured = getattr(settings, "ACCOUNT_RETENTION_DAYS", {}) or {}
    return configured.get(name, DEFAULT_DAYS.get(name))


def _held_people() -> list[int]:
    return sorted(
        set(LegalHold.objects.active().filter(scope=HoldScope.PERSON).values_list("user_id", flat=True))
    )


# Account-level audit events: a prefix of the account chain ------------------------------------------


def _audit_cut(now, days):
    if days is None:
        return None, 0, 0
    limit = now - timedelta(days=days)
    chain = AuditEvent.objects.filter(chain=ACCOUNT_CHAIN)
    expired = chain.filter(created_at__lt=limit).count()
    before = limit
    held = _held_people()
    if held:
        about = Q(actor_id__in=held) | Q(target_type=USER_TARGET_TYPE, target_id__in=[str(u) for u in held])
        first = (
            chain.filter(about, created_at__lt=limit)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        first = first.first()
        if first is not None:
            before = first
    due = chain.filter(created_at__lt=before).count()
    return (before if due else None), due, expired - due


def audit_counts(now, days):
    _before, due, spared = _audit_cut(now, days)
    return due, spared


def audit_act(now, days) -> int:
    before, _due, _spared = _audit_cut(now, days)
    if before is None:
        return 0
    event = audit_events_purge(workspace=None, before=before)
    return event.detail["deleted"] if event is not None else 0


# The lockout log (django-axes) ------------------------------------------------------------------------


def _lockout_rows(now, days):
    if days is None:
        return []
    limit = now - timedelta(days=days)
    held_emails = list(User.objects.filter(pk__in=_held_people()).values_list("email", flat=True))
    result = []
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        expired = model.objects.filter(attempt_time__lt=limit)
        spared = model.objects.none()
        if held_emails:
            by_held = Q(pk__in=[])
            for email in held_emails:
                by_held |= Q(username__iexact=email)
            spared = expired.filter(by_held)
            expired = expired.exclude(by_held)
        result.append((expired, spared))
    return result


def lockout_counts(now, days):
    rows = _lockout_rows(now, days)
    return sum(d.count() for d, _ in rows), sum(s.count() for _, s in rows)


def lockout_act(now, days) -> int:
    return sum(_delete_in_chunks(due) for due, _ in _lockout_rows(now, days))


# Expired sessions (what ``clearsessions`` does, with a grace period) ---------------------------------------


def _expired_sessions(now, days):
    if days is None:
        return Session.objects.none()
    return Session.objects.filter(expire_date__lt=now - timedelta(days=days))


def sessions_counts(now, days):
    return _expired_sessions(now, days).count(), 0


def sessions_act(now, days) -> int:
    return _delete_in_chunks(_expired_sessions(now, days))


# Earlier names and addresses, finished email changes ---------------------------------------------------


def _history(now, days):
    if days is None:
        return PastIdentifier.objects.none(), EmailChange.objects.none(), 0
    limit = now - timedelta(days=days)
    held = _held_people()
    past = PastIdentifier.objects.filter(replaced_at__lt=limit)
    # Pending changes stay until they expire; finished ones count from their request.
    changes = EmailChange.objects.filter(created_at__lt=limit).filter(
        Q(confirmed_at__isnull=False) | Q(cancelled_at__isnull=False) | Q(expires_at__lt=now)
    )
    spared = past.filter(user_id__in=held).count() + changes.filter(user_id__in=held).count()
    return past.exclude(user_id__in=held), changes.exclude(user_id__in=held), spared


def history_counts(now, days):
    past, changes, spared = _history(now, days)
    return past.count() + changes.count(), spared


def history_act(now, days) -> int:
    past, changes, _spared = _history(now, days)
    return _delete_in_chunks(past) + _delete_in_chunks(changes)


def _delete_in_chunks(queryset) -> int:
    model, deleted = queryset.model, 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return deleted
        deleted += model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)


KINDS = (
    AccountKind(
        name=ACCOUNT_AUDIT,
        label=_("Account activity in the audit log"),
        help=_("Sign-ins, failed sign-ins, profile and consent changes: events of no workspace."),
        counts=audit_counts,
        act=audit_act,
        position=10,
    ),
    AccountKind(
        name=LOCKOUT_LOG,
        label=_("Sign-in lockout log"),
        help=_("The brute-force protection's record of sign-ins: address typed, IP address, browser."),
        counts=lockout_counts,
        act=lockout_act,
        position=20,
    ),
    AccountKind(
        name=EXPIRED_SESSIONS,
        label=_("Expired sessions"),
        help=_("Sign-in sessions after they expired (counted from the expiry)."),
        counts=sessions_counts,
        act=sessions_act,
        position=30,
    ),
    AccountKind(
        name=IDENTIFIER_HISTORY,
        label=_("Earlier names and email changes"),
        help=_(
            "Names and addresses people had before a change, and finished email-change requests. "
            "Deleting an account also searches for these, so keep them as long as old messages "
            "may name people."
        ),
        counts=history_counts,
        act=history_act,
        position=40,
    ),
)


def register_account_retention() -> None:
    for kind in KINDS:
        register_account_kind(kind)


def account_preview(now) -> dict[str, dict]:
    """``{kind: {"due": n, "spared": m, "days": d}}`` as of ``now``."""
    result = {}
    for kind in account_kinds():
        days = account_days(kind.name)
        due, spared = kind.counts(now, days)
        result[kind.name] = {"due": due, "spared": spared, "days": days}
    return result


def account_rows() -> list[dict]:
    """The retention page's read-only table: label, help and the operator's period."""
    return [
        {"kind": kind.name, "label": kind.label, "help": kind.help, "days": account_days(kind.name)}
        for kind in account_kinds()
    ]
