"""Sealing: linking committed, unsealed audit events into their chain (docs/audit-log.md).

Writers insert events unsealed, in their own transaction and without any chain lock
(privacy/audit/log.py). ``seal_pending`` then, per chain and under that chain's head lock, takes
the unsealed rows it can see, in ``id`` order, gives them the next gapless ``seq`` and
``hash = link(chain, seq, prev_hash, content_hash)``, and moves the head, in batches of
``batch`` rows, one transaction per batch.

Why the order is safe although ids are not handed out in commit order: the chain position is
given here, at sealing, never reserved at writing. A transaction that took id 100 and commits
after the sealer linked ids 101-150 is not a gap: its row was invisible (uncommitted) then, and
the next run links it after 150. So the chain order is the order in which rows were sealed,
``id`` order within one batch; nothing is skipped and nothing is waited for (no grace period).
A row becomes part of the chain at most one sealer interval after its commit.

Two sealers at once: each batch locks the chain head (``SELECT ... FOR UPDATE``; the sweep over
all chains uses ``SKIP LOCKED`` so concurrent sweeps share the chains instead of queueing), and
re-reads the unsealed rows after taking it, so a row is sealed exactly once; the UPDATE also
requires ``seq IS NULL`` and the batch rolls back if any row was not updated. A sealer that dies
mid-batch rolls back its transaction: the rows stay unsealed, with their content hash, for the
next run. The database trigger (migration 0016) allows this one change of a row and no other.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from privacy.audit.log import link_digest, lock_head
from privacy.audit.models import AuditChainHead, AuditEvent

SEAL_BATCH = 1000
SEAL_CONFLICT = (
    "Audit sealing conflict: a row was sealed by someone else while this sealer held the chain head."
)


@dataclass
class SealResult:
    sealed: int = 0
    chains: int = 0
    batches: int = 0


def pending_chains() -> list[str]:
    """The chains that have unsealed rows (read from the small partial index)."""
    return sorted(
        AuditEvent.objects.filter(seq__isnull=True).order_by().values_list("chain", flat=True).distinct()
    )


def _table() -> str:
    return connection.ops.quote_name(AuditEvent._meta.db_table)


def _apply(links: list[tuple[int, int, str, str]], sealed_at) -> int:
    """Write the (id, seq, prev_hash, hash) links in one statement (PostgreSQL) or one
    executemany (SQLite); returns the rows updated."""
    table = _table()
    sealed_at = connection.ops.adapt_datetimefield_value(sealed_at)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids, seqs, prevs, hashes = (list(column) for column in zip(*links, strict=True))
            # bandit B608: only the quoted table name is formatted in; values are parameters.
            cursor.execute(
                f"UPDATE {table} AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash, "  # noqa: S608  # nosec B608
                "sealed_at = %s FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) "
                "AS v(id, seq, prev_hash, hash) WHERE e.id = v.id AND e.seq IS NULL",
                [sealed_at, ids, seqs, prevs, hashes],
            )
            return cursor.rowcount
        # bandit B608: as above, the table name only.
        cursor.executemany(
            f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s, sealed_at = %s "  # noqa: S608  # nosec B608
            "WHERE id = %s AND seq IS NULL",
            [(seq, prev, digest, sealed_at, row_id) for row_id, seq, prev, digest in links],
        )
        return cursor.rowcount


def seal_locked(head: AuditChainHead, *, batch: int = SEAL_BATCH, ids=None) -> int:
    """Seal up to ``batch`` unsealed rows of ``head``'s chain (only ``ids`` if given), in id
    order. The caller holds the head row locked (``lock_head``) in its open transaction."""
    rows = AuditEvent.objects.filter(chain=head.chain, seq__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    rows = list(rows.order_by("id").values_list("id", "content_hash")[:batch])
    if not rows:
        return 0
    seq, prev = head.last_seq, head.last_hash
    links = []
    for row_id, content_hash in rows:
        seq += 1
        digest = link_digest(head.chain, seq, prev, content_hash)
        links.append((row_id, seq, prev, digest))
        prev = digest
    if _apply(links, timezone.now()) != len(links):
        raise RuntimeError(SEAL_CONFLICT)
    AuditChainHead.objects.filter(pk=head.chain).update(last_seq=seq, last_hash=prev)
    head.last_seq, head.last_hash = seq, prev
    return len(links)


def _seal_batch(chain: str, batch: int, *, skip_locked: bool) -> int:
    with transaction.atomic():
        head = lock_head(chain, skip_locked=skip_locked)
        if head is None:
            return 0
        return seal_locked(head, batch=batch)


def seal_pending(*, chain: str | None = None, batch: int = SEAL_BATCH, max_batches: int = 100) -> SealResult:
    """Seal the committed unsealed events of one chain (waiting for its head) or of every chain
    (skipping a chain whose head another transaction holds: it is being sealed or written).

    Idempotent and safe to run from several processes at once. Each batch is its own
    transaction when called outside one (inside one, each batch is a savepoint and the heads
    stay locked until the caller commits); at most ``max_batches`` batches per chain
    per call, so one busy chain cannot hold a run forever (the next run continues)."""
    result = SealResult()
    names = [chain] if chain is not None else pending_chains()
    for name in names:
        sealed_here = 0
        for _ in range(max_batches):
            count = _seal_batch(name, batch, skip_locked=chain is None)
            result.batches += 1 if count else 0
            sealed_here += count
            if count < batch:
                break
        if sealed_here:
            result.chains += 1
            result.sealed += sealed_here
    return result
