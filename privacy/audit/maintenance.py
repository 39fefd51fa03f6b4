"""The only two ways audit events ever change: the retention purge and anonymization.

The table refuses UPDATE and DELETE (a trigger, see migration 0005) unless the transaction
turned maintenance on: ``SET LOCAL helpdesk.audit_maintenance = 'on'`` on PostgreSQL (gone at
commit or rollback), a row in ``privacy_audit_maintenance`` inside the transaction on SQLite.
``audit_maintenance()`` does either, and only inside a transaction.

Both functions leave a chain that ``verify_audit_log`` accepts and record what they did:
- ``audit_events_purge`` deletes a prefix of one chain and appends ``audit.purged`` naming the
  new anchor (the first remaining seq and its prev_hash), from which verify starts the chain.
- ``audit_events_anonymize_user`` blanks the personal columns of one person's events and their
  salt; the chain hash covers only ``personal_hash``, which stays (docs/audit-log.md).
"""

from contextlib import contextmanager
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from privacy.audit import events
from privacy.audit.events import USER_TARGET_TYPE
from privacy.audit.log import ACCOUNT_CHAIN, chain_for, lock_head
from privacy.audit.models import AuditEvent
from privacy.audit.sealer import SEAL_BATCH, seal_locked

MAINTENANCE_NEEDS_TRANSACTION = "Audit maintenance must run inside a transaction (transaction.atomic)."
SQLITE_FLAG_TABLE = "privacy_audit_maintenance"
# The database refusal text (migration 0005 raises it from the trigger).
TRIGGER_REFUSAL = "audit events are append-only"


@contextmanager
def audit_maintenance():
    """Allow UPDATE/DELETE on privacy_auditevent for the rest of this block's transaction.

    Only privacy/audit/maintenance.py and tests use it: every other write goes through
    ``audit_record``.
    """
    if not connection.in_atomic_block:
        raise RuntimeError(MAINTENANCE_NEEDS_TRANSACTION)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL helpdesk.audit_maintenance = 'on'")
        elif connection.vendor == "sqlite":
            # bandit B608: a constant table name, no value is formatted in.
            cursor.execute(f"INSERT INTO {SQLITE_FLAG_TABLE} (enabled) VALUES (1)")  # noqa: S608  # nosec B608
    # On an error the transaction rolls back, which drops the flag on both databases.
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL helpdesk.audit_maintenance = 'off'")
        elif connection.vendor == "sqlite":
            cursor.execute(f"DELETE FROM {SQLITE_FLAG_TABLE}")  # noqa: S608  # nosec B608


def _table() -> str:
    return connection.ops.quote_name(AuditEvent._meta.db_table)


@transaction.atomic
def audit_events_purge(*, workspace=None, before: datetime, actor=None) -> AuditEvent | None:
    """Delete the events of one chain (the workspace's, or the account chain) created before
    ``before``; the retention sweep's documented path.

    Locks the chain head for the whole purge and first seals the chain's committed unsealed
    events (so old ones waiting for the sealer are purged like the rest). Deletes a prefix of
    the chain (everything below the first seq created at or after ``before``), so what remains
    is gapless; an unsealed row is never deleted. Appends ``audit.purged`` with the count and
    the new anchor, sealed at once, and returns it; returns ``None`` and writes nothing when
    there was nothing to delete.
    """
    if timezone.is_naive(before):
        raise ValueError("before must be an aware datetime.")
    chain = chain_for(workspace)
    # Created when missing: a chain whose events all still wait for the sealer has no head yet.
    head = lock_head(chain)
    while seal_locked(head) == SEAL_BATCH:
        pass
    chain_events = AuditEvent.objects.filter(chain=chain)
    first_kept = (
        chain_events.filter(created_at__gte=before).order_by("seq").values_list("seq", flat=True).first()
    )
    cut = first_kept if first_kept is not None else head.last_seq + 1
    with audit_maintenance(), connection.cursor() as cursor:
        # bandit B608: only the quoted table name is formatted in; values are parameters.
        cursor.execute(f"DELETE FROM {_table()} WHERE chain = %s AND seq < %s", [chain, cut])  # noqa: S608  # nosec B608
        deleted = cursor.rowcount
    if deleted <= 0:
        return None
    if first_kept is not None:
        anchor_seq, anchor_prev = chain_events.filter(seq=first_kept).values_list("seq", "prev_hash").get()
    else:
        # Nothing left: the purge event itself becomes the first link.
        anchor_seq, anchor_prev = head.last_seq + 1, head.last_hash
    event = events.audit_purged(
        workspace=workspace,
        deleted=deleted,
        before=before,
        anchor_seq=anchor_seq,
        anchor_prev_hash=anchor_prev,
        actor=actor,
    )
    if not event.sealed:
        # Still under the head lock: the anchor named above is exactly this event's link.
        seal_locked(head, ids=[event.pk])
        event.refresh_from_db(fields=["seq", "prev_hash", "hash", "sealed_at"])
    return event


@transaction.atomic
def audit_events_anonymize_user(*, user_id: int, actor=None, request=None, keep_chains=()) -> int:
    """Blank ``actor_label``, ``ip_address``, ``user_agent`` (and the salt) of every event the
    person did, and of the signed-out events about them (failed sign-ins, lockouts), in every
    chain but ``keep_chains`` (what a legal hold keeps). The chains still verify. Records
    ``audit.anonymized`` (account chain) with the count and returns it. Call it from the
    account-erasure service, in its transaction.
    """
    keep = sorted(keep_chains)
    kept_sql = f" AND chain NOT IN ({', '.join(['%s'] * len(keep))})" if keep else ""
    # bandit B608: only the quoted table name is formatted in; values are parameters.
    blank = (
        f"UPDATE {_table()} SET actor_label = '', ip_address = NULL, user_agent = '', "  # noqa: S608  # nosec B608
        "personal_salt = '' WHERE personal_salt <> '' AND "
    )
    with audit_maintenance(), connection.cursor() as cursor:
        cursor.execute(
            blank + "(actor_id = %s OR (actor_id IS NULL AND chain = %s AND target_type = %s "
            "AND target_id = %s))" + kept_sql,
            [user_id, ACCOUNT_CHAIN, USER_TARGET_TYPE, str(user_id), *keep],
        )
        count = max(cursor.rowcount, 0)
    event = events.audit_anonymized(user_id=user_id, count=count, actor=actor, request=request)
    if event.actor_id == user_id and ACCOUNT_CHAIN not in keep:
        # A person erasing themselves: this last event must not keep their address either.
        with audit_maintenance(), connection.cursor() as cursor:
            cursor.execute(blank + "id = %s", [event.pk])
    return count


@transaction.atomic
def audit_events_anonymize_users(*, users) -> dict[int, int]:
    """``audit_events_anonymize_user`` (no actor, no chain kept) for many people at once: the
    rows are counted per person in one read, blanked in one UPDATE, and each person gets their
    ``audit.anonymized`` event (written together). Returns ``{user_id: rows changed}``."""
    users = {user.pk: user for user in users}
    ids = sorted(users)
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    # bandit B608: formatted in are the quoted table name and placeholders (%s) only.
    where = (
        f"personal_salt <> '' AND (actor_id IN ({marks}) OR (actor_id IS NULL AND chain = %s "  # nosec B608
        f"AND target_type = %s AND target_id IN ({marks})))"
    )
    params = [*ids, ACCOUNT_CHAIN, USER_TARGET_TYPE, *[str(i) for i in ids]]
    counts = dict.fromkeys(ids, 0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT actor_id, target_id FROM {_table()} WHERE {where}",  # noqa: S608  # nosec B608
            params,
        )
        for actor_id, target_id in cursor.fetchall():
            owner = actor_id if actor_id is not None else int(target_id)
            if owner in counts:
                counts[owner] += 1
    if any(counts.values()):
        with audit_maintenance(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_table()} SET actor_label = '', ip_address = NULL, user_agent = '', "  # noqa: S608  # nosec B608
                f"personal_salt = '' WHERE {where}",
                params,
            )
    events.audits_anonymized(users_counts=[(users[i], counts[i]) for i in ids])
    return counts


@transaction.atomic
def audit_events_forget_signups(*, user_ids) -> int:
    """Blank the IP address, user agent and label of the account-chain events about sign-ups
    that were rejected or expired (the account is gone: ``account.signup`` and its kin keep no
    trace of who typed the address where). Records no event itself: the caller's
    ``account.signup_rejected`` / ``account.signups_purged`` counts it. Returns the rows changed."""
    ids = [str(int(u)) for u in user_ids]
    if not ids:
        return 0
    marks = ", ".join(["%s"] * len(ids))
    # bandit B608: formatted in are the quoted table name and placeholders (%s) only.
    sql = (
        f"UPDATE {_table()} SET actor_label = '', ip_address = NULL, user_agent = '', "  # noqa: S608  # nosec B608
        f"personal_salt = '' WHERE personal_salt <> '' AND chain = %s AND ("
        f"(target_type = %s AND target_id IN ({marks})) OR actor_id IN ({marks}))"
    )
    with audit_maintenance(), connection.cursor() as cursor:
        cursor.execute(sql, [ACCOUNT_CHAIN, USER_TARGET_TYPE, *ids, *[int(i) for i in ids]])
        return max(cursor.rowcount, 0)


@transaction.atomic
def audit_events_anonymize_targets(*, workspace_id: int, targets: dict[str, list], actor_ids=()) -> int:
    """Retention's path (issue 7): drop the IP address and user agent (and the salt) of the
    workspace's events about the given objects (``{"tickets.ticket": [ids], ...}``), and the
    email label of those done by ``actor_ids`` (the requester and participants). The chain
    still verifies (only ``personal_hash`` is chained). Returns the rows changed. Records no
    event itself: the sweep's ``retention.run`` event counts what it did."""
    chain = chain_for(_WorkspaceRef(workspace_id))
    about, params = [], [chain]
    for target_type, ids in sorted(targets.items()):
        ids = [str(int(i)) for i in ids]
        if ids:
            about.append(f"(target_type = %s AND target_id {_among(ids, 'text')})")
            params += [target_type, *_among_params(ids)]
    if not about:
        return 0
    where = f"chain = %s AND personal_salt <> '' AND ({' OR '.join(about)})"
    actor_ids = [str(int(a)) for a in actor_ids]
    label = "actor_label"
    if actor_ids:
        label = f"CASE WHEN actor_id {_among(actor_ids, 'bigint')} THEN '' ELSE actor_label END"
    # bandit B608: formatted in are the quoted table name and placeholders (%s) only.
    sql = (
        f"UPDATE {_table()} SET actor_label = {label}, ip_address = NULL, user_agent = '', "  # noqa: S608  # nosec B608
        f"personal_salt = '' WHERE {where}"
    )
    with audit_maintenance(), connection.cursor() as cursor:
        cursor.execute(sql, [*_among_params(actor_ids), *params])
        return max(cursor.rowcount, 0)


def _among(ids: list[str], kind: str) -> str:
    """``IN (...)`` of ``ids`` (digits), on PostgreSQL ``= ANY(%s::kind[])``: one parameter,
    one array literal, where a retention batch sent IN lists of thousands of placeholders
    that psycopg took apart and the server parsed, statement after statement."""
    if connection.vendor == "postgresql":
        return f"= ANY(%s::{kind}[])"
    return f"IN ({', '.join(['%s'] * len(ids))})"


def _among_params(ids: list[str]) -> list:
    if not ids:
        return []
    if connection.vendor == "postgresql":
        return ["{" + ",".join(ids) + "}"]
    return ids


class _WorkspaceRef:
    def __init__(self, pk):
        self.pk = pk
