"""Writes on the person's session rows: started at sign-in, touched while used, ended at
sign-out, revoked from the account page or by a new password.

"Last seen" costs no query on most requests: ``session_touch`` writes only when
``cache.add`` of a per-session marker succeeds, that is once per ``SESSION_LAST_SEEN_MINUTES``
(per process with the default local-memory cache, once in all with a shared cache). The marker
is kept in the cache rather than in the session so that noting activity never saves the
session, which would slide its expiry and cost a second write.

A row follows its session when the key is cycled under the same sign-in (``cycle_key`` on a
password change): the middleware hands the key it saw before the view to ``session_touch``,
which files the row under the new key. A session that leaves the store some other way
(expired, cleared, flushed) has its row deleted the next time the person's rows are read
(``sessions_listed``, and at each sign-in), so the list shows only sessions that would still
let someone in.
"""

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from helpdesk.id_arrays import IdsIn
from privacy.audit import events
from workspaces.models import Membership
from workspaces.realtime import announce_access_changed_everywhere, announce_access_changed_many
from workspaces.sessions import selectors
from workspaces.sessions.devices import device_of, network_of_request
from workspaces.sessions.keys import hash_key, seal, unseal
from workspaces.sessions.models import UserSession

SEEN_CACHE_KEY = "session-seen:{key_hash}"
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


def _seen_key(key_hash: str) -> str:
    return SEEN_CACHE_KEY.format(key_hash=key_hash)


def _first_in_interval(key_hash: str) -> bool:
    return cache.add(_seen_key(key_hash), True, timeout=last_seen_interval().total_seconds())


def _live_rows(user) -> list[UserSession]:
    """``user``'s rows whose session the store still holds; the others are deleted. Two queries
    with the ``db`` engine whatever the number of rows (three when some are gone)."""
    rows = selectors.sessions_of(user=user)
    keys = {row.pk: unseal(row.sealed_key) for row in rows}
    alive = selectors.live_session_keys(
        [key for key in keys.values() if key], store=_store(), now=timezone.now()
    )
    gone = [row.pk for row in rows if keys[row.pk] not in alive]
    if gone:
        UserSession.objects.filter(user_id=user.pk, pk__in=gone).delete()
    return [row for row in rows if row.pk not in gone]


# Starting, touching, ending ---------------------------------------------------------------------


@transaction.atomic
def session_start(*, request, user) -> UserSession:
    """At sign-in (``user_logged_in``): the row of the new session. The person's rows of
    sessions that have ended meanwhile are deleted."""
    session = request.session
    if session.session_key is None:
        # ``login()`` flushed another person's session: give this one its key now.
        session.save()
    key = session.session_key
    key_hash = hash_key(key)
    now = timezone.now()
    row, _ = UserSession.objects.update_or_create(
        key_hash=key_hash,
        defaults={
            "user": user,
            "sealed_key": seal(key),
            "network": network_of_request(request),
            "device": device_of(request),
            "created_at": now,
            "last_seen_at": now,
        },
    )
    _live_rows(user)
    cache.set(_seen_key(key_hash), True, timeout=last_seen_interval().total_seconds())
    return row


def _refile(*, user, old_key: str, key: str, key_hash: str) -> None:
    """The session's key was cycled: ``old_key`` is gone from the store. The person's row moves
    to the new key (keeping its sign-in time) unless sign-in already gave the new key a row;
    a row of the old key of anyone else (``login()`` flushed their session) goes."""
    old_hash = hash_key(old_key)
    UserSession.objects.filter(key_hash=old_hash).exclude(user_id=user.pk).delete()
    if UserSession.objects.filter(key_hash=key_hash).exists():
        UserSession.objects.filter(key_hash=old_hash).delete()
    else:
        UserSession.objects.filter(user_id=user.pk, key_hash=old_hash).update(
            key_hash=key_hash, sealed_key=seal(key)
        )
    cache.delete(_seen_key(old_hash))


def session_touch(*, request, previous_key: str | None = None) -> None:
    """Note that the signed-in session of ``request`` is in use: no query while its marker is
    in the cache; otherwise one UPDATE (one INSERT for a session that has no row yet, such as
    one signed in before this list existed). ``previous_key``: the key the session had before
    the view, when the view cycled it."""
    session = request.session
    key = session.session_key
    user = request.user
    if not key or not user.is_authenticated:
        return
    key_hash = hash_key(key)
    rekeyed = bool(previous_key) and previous_key != key
    if not rekeyed and not _first_in_interval(key_hash):
        return
    now = timezone.now()
    values = {"network": network_of_request(request), "device": device_of(request), "last_seen_at": now}
    with transaction.atomic():
        if rekeyed:
            _refile(user=user, old_key=previous_key, key=key, key_hash=key_hash)
            cache.set(_seen_key(key_hash), True, timeout=last_seen_interval().total_seconds())
        if UserSession.objects.filter(user_id=user.pk, key_hash=key_hash).update(**values):
            return
        if not session.exists(key):
            return  # signed out meanwhile (from another browser): no row for a dead session
        UserSession.objects.get_or_create(
            key_hash=key_hash,
            defaults={"user_id": user.pk, "sealed_key": seal(key), "created_at": now, **values},
        )


def session_end(*, request, user) -> int:
    """At sign-out (``user_logged_out``): the row of the session being signed out goes."""
    key = getattr(request, "session", None) and request.session.session_key
    if not key:
        return 0
    deleted = UserSession.objects.filter(user_id=user.pk, key_hash=hash_key(key)).delete()[0]
    # Open websockets keep their access until told (tickets.consumers). Django flushes the
    # session only after this signal: it goes from the store first, so their re-check sees it
    # gone (the flush that follows finds nothing left to delete).
    _store()(session_key=key).delete()
    announce_access_changed_everywhere(user_id=user.pk)
    return deleted


# Signing sessions out ---------------------------------------------------------------------------


def _sign_out(rows, *, user_id: int) -> int:
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
        # Their open websockets keep their access until told (tickets.consumers).
        announce_access_changed_everywhere(user_id=user_id)
    return len(rows)


def sessions_revoke_all_many(*, user_ids) -> dict[int, int]:
    """``sessions_revoke_all(scope=None)`` for many people (account erasure's batches): one
    read, each session deleted from the store, one DELETE of the rows, and each person's open
    websockets told (their memberships read once). Returns ``{user_id: sessions}``."""
    ids = list(user_ids)
    counts = dict.fromkeys(ids, 0)
    rows = list(UserSession.objects.filter(IdsIn("user_id", ids)).only("pk", "user_id", "sealed_key"))
    if not rows:
        return counts
    store = _store()
    for row in rows:
        key = unseal(row.sealed_key)
        if key:
            store(session_key=key).delete()
        counts[row.user_id] += 1
    UserSession.objects.filter(IdsIn("pk", [row.pk for row in rows])).delete()
    signed_in = sorted({row.user_id for row in rows})
    announce_access_changed_many(
        (workspace_id, user_id)
        for user_id, workspace_id in Membership.objects.filter(user_id__in=signed_in).values_list(
            "user_id", "workspace_id"
        )
    )
    return counts


@transaction.atomic
def session_revoke(*, user, session_id: int, current_key: str | None, request=None) -> bool:
    """Sign out one of ``user``'s sessions (404 for anyone else's or a missing one). Audits
    ``auth.sessions_signed_out`` (scope one). Returns whether it was the current session; the
    caller then signs the request out too."""
    row = selectors.session_get_or_404(user=user, session_id=session_id)
    this_device = bool(current_key) and row.key_hash == hash_key(current_key)
    _sign_out([row], user_id=user.pk)
    events.auth_session_signed_out(user=user, session_id=session_id, this_device=this_device, request=request)
    return this_device


@transaction.atomic
def sessions_revoke_others(*, user, current_key: str | None, scope: str = SCOPE_OTHERS, request=None) -> int:
    """Sign out every session of ``user`` but the current one; audited with ``scope`` when any
    was (a password change with no other session records nothing more than the change)."""
    rows = UserSession.objects.filter(user_id=user.pk)
    if current_key:
        rows = rows.exclude(key_hash=hash_key(current_key))
    count = _sign_out(rows.only("pk", "sealed_key"), user_id=user.pk)
    if count or scope == SCOPE_OTHERS:
        events.auth_sessions_signed_out(user=user, scope=scope, count=count, request=request)
    return count


@transaction.atomic
def sessions_revoke_all(*, user, scope: str | None = SCOPE_ALL, request=None) -> int:
    """Sign out every session of ``user``, the current one included (the caller signs the
    request out). ``scope=None``: not audited here (account deletion audits itself)."""
    count = _sign_out(UserSession.objects.filter(user_id=user.pk).only("pk", "sealed_key"), user_id=user.pk)
    if scope is not None and (count or scope == SCOPE_ALL):
        events.auth_sessions_signed_out(user=user, scope=scope, count=count, request=request)
    return count


def sessions_after_password_change(*, request, user, key_before: str | None) -> int:
    """A new password signs out every other browser at once (Django would refuse them only on
    their next request, and the list would still show them). The current row first follows the
    key ``update_session_auth_hash`` just cycled (``key_before``: the key before the change)."""
    session_touch(request=request, previous_key=key_before)
    return sessions_revoke_others(
        user=user, current_key=request.session.session_key, scope=SCOPE_PASSWORD_CHANGED, request=request
    )


def sessions_after_password_reset(*, request, user) -> int:
    """Whoever reset the password is not signed in: every session of the account goes."""
    return sessions_revoke_all(user=user, scope=SCOPE_PASSWORD_RESET, request=request)


# Reading, with what the store no longer holds left out -------------------------------------------


def sessions_listed(*, user, current_key: str | None) -> list[UserSession]:
    """``user``'s live sessions, this device first, then by last seen (sessions gone from the
    store are deleted on the way)."""
    current_hash = hash_key(current_key) if current_key else None
    rows = _live_rows(user)
    for row in rows:
        row.is_current = row.key_hash == current_hash
    rows.sort(key=lambda row: (not row.is_current, -row.last_seen_at.timestamp()))
    return rows
