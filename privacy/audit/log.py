"""Writing the audit log. ``audit_record`` is the one function every event goes through; product
code calls it only through the typed functions of privacy/audit/events.py.

Each event is hashed over its own content (``content_hash``, computed here, in the writer's
transaction) and then linked into its workspace's chain: ``hash = link(chain, seq, prev_hash,
content_hash)``. So an edited or removed row breaks the chain and ``manage.py verify_audit_log``
names it.

Linking needs the chain's head, which only one transaction may hold at a time, so where many
requests write to one workspace the linking is deferred (``AUDIT_SEAL_INLINE`` off): the writer
inserts the row unsealed (``seq`` NULL) without touching the head, and the sealer
(privacy/audit/sealer.py, a beat task every ``AUDIT_SEAL_INTERVAL_SECONDS``) links committed rows
in batches. With it on (the default without a Celery broker: SQLite has one writer at a time
anyway, and no beat runs), the writer links its own row under the head lock, as before.

The personal columns (``actor_label``, ``ip_address``, ``user_agent``) enter the chain hash only
through ``personal_hash = sha256(personal_salt, values)``. Erasing a person blanks those columns
and the salt (privacy/audit/maintenance.py) and keeps ``personal_hash``: the chain still
verifies, and without the salt the stored hash cannot be used to guess the old values back.
See docs/audit-log.md.
"""

import functools
import hashlib
import ipaddress
import json
import secrets
from datetime import UTC, timedelta
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from helpdesk import compiled_queries
from helpdesk.client_ip import client_ip_address
from helpdesk.partial_index import DiffersFrom
from privacy.audit import actions
from privacy.audit.models import AuditChainHead, AuditEvent

ACCOUNT_CHAIN = "account"
USER_AGENT_MAX = 300
LABEL_MAX = 254
TARGET_MAX = 64
DEDUPE_KEY_MAX = 128
DIGEST_VERSION = "v2"
# Rows with a content_hash: the content is hashed on its own, the chain links content hashes.
CONTENT_DIGEST_VERSION = "v3"


def chain_for(workspace) -> str:
    return f"ws:{workspace.pk}" if workspace is not None else ACCOUNT_CHAIN


_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode


def _json_canonical(value) -> str:
    return _dumps(value)


def personal_digest(salt: str, actor_label: str, ip_address: str | None, user_agent: str) -> str:
    """The hash standing in for the personal columns inside the chain."""
    return sha256(_dumps([salt, actor_label, ip_address, user_agent]).encode()).hexdigest()


def _utc_text(created_at) -> str:
    """An aware datetime as its UTC ``isoformat(timespec="microseconds")`` text (text: as is)."""
    if isinstance(created_at, str):
        return created_at
    if created_at.tzinfo is not UTC:
        created_at = created_at.astimezone(UTC)
    return created_at.isoformat(timespec="microseconds")


def content_digest_fast(
    chain, seq, prev_hash, created_at, workspace_id, actor_id, action, target_type, target_id, detail,
    dedupe_key, personal_hash,
) -> str:  # fmt: skip
    """The hash of an event's content chained to the previous hash. Stable across databases.

    Positional, for verify_audit_log's loop over millions of rows. A list, not a dict, so the
    field order is fixed without sorting; only ``detail`` is key-sorted. ``created_at`` is an
    aware datetime, or already its UTC ``isoformat(timespec="microseconds")`` text.
    """
    blob = _dumps(
        [
            DIGEST_VERSION,
            chain,
            seq,
            prev_hash,
            _utc_text(created_at),
            workspace_id,
            actor_id,
            action,
            target_type,
            target_id,
            detail,
            dedupe_key,
            personal_hash,
        ]
    )
    return sha256(blob.encode()).hexdigest()


def content_digest(
    chain, created_at, workspace_id, actor_id, action, target_type, target_id, detail, dedupe_key,
    personal_hash,
) -> str:  # fmt: skip
    """The hash of one event's own content (v3), written with the row, before it is sealed.

    Everything the v2 chain hash covered except the chain position (seq, prev_hash), which the
    sealer adds with ``link_digest``. Same canonical forms as ``content_digest_fast``.
    """
    blob = _dumps(
        [
            CONTENT_DIGEST_VERSION,
            chain,
            _utc_text(created_at),
            workspace_id,
            actor_id,
            action,
            target_type,
            target_id,
            detail,
            dedupe_key,
            personal_hash,
        ]
    )
    return sha256(blob.encode()).hexdigest()


def link_digest(chain: str, seq: int, prev_hash: str, content_hash: str) -> str:
    """The chain hash of a v3 row: its position and the previous hash over its content hash."""
    return sha256(_dumps([CONTENT_DIGEST_VERSION, chain, seq, prev_hash, content_hash]).encode()).hexdigest()


def event_content_digest(event: AuditEvent) -> str:
    return content_digest(
        event.chain,
        event.created_at,
        event.workspace_id,
        event.actor_id,
        event.action,
        event.target_type,
        event.target_id,
        event.detail,
        event.dedupe_key,
        event.personal_hash,
    )


def event_digest(event: AuditEvent) -> str:
    """The chain hash of ``event`` as it stands (its ``personal_hash`` must already be set, and
    for a v3 row its ``content_hash``); v2 for rows written before sealing was deferred."""
    if event.content_hash:
        return link_digest(event.chain, event.seq, event.prev_hash, event.content_hash)
    return content_digest_fast(
        event.chain,
        event.seq,
        event.prev_hash,
        event.created_at,
        event.workspace_id,
        event.actor_id,
        event.action,
        event.target_type,
        event.target_id,
        event.detail,
        event.dedupe_key,
        event.personal_hash,
    )


def normalize_ip(value: str | None) -> str | None:
    """The form the database gives back (PostgreSQL ``inet`` compresses IPv6), so hashes match."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address as every part of the product resolves it (``PROXY_COUNT``)."""
    if request is None:
        return None
    return normalize_ip(client_ip_address(request))


def _actor_label(actor) -> str:
    if actor is None:
        return ""
    return (actor.email or "")[:LABEL_MAX]


def lock_head(chain: str, *, skip_locked: bool = False) -> AuditChainHead | None:
    """Lock (creating if needed) the head row of ``chain``; only writers of that chain wait.

    With ``skip_locked`` (the sealer's sweep over all chains), ``None`` when another
    transaction holds it: that one is sealing the chain already."""
    head = AuditChainHead.objects.select_for_update(skip_locked=skip_locked).filter(pk=chain).first()
    if head is None:
        try:
            with transaction.atomic():
                AuditChainHead.objects.create(chain=chain)
        except IntegrityError:
            pass  # created meanwhile by a concurrent writer of the same chain
        head = AuditChainHead.objects.select_for_update(skip_locked=skip_locked).filter(pk=chain).first()
    return head


def seal_inline() -> bool:
    """Whether writers link their own events (see the module docstring)."""
    return getattr(settings, "AUDIT_SEAL_INLINE", True)


def _lock_dedupe_key(key: str) -> None:
    # Writers of one key in different chains would not meet on a chain head lock; on
    # PostgreSQL an advisory lock held to the end of the transaction serializes them. SQLite
    # runs one writing transaction at a time (IMMEDIATE), which serializes them already.
    if connection.vendor == "postgresql":
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def recent_events(key: str, since):
    """The events recorded with ``key`` since ``since``.

    The index covers only keyed events (``audit_dedupe_idx``): its predicate is repeated, with
    its literal, so a prepared statement's generic plan (``DB_PREPARE``), which cannot know that
    ``key`` is not "", still uses it instead of reading the whole log on every ticket view."""
    return AuditEvent.objects.filter(DiffersFrom("dedupe_key", "")).filter(
        dedupe_key=key, created_at__gte=since
    )


def _recent(key: str, window: timedelta) -> bool:
    # Its SQL kept per process (helpdesk.compiled_queries): this look runs on every view of a
    # ticket by staff, and building the query cost more than the database took to answer it.
    rows = compiled_queries.tuples_of(
        ("audit-recent", connection.vendor),
        lambda key, since: recent_events(key, since).values_list("pk")[:1],
        {"key": key, "since": timezone.now() - window},
    )
    return bool(rows)


def audit_record(
    *,
    action: str,
    request=None,
    actor=None,
    workspace=None,
    target=None,
    target_type: str = "",
    target_id: str | int = "",
    detail: dict[str, Any] | None = None,
    dedupe_key: str = "",
    dedupe_window: timedelta | None = None,
) -> AuditEvent | None:
    """Append one event to the workspace's chain (or the account chain).

    Runs inside the caller's transaction (or opens one), so the event commits or rolls back with
    the change it records. With ``AUDIT_SEAL_INLINE`` off it is one INSERT and takes no lock
    (but the dedupe key's): the returned event has ``seq`` None and empty ``prev_hash``/``hash``
    until the sealer links it. With it on, it locks the chain head row of that chain and returns
    the event linked.
    Never pass message bodies, passwords, tokens or file contents in ``detail``.

    ``action`` must be in privacy.audit.actions.ACTIONS (``ValueError`` otherwise).
    With ``dedupe_key`` and ``dedupe_window``, nothing is written (and ``None`` is returned)
    when an event with the same key was written within the window.
    """
    actions.validate_action(action)
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        if request.user.is_authenticated:
            actor = request.user
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    user_agent = ""
    if request is not None:
        user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]
    # What the database will give back, so the hash computed now is the one verify recomputes.
    detail = json.loads(_json_canonical(detail or {}))
    dedupe_key = dedupe_key[:DEDUPE_KEY_MAX]
    deduplicated = bool(dedupe_key and dedupe_window)
    # Cheap unlocked look first: a repeat (the common case for ticket views) takes no lock.
    if deduplicated and _recent(dedupe_key, dedupe_window):
        return None
    chain = chain_for(workspace)
    inline = seal_inline()
    fields = {
        "chain": chain,
        "workspace": workspace,
        "actor": actor,
        "actor_label": _actor_label(actor),
        "ip_address": client_ip(request),
        "user_agent": user_agent,
        "action": action,
        "target_type": target_type[:TARGET_MAX],
        "target_id": str(target_id)[:TARGET_MAX] if target_id != "" else "",
        "detail": detail,
        "dedupe_key": dedupe_key,
    }
    if not inline and not deduplicated and not connection.in_atomic_block:
        # Called on its own (no caller's transaction): one INSERT is atomic by itself, so no
        # BEGIN/COMMIT round trips around it.
        event = _unsealed(fields)
        _insert(event)
        return event
    with transaction.atomic(savepoint=False):
        if deduplicated:
            _lock_dedupe_key(dedupe_key)
            if _recent(dedupe_key, dedupe_window):
                return None
        if not inline:
            event = _unsealed(fields)
            _insert(event)
            return event
        head = lock_head(chain)
        # Taken under the head lock, so created_at grows with seq within the chain.
        event = _unsealed(fields)
        event.seq = head.last_seq + 1
        event.prev_hash = head.last_hash
        event.hash = event_digest(event)
        event.sealed_at = event.created_at
        _insert(event)
        AuditChainHead.objects.filter(pk=chain).update(last_seq=event.seq, last_hash=event.hash)
    return event


def _unsealed(fields: dict) -> AuditEvent:
    """The event with its salt, personal hash and content hash, not linked into the chain."""
    salt = secrets.token_hex(16)
    event = AuditEvent(created_at=timezone.now(), personal_salt=salt, **fields)
    event.personal_hash = personal_digest(salt, event.actor_label, event.ip_address, event.user_agent)
    event.content_hash = event_content_digest(event)
    return event


# Columns whose values audit_record already holds in the database's form (str, int, None): they
# skip the field's adaptation. Every other field (dates, JSON, IP address, and any added later)
# is adapted by its own get_db_prep_save, as the ORM would.
_PLAIN_FIELDS = (models.CharField, models.BigIntegerField, models.ForeignKey)


@functools.cache
def _insert_statement(vendor: str, returning: bool) -> tuple[str, tuple]:
    """The INSERT of one event (every concrete column but ``id``) and each column's adapter."""
    table = AuditEvent._meta.db_table
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    # bandit B608: the statement is built from the model's own table and column names only.
    sql = f"INSERT INTO {quote(table)} ({columns}) VALUES ({marks})"  # noqa: S608  # nosec B608
    if returning:
        sql += f" RETURNING {quote(AuditEvent._meta.pk.column)}"
    adapters = tuple(
        (field.attname, None if type(field) in _PLAIN_FIELDS else field.get_db_prep_save) for field in fields
    )
    return sql, adapters


def _insert(event: AuditEvent) -> None:
    """Insert ``event``: one statement, as ``save(force_insert=True)`` would, without the ORM
    compiling the same INSERT again for every event (a third of a write's CPU time: what a
    busy workspace's writers spend the machine on, issue 15)."""
    returning = connection.features.can_return_columns_from_insert
    sql, adapters = _insert_statement(connection.vendor, returning)
    values = [
        getattr(event, name) if adapt is None else adapt(getattr(event, name), connection)
        for name, adapt in adapters
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if returning:
            event.pk = cursor.fetchone()[0]
        else:
            event.pk = connection.ops.last_insert_id(cursor, AuditEvent._meta.db_table, "id")
    event._state.adding = False
    event._state.db = connection.alias


# --- bulk changes (issue 13) ---


def audit_record_many(*, action: str, workspace, actor=None, request=None, items) -> list[AuditEvent]:
    """``audit_record`` for many events of one action in one workspace's chain, each exactly as
    ``audit_record`` would write it, inserted in one statement: what a bulk change of hundreds
    of tickets needs to stay fast. ``items`` are ``(target, detail)`` pairs. Unsealed like any
    event (the sealer links them); with ``AUDIT_SEAL_INLINE`` the chain head is locked and moved
    once for all of them. No deduplication (these are changes, never rate-limited reads)."""
    actions.validate_action(action)
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        if request.user.is_authenticated:
            actor = request.user
    items = list(items)
    if not items:
        return []
    chain = chain_for(workspace)
    common = {
        "chain": chain,
        "workspace": workspace,
        "actor": actor,
        "actor_label": _actor_label(actor),
        "ip_address": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX] if request is not None else "",
        "action": action,
        "dedupe_key": "",
    }
    with transaction.atomic(savepoint=False):
        head = lock_head(chain) if seal_inline() else None
        events = []
        for target, detail in items:
            event = _unsealed(
                {
                    **common,
                    "target_type": target._meta.label_lower[:TARGET_MAX],
                    "target_id": str(target.pk)[:TARGET_MAX],
                    "detail": json.loads(_json_canonical(detail or {})),
                }
            )
            if head is not None:
                event.seq, event.prev_hash = head.last_seq + 1, head.last_hash
                event.hash = event_digest(event)
                event.sealed_at = event.created_at
                head.last_seq, head.last_hash = event.seq, event.hash
            events.append(event)
        AuditEvent.objects.bulk_create(events)
        if head is not None:
            AuditChainHead.objects.filter(pk=chain).update(last_seq=head.last_seq, last_hash=head.last_hash)
    return events
