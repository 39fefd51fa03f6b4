"""Writes on the person's session rows: started at sign-in, touched while used, ended at
sign-out, revoked from the account page or by a new password.

How a row follows its session: the session itself carries a small marker (``MARKER``: the hash
of the key the row is filed under, when the person signed in, when the row was last touched).
The middleware compares it with the request's session on every request without a query, and
writes only when the interval has passed or the key changed (``cycle_key`` on a password
change re-files the same row under the new key). A session deleted some other way (expired,
flushed, the store emptied) is dropped from the list when the person reads it
(``sessions_listed``).
"""

from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from privacy.audit import events
from workspaces.sessions import selectors
from workspaces.sessions.devices import device_of, network_of_request
from workspaces.sessions.keys import hash_key, seal, unseal
from workspaces.sessions.models import UserSession

MARKER = "_session_row"
DEFAULT_LAST_SEEN_MINUTES = 5
SCOPE_OTHERS = "others"
SCOPE_ALL = "all"
SCOPE_PASSWORD_CHANGED = "password_changed"
SCOPE_PASSWORD_RESET = "password_reset"


def last_seen_interval() -> timedelta:
    """How stale "last seen" may get: one write per session per interval, not one per request."""
    return timedelta(minutes=getattr(settings, "SESSION_LAST_SEEN_MINUTES", DEFAULT_LAST_SEEN_MINUTES))


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _mark(session, *, key_hash: str, created_at: datetime, seen: datetime) -> None:
    session[MARKER] = {"h": key_hash, "at": created_at.isoformat(), "seen": seen.timestamp()}


# Starting, touching, ending ---------------------------------------------------------------------


@transaction.atomic
def session_start(*, request, user) -> UserSession:
    """At sign-in (``user_logged_in``): the row of the new session. Also forgets the person's
    rows whose sessions have expired."""
    session = request.session
    if session.session_key is None:
        # ``login()`` flushed another person's session: give this one its key now.
        session.save()
    key = session.session_key
    now = timezone.now()
    UserSession.objects.filter(user_id=user.pk, expires_at__lte=now).delete()
    row, _ = UserSession.objects.update_or_create(
        key_hash=hash_key(key),
        defaults={
            "user": user,
            "sealed_key": seal(key),
            "network": network_of_request(request),
            "device": device_of(request),
            "created_at": now,
            "last_seen_at": now,
            "expires_at": session.get_expiry_date(),
        },
    )
    _mark(session, key_hash=row.key_hash, created_at=now, seen=now)
    return row


def session_touch(*, request) -> None:
    """Note that the signed-in session of ``request`` is in use: nothing (no query) while the
    marker is fresh; otherwise one UPDATE (or, for a session without a row, one INSERT)."""
    session = request.session
    key = session.session_key
    user = request.user
    if not key or not user.is_authenticated:
        return
    marker = session.get(MARKER) or {}
    key_hash = hash_key(key)
    now = timezone.now()
    fresh = now.timestamp() - float(marker.get("seen") or 0) < last_seen_interval().total_seconds()
    if marker.get("h") == key_hash and fresh:
        return
    try:
        created_at = datetime.fromisoformat(marker["at"])
    except (KeyError, TypeError, ValueError):
        created_at = now
    values = {
        "network": network_of_request(request),
        "device": device_of(request),
        "last_seen_at": now,
        "expires_at": session.get_expiry_date(),
    }
    with transaction.atomic():
        if marker.get("h") and marker["h"] != key_hash:
            # The key was cycled under the same sign-in: the row moves to the new key.
            values |= {"key_hash": key_hash, "sealed_key": seal(key)}
            updated = UserSession.objects.filter(user_id=user.pk, key_hash=marker["h"]).update(**values)
        else:
            updated = UserSession.objects.filter(user_id=user.pk, key_hash=key_hash).update(**values)
        if not updated:
            if not session.exists(key):
                return  # signed out meanwhile (from another browser): no row for a dead session
            values.pop("key_hash", None)
            UserSession.objects.update_or_create(
                key_hash=key_hash,
                defaults={"user_id": user.pk, "sealed_key": seal(key), "created_at": created_at, **values},
            )
    _mark(session, key_hash=key_hash, created_at=created_at, seen=now)


def session_end(*, request, user) -> int:
    """At sign-out (``user_logged_out``): the row of the session being signed out goes."""
    key = getattr(request, "session", None) and request.session.session_key
    if not key:
        return 0
    return UserSession.objects.filter(user_id=user.pk, key_hash=hash_key(key)).delete()[0]


# Signing sessions out ---------------------------------------------------------------------------


def _sign_out(rows) -> int:
    """Delete each row's session from the session store, then the rows. A key that cannot be
    unsealed any more (``SECRET_KEY`` rotated without a fallback) belongs to a session whose
    row is simply forgotten."""
    rows = list(rows)
    store = _store()
    for row in rows:
        key = unseal(row.sealed_key)
        if key:
            store(session_key=key).delete()
    if rows:
        UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


@transaction.atomic
def session_revoke(*, user, session_id: int, current_key: str | None, request=None) -> bool:
    """Sign out one of ``user``'s sessions (404 for anyone else's or a missing one). Audits
    ``auth.sessions_signed_out`` (scope one). Returns whether it was the current session; the
    caller then signs the request out too."""
    row = selectors.session_get_or_404(user=user, session_id=session_id)
    this_device = bool(current_key) and row.key_hash == hash_key(current_key)
    _sign_out([row])
    events.auth_session_signed_out(user=user, session_id=session_id, this_device=this_device, request=request)
    return this_device


@transaction.atomic
def sessions_revoke_others(*, user, current_key: str | None, scope: str = SCOPE_OTHERS, request=None) -> int:
    """Sign out every session of ``user`` but the current one; audited with ``scope`` when any
    was (a password change with no other session records nothing more than the change)."""
    rows = UserSession.objects.filter(user_id=user.pk)
    if current_key:
        rows = rows.exclude(key_hash=hash_key(current_key))
    count = _sign_out(rows.only("pk", "sealed_key"))
    if count or scope == SCOPE_OTHERS:
        events.auth_sessions_signed_out(user=user, scope=scope, count=count, request=request)
    return count


@transaction.atomic
def sessions_revoke_all(*, user, scope: str | None = SCOPE_ALL, request=None) -> int:
    """Sign out every session of ``user``, the current one included (the caller signs the
    request out). ``scope=None``: not audited here (account deletion audits itself)."""
    count = _sign_out(UserSession.objects.filter(user_id=user.pk).only("pk", "sealed_key"))
    if scope is not None and (count or scope == SCOPE_ALL):
        events.auth_sessions_signed_out(user=user, scope=scope, count=count, request=request)
    return count


def sessions_after_password_change(*, request, user) -> int:
    """A new password signs out every other browser at once (Django would refuse them only on
    their next request, and the list would still show them). The current row first follows the
    key ``update_session_auth_hash`` just cycled."""
    session_touch(request=request)
    return sessions_revoke_others(
        user=user, current_key=request.session.session_key, scope=SCOPE_PASSWORD_CHANGED, request=request
    )


def sessions_after_password_reset(*, request, user) -> int:
    """Whoever reset the password is not signed in: every session of the account goes."""
    return sessions_revoke_all(user=user, scope=SCOPE_PASSWORD_RESET, request=request)


# Reading, with what the store no longer holds left out -------------------------------------------


def sessions_listed(*, user, current_key: str | None) -> list[UserSession]:
    """``user``'s sessions, this device first, then by last seen. Rows whose session expired or
    is gone from the store (cleared, flushed) are deleted on the way: the list shows only
    sessions that would still let someone in. Two queries with the ``db`` engine whatever the
    number of sessions (a third when some are gone: one DELETE, atomic on its own)."""
    now = timezone.now()
    rows = selectors.sessions_of(user=user)
    keys = {row.pk: unseal(row.sealed_key) for row in rows}
    alive = selectors.live_session_keys([key for key in keys.values() if key], store=_store(), now=now)
    gone = [row.pk for row in rows if row.expires_at <= now or keys[row.pk] not in alive]
    if gone:
        UserSession.objects.filter(user_id=user.pk, pk__in=gone).delete()
    current_hash = hash_key(current_key) if current_key else None
    listed = [row for row in rows if row.pk not in gone]
    for row in listed:
        row.is_current = row.key_hash == current_hash
    listed.sort(key=lambda row: (not row.is_current, -row.last_seen_at.timestamp()))
    return listed
