"""Recompute every audit chain and name the first broken link of each (``manage.py
verify_audit_log`` is the command around it; the benchmark calls it directly).

One streamed pass over the table in (chain, seq) order (the unique index), reading only the
columns the hashes need, as tuples. For each chain it reports the first broken link:

- ``content changed``: the row's recomputed hash (or its personal hash) differs from the stored
  one: a column was edited;
- ``row missing (seq gap)``: a seq is missing (a deleted row), or the chain starts later than
  seq 1 without an ``audit.purged`` anchor naming that start;
- ``prev-hash mismatch``: the row does not link to the stored hash of the row before it (the
  row before was edited and re-hashed, or rows were swapped);
- ``head mismatch``: the chain head (last seq and hash) disagrees with the last row (rows
  removed from the end, or a head without rows, or rows without a head).

Rows written since sealing was deferred carry their own ``content_hash`` (v3): for them the
content is checked against it and the chain hash links it. Rows not yet sealed are checked in a
second pass, against their content hash alone (``content changed``, with seq ``-``), and
counted: ``Result.pending`` and the age of the oldest, so a sealer that stopped shows.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import CharField, F, Func, Min

from privacy.audit.actions import AUDIT_PURGED
from privacy.audit.log import content_digest, content_digest_fast, link_digest, personal_digest
from privacy.audit.models import AuditChainHead, AuditEvent

# created_at as datetime.isoformat(timespec="microseconds") of the UTC time gives it.
PG_ISO_UTC = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""

REASON_CONTENT = "content changed"
REASON_GAP = "row missing (seq gap)"
REASON_PREV = "prev-hash mismatch"
REASON_HEAD = "head mismatch"

COLUMNS = (
    "id",
    "chain",
    "seq",
    "prev_hash",
    "hash",
    "created_at",
    "workspace_id",
    "actor_id",
    "actor_label",
    "ip_address",
    "user_agent",
    "action",
    "target_type",
    "target_id",
    "detail",
    "dedupe_key",
    "personal_salt",
    "personal_hash",
    "content_hash",
)


@dataclass
class Break:
    chain: str
    seq: int | None
    id: int | None
    reason: str
    note: str = ""

    def __str__(self):
        row = f"id={self.id}" if self.id is not None else "id=-"
        text = f"chain={self.chain} seq={self.seq} {row} reason={self.reason}"
        return f"{text} ({self.note})" if self.note else text


@dataclass
class Result:
    rows: int = 0
    chains: int = 0
    seconds: float = 0.0
    breaks: list[Break] = field(default_factory=list)
    # Rows not sealed yet (checked against their own content hash), and the oldest one's time.
    pending: int = 0
    oldest_pending: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float(self.rows)


class _Chain:
    __slots__ = (
        "name",
        "first_seq",
        "first_prev",
        "first_id",
        "next_seq",
        "prev_hash",
        "anchor",
        "first_break",
    )

    def __init__(self, name, row_id, seq, prev_hash):
        self.name = name
        self.first_seq = seq
        self.first_prev = prev_hash
        self.first_id = row_id
        self.next_seq = seq
        self.prev_hash = prev_hash
        self.anchor = None
        self.first_break = None


def _finish(chain: _Chain, heads: dict, result: Result) -> None:
    start_break = None
    if (chain.first_seq, chain.first_prev) != (1, ""):
        if chain.anchor != (chain.first_seq, chain.first_prev):
            start_break = Break(
                chain.name,
                chain.first_seq - 1,
                chain.first_id,
                REASON_GAP,
                f"chain starts at seq {chain.first_seq} without a matching audit.purged anchor",
            )
    head = heads.pop(chain.name, None)
    last_seq = chain.next_seq - 1
    head_break = None
    if head is None:
        head_break = Break(chain.name, last_seq, None, REASON_HEAD, "no head row for this chain")
    elif head != (last_seq, chain.prev_hash):
        head_break = Break(
            chain.name, last_seq, None, REASON_HEAD, f"head says seq {head[0]}, last row is seq {last_seq}"
        )
    first = start_break or chain.first_break or head_break
    if first is not None:
        result.breaks.append(first)


def _personal_ok(salt, actor_label, ip_address, user_agent, personal_hash) -> bool:
    if salt:
        return personal_digest(salt, actor_label, ip_address, user_agent) == personal_hash
    # Anonymized: the personal columns must be blank; the hash stands for them.
    return not actor_label and ip_address is None and not user_agent


def _verify_unsealed(events, columns, chunk_size, result: Result) -> int:
    """Check each row the sealer has not linked yet against its own content hash; one break per
    chain at most, like the chain pass. Returns the rows read."""
    count = 0
    broken = set()
    oldest = events.aggregate(oldest=Min("created_at"))["oldest"]
    for row in events.order_by("chain", "id").values_list(*columns).iterator(chunk_size=chunk_size):
        (row_id, name, _seq, prev_hash, stored_hash, created_at, workspace_id, actor_id, actor_label,
         ip_address, user_agent, action, target_type, target_id, detail, dedupe_key, salt, personal_hash,
         content_hash) = row  # fmt: skip
        count += 1
        if name in broken:
            continue
        note = "not yet sealed"
        if prev_hash or stored_hash:
            ok = False
            note = "not yet sealed, but carries chain hashes"
        elif not _personal_ok(salt, actor_label, ip_address, user_agent, personal_hash):
            ok = False
            note = "not yet sealed; personal columns"
        else:
            ok = content_hash == content_digest(
                name, created_at, workspace_id, actor_id, action, target_type, target_id, detail, dedupe_key,
                personal_hash,
            )  # fmt: skip
        if not ok:
            broken.add(name)
            result.breaks.append(Break(name, None, row_id, REASON_CONTENT, note))
    result.pending = count
    result.oldest_pending = oldest
    return count


def verify_audit_chains(*, chain: str | None = None, chunk_size: int = 5000) -> Result:
    """Walk the chains (all, or one) and return what was found; never raises on a break.

    Heads, sealed rows and unsealed rows are read in one snapshot (one REPEATABLE READ
    transaction on PostgreSQL), so a row the sealer links meanwhile is seen exactly once and
    the heads match the rows."""
    with transaction.atomic():
        if connection.vendor == "postgresql" and _outermost():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _verify(chain=chain, chunk_size=chunk_size)


def _outermost() -> bool:
    return len(connection.atomic_blocks) == 1 and not connection.savepoint_ids


def _verify(*, chain: str | None, chunk_size: int) -> Result:
    started = time.perf_counter()
    result = Result()
    heads_qs = AuditChainHead.objects.all()
    events = AuditEvent.objects.all()
    if chain is not None:
        heads_qs = heads_qs.filter(pk=chain)
        events = events.filter(chain=chain)
    heads = {
        name: (seq, digest) for name, seq, digest in heads_qs.values_list("chain", "last_seq", "last_hash")
    }
    columns = COLUMNS
    if connection.vendor == "postgresql":
        # The canonical text the hash uses, made by the database: parsing a million timestamps
        # in Python costs more than hashing them.
        events = events.annotate(
            created_at_iso=Func(F("created_at"), template=PG_ISO_UTC, output_field=CharField())
        )
        columns = tuple("created_at_iso" if name == "created_at" else name for name in COLUMNS)
    rows = (
        events.filter(seq__isnull=False)
        .order_by("chain", "seq")
        .values_list(*columns)
        .iterator(chunk_size=chunk_size)
    )
    current: _Chain | None = None
    count = 0
    for (
        row_id,
        name,
        seq,
        prev_hash,
        stored_hash,
        created_at,
        workspace_id,
        actor_id,
        actor_label,
        ip_address,
        user_agent,
        action,
        target_type,
        target_id,
        detail,
        dedupe_key,
        salt,
        personal_hash,
        content_hash,
    ) in rows:
        count += 1
        if current is None or name != current.name:
            if current is not None:
                _finish(current, heads, result)
            current = _Chain(name, row_id, seq, prev_hash)
            result.chains += 1
        problem = None
        if seq != current.next_seq:
            problem = Break(name, current.next_seq, row_id, REASON_GAP, f"next present row is seq {seq}")
        elif not _personal_ok(salt, actor_label, ip_address, user_agent, personal_hash):
            problem = Break(name, seq, row_id, REASON_CONTENT, "personal columns")
        elif content_hash:
            if (
                content_digest(
                    name,
                    created_at,
                    workspace_id,
                    actor_id,
                    action,
                    target_type,
                    target_id,
                    detail,
                    dedupe_key,
                    personal_hash,
                )  # fmt: skip
                != content_hash
                or link_digest(name, seq, prev_hash, content_hash) != stored_hash
            ):
                problem = Break(name, seq, row_id, REASON_CONTENT)
            elif prev_hash != current.prev_hash:
                problem = Break(name, seq, row_id, REASON_PREV)
        elif (
            content_digest_fast(
                name,
                seq,
                prev_hash,
                created_at,
                workspace_id,
                actor_id,
                action,
                target_type,
                target_id,
                detail,
                dedupe_key,
                personal_hash,
            )  # fmt: skip
            != stored_hash
        ):
            problem = Break(name, seq, row_id, REASON_CONTENT)
        elif prev_hash != current.prev_hash:
            problem = Break(name, seq, row_id, REASON_PREV)
        if problem is not None and current.first_break is None:
            current.first_break = problem
        if action == AUDIT_PURGED and isinstance(detail, dict):
            current.anchor = (detail.get("anchor_seq"), detail.get("anchor_prev_hash"))
        current.next_seq = seq + 1
        current.prev_hash = stored_hash
    if current is not None:
        _finish(current, heads, result)
    for name, (last_seq, _digest) in sorted(heads.items()):
        if last_seq > 0:
            result.breaks.append(Break(name, last_seq, None, REASON_HEAD, "head has no rows at all"))
    count += _verify_unsealed(events.filter(seq__isnull=True), columns, chunk_size, result)
    result.rows = count
    result.seconds = time.perf_counter() - started
    return result
