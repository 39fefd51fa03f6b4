"""The retention sweep: ``manage.py enforce_retention`` and the beat task call ``retention_sweep``.

- **Batched**: each kind of each workspace is taken ``batch_size`` rows at a time; each batch is
  one transaction that acts on the rows and adds its counts to the run's progress row.
- **Idempotent**: the registered kinds' due querysets (privacy/personal_data/retention_kinds.py)
  exclude what is done (anonymized tickets carry ``anonymized_at``, redacted notes the marker;
  deleted rows are gone).
- **Concurrent runs**: a batch locks its rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so two workers never take the same rows; both add to the same run's counts. On
  SQLite writing transactions are serialized by the database (IMMEDIATE). Two workers' batches
  still touch shared rows (people's pseudonyms, whose codes are unique): PostgreSQL rolls back
  one of two batches that deadlock, and that batch is taken again (``DEADLOCK_RETRIES`` in a
  row at most; past that the worker stops and the other finishes the run). A second worker
  does not make a run faster: at 1M tickets two workers erasing requesters deadlocked every
  few seconds.
- **Killable**: progress lives in the database (``RetentionRun`` / ``RetentionRunWorkspace``).
  A killed batch rolls back whole; a run left RUNNING is continued by the next invocation, as of
  the same moment. Files whose rows a committed batch removed are listed in
  ``PendingFileDeletion`` in that same transaction and deleted from storage after the commit;
  rows left there by a process that died in between are deleted by the next run.
- **Lead-ins**: work an app does ahead of a kind's batches, in an order of its own
  (``LeadIn``: the inactive requesters' tickets, in ticket order, before the requesters are
  taken 2,000 at a time). Not counted, and not relied on: the kind's batches do whatever a lead-in
  left (killed, or stopped by a deadlock with another worker).
- **Audited**: each workspace gets one ``retention.run`` event per run, with counts per kind
  (written exactly once, under the progress row's lock).
"""

from __future__ import annotations

import gc
import logging
import time
from array import array
from collections.abc import Callable
from contextlib import contextmanager

from django.core.exceptions import EmptyResultSet
from django.core.files.storage import default_storage
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from helpdesk.id_arrays import IdsIn
from helpdesk.storage import delete_stored_file
from privacy.account.erasure import erase_account_data, erase_accounts_data
from privacy.audit import events
from privacy.personal_data.retention_kinds import (
    Batch,
    HoldSet,
    LeadIn,
    RetentionKind,
    lead_ins,
    retention_kinds,
)
from privacy.retention.account_kinds import account_days, account_kinds
from privacy.retention.holds import holds_in
from privacy.retention.models import (
    PendingFileDeletion,
    RetentionPolicy,
    RetentionRun,
    RetentionRunWorkspace,
    RunState,
)
from privacy.retention.policies import kind_names, policy_for
from workspaces.retention_kinds import workspaces_in_order

logger = logging.getLogger(__name__)

# Rows per transaction. 2,000 rather than 500: a batch's statements (about fifteen) and its
# bookkeeping cost the same whatever its size, and with 500 they were a third of the sweep's CPU
# (bench/retention_bench.py). A batch still holds a few thousand ids and file names, no more.
DEFAULT_BATCH = 2000
WAIT_FOR_OTHER_WORKER = 0.05
# A batch rolled back by a deadlock with another worker is taken again, at most this many times
# in a row (a deadlock that keeps coming back is not two workers crossing once).
DEADLOCK_RETRIES = 5
DEADLOCK_SQLSTATE = "40P01"


# Runs and progress --------------------------------------------------------------------------------------


def current_run(*, now=None, batch_size: int = DEFAULT_BATCH) -> RetentionRun:
    """The unfinished run (continued as of its own ``as_of``), or a new one as of ``now``."""
    run = RetentionRun.objects.filter(state=RunState.RUNNING).first()
    if run is not None:
        return run
    try:
        with transaction.atomic():
            return RetentionRun.objects.create(
                as_of=now or timezone.now(), started_at=timezone.now(), batch_size=batch_size
            )
    except IntegrityError:  # another worker started one meanwhile: share it
        return RetentionRun.objects.get(state=RunState.RUNNING)


def _progress(run: RetentionRun, workspace) -> RetentionRunWorkspace:
    try:
        with transaction.atomic():
            return RetentionRunWorkspace.objects.get_or_create(run=run, workspace=workspace)[0]
    except IntegrityError:
        return RetentionRunWorkspace.objects.get(run=run, workspace=workspace)


def _locked_progress(progress_id: int) -> RetentionRunWorkspace:
    return RetentionRunWorkspace.objects.select_for_update().get(pk=progress_id)


def _add_counts(progress_id: int, kind: str, done: int) -> None:
    """Inside the batch's transaction, last (the row lock is held only until its commit)."""
    progress = _locked_progress(progress_id)
    progress.counts[kind] = progress.counts.get(kind, 0) + done
    progress.save(update_fields=["counts"])


def _finish_kind(progress_id: int, kind: str, spared: int) -> None:
    with transaction.atomic():
        progress = _locked_progress(progress_id)
        if kind in progress.finished_kinds:
            return
        progress.finished_kinds = [*progress.finished_kinds, kind]
        progress.counts.setdefault(kind, 0)
        progress.spared[kind] = spared
        progress.save(update_fields=["finished_kinds", "counts", "spared"])


def _audit_workspace(progress_id: int, workspace, run: RetentionRun) -> None:
    """Write the workspace's ``retention.run`` event once, when every kind is finished."""
    with transaction.atomic():
        progress = _locked_progress(progress_id)
        if progress.audited_at is not None or set(progress.finished_kinds) != set(kind_names()):
            return
        events.retention_run(
            run=run,
            workspace=workspace,
            counts={kind: progress.counts.get(kind, 0) for kind in kind_names()},
            spared={kind: progress.spared.get(kind, 0) for kind in kind_names()},
        )
        progress.audited_at = timezone.now()
        progress.save(update_fields=["audited_at"])


def _finish_run(run: RetentionRun) -> None:
    with transaction.atomic():
        locked = RetentionRun.objects.select_for_update().get(pk=run.pk)
        if locked.state != RunState.DONE:
            locked.state = RunState.DONE
            locked.finished_at = timezone.now()
            locked.save(update_fields=["state", "finished_at"])
    run.refresh_from_db()


# Files: an outbox so a kill between commit and storage delete loses nothing ------------------------------


def _queue_file_deletions(names) -> list[int]:
    names = [name for name in names if name]
    if not names:
        return []
    if connection.vendor != "postgresql":
        rows = PendingFileDeletion.objects.bulk_create([PendingFileDeletion(name=n) for n in names])
        return [row.pk for row in rows if row.pk is not None]
    # One INSERT from an array, no model instance per file: building them cost a retention batch
    # more CPU than the INSERT itself.
    table = connection.ops.quote_name(PendingFileDeletion._meta.db_table)
    sql = f"INSERT INTO {table} (name, created_at) SELECT unnest(%s::varchar[]), %s RETURNING id"  # noqa: S608  # nosec B608 - the quoted table name only
    with connection.cursor() as cursor:
        cursor.execute(sql, [names, timezone.now()])
        return [row[0] for row in cursor.fetchall()]


def _unqueue_file_deletions(ids: list[int]) -> None:
    """The outbox rows of a committed batch, whose files its commit hooks deleted."""
    if connection.vendor != "postgresql":
        PendingFileDeletion.objects.filter(pk__in=ids).delete()
        return
    # One array literal, not an IN list of a batch's ids for psycopg to split and quote.
    table = connection.ops.quote_name(PendingFileDeletion._meta.db_table)
    sql = f"DELETE FROM {table} WHERE id = ANY(%s::bigint[])"  # noqa: S608  # nosec B608 - the quoted table name only
    with connection.cursor() as cursor:
        cursor.execute(sql, ["{" + ",".join(map(str, ids)) + "}"])


def flush_pending_file_deletions() -> int:
    """Delete from storage the files a committed batch removed but a dead process did not."""
    done = 0
    for pk, name in list(PendingFileDeletion.objects.order_by("pk").values_list("pk", "name")[:10000]):
        delete_stored_file(storage=default_storage, name=name)
        PendingFileDeletion.objects.filter(pk=pk).delete()
        done += 1
    return done


def _erase_account(user) -> None:
    """A requester the sweep left in no workspace: erased through account erasure's own path
    (legal holds respected), ``account.deleted`` audited."""
    erased, _pseudonym = erase_account_data(user)
    events.account_deleted_by_retention(
        user_id=user.pk, counts={k: v for k, v in sorted(erased.items()) if v}
    )


def _erase_accounts(users) -> None:
    """``_erase_account`` for the batch's people at once: one registry walk for all of them
    (``erase_accounts_data``), one ``account.deleted`` each, written in one statement."""
    erased = erase_accounts_data(users)
    events.accounts_deleted_by_retention(
        erased=[(user, {k: v for k, v in sorted(erased[user.pk][0].items()) if v}) for user in users]
    )


# Acting on one batch ------------------------------------------------------------------------------------


def _batch_of(workspace, policy: RetentionPolicy, holds: HoldSet, ids, run) -> Batch:
    return Batch(
        workspace_id=workspace.pk,
        ids=ids,
        policy=policy,
        holds=holds,
        now=run.as_of,
        queue_files=_queue_file_deletions,
        erase_account=_erase_account,
        erase_accounts=_erase_accounts,
    )


def _act(kind: RetentionKind, workspace, policy: RetentionPolicy, holds: HoldSet, ids, run) -> int:
    return kind.act(_batch_of(workspace, policy, holds, ids, run))


def _unlocked(rows):
    """``rows`` locked for this batch, leaving out those another worker's batch holds."""
    if connection.features.has_select_for_update_skip_locked:
        return rows.select_for_update(skip_locked=True, of=("self",))
    return rows


def _take_batch(kind: RetentionKind, workspace, policy, holds: HoldSet, run, size: int) -> list[int]:
    due, _ = kind.due(workspace.pk, policy, holds, run.as_of)
    return list(_unlocked(due).order_by(*kind.order_by).values_list("pk", flat=True)[:size])


def _is_deadlock(error: OperationalError) -> bool:
    # PostgreSQL's SQLSTATE for "deadlock detected" (psycopg's DeadlockDetected).
    return getattr(error.__cause__, "sqlstate", None) == DEADLOCK_SQLSTATE


def _batch(kind: RetentionKind, workspace, policy, holds, progress_id, run, *, batch_size, pause) -> tuple:
    """One batch in one transaction: (ids acted on, file deletions queued)."""
    outbox: list[int] = []
    with transaction.atomic():
        ids = _take_batch(kind, workspace, policy, holds, run, batch_size)
        if ids:
            if kind.file_names is not None:
                outbox = _queue_file_deletions(kind.file_names(ids))
            done = _act(kind, workspace, policy, holds, ids, run)
            if pause:  # tests: hold the batch open so a kill lands in the middle of it
                time.sleep(pause)
            _add_counts(progress_id, kind.name, done)
    return ids, outbox


# Rows of a lead-in's list converted at a time; the list is kept as 8-byte integers, not Python
# ints (a quarter of a million ids at 1M tickets: 2 MB rather than 9).
LEAD_IN_READ = 10_000


def _listed_ids(rows) -> array:
    """The primary keys of ``rows`` in order, in one statement. Not ``QuerySet.iterator()``: on
    PostgreSQL that is a server-side cursor, planned for its first rows (a probe per ticket,
    4.2 s at 1M tickets, against 0.27 s for a hash join and a sort)."""
    listed = array("q")
    try:
        sql, params = rows.order_by("pk").values_list("pk").query.sql_with_params()
    except EmptyResultSet:  # a queryset that can match nothing (``none()``, an empty IN list)
        return listed
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(LEAD_IN_READ):
            listed.extend(row[0] for row in chunk)
    return listed


def _sweep_lead_in(lead_in: LeadIn, workspace, run, *, batch_size) -> None:
    """The lead-in's batches, each in one transaction, in primary-key order.

    Its rows are listed once, then taken ``batch_size`` at a time, each batch asking ``due``
    again for just those rows (with the policy and holds as they are then: a hold placed or a
    person signing in meanwhile counts): 42 ms a batch in a 1M-ticket sweep, where asking
    ``due`` for "the next rows past the last batch" took 163 ms. It stops at the first deadlock with
    another worker: whatever it leaves, the kind's own batches do."""
    policy = policy_for(workspace)
    holds = holds_in(workspace.pk, now=run.as_of)
    planned = _listed_ids(lead_in.due(workspace.pk, policy, holds, run.as_of))
    for start in range(0, len(planned), batch_size):
        policy = policy_for(workspace)
        holds = holds_in(workspace.pk, now=run.as_of)
        outbox: list[int] = []
        try:
            with transaction.atomic():
                due = lead_in.due(workspace.pk, policy, holds, run.as_of)
                due = _unlocked(due.filter(IdsIn("pk", planned[start : start + batch_size])))
                ids = list(due.order_by("pk").values_list("pk", flat=True))
                if not ids:
                    continue
                if lead_in.file_names is not None:
                    outbox = _queue_file_deletions(lead_in.file_names(ids))
                lead_in.act(_batch_of(workspace, policy, holds, ids, run))
        except OperationalError as error:
            if not _is_deadlock(error):
                raise
            logger.warning(
                "Retention lead-in (%s) met another worker; its kind's batches finish it", lead_in.kind
            )
            return
        if outbox:
            _unqueue_file_deletions(outbox)


def _sweep_kind(kind: RetentionKind, workspace, progress_id, run, *, batch_size, pause, on_batch) -> None:
    for lead_in in lead_ins(kind.name):
        _sweep_lead_in(lead_in, workspace, run, batch_size=batch_size)
    deadlocks = 0
    while True:
        policy = policy_for(workspace)
        holds = holds_in(workspace.pk, now=run.as_of)
        try:
            ids, outbox = _batch(
                kind, workspace, policy, holds, progress_id, run, batch_size=batch_size, pause=pause
            )
        except OperationalError as error:
            # Two workers' batches can lock the same rows in opposite orders (two batches
            # creating the same person's pseudonym, each holding another's code; measured with
            # two sweeps at 100k tickets). PostgreSQL then rolls one batch back whole: it is
            # taken again, as a killed batch would be, rather than ending this worker's run.
            if not _is_deadlock(error) or deadlocks >= DEADLOCK_RETRIES:
                raise
            deadlocks += 1
            logger.warning(
                "Retention batch (%s) rolled back by a deadlock with another worker; retrying", kind.name
            )
            continue
        deadlocks = 0
        # Committed: the storage deletes queued with on_commit have run.
        if outbox:
            _unqueue_file_deletions(outbox)
        if ids:
            if on_batch is not None:
                on_batch(workspace, kind.name, len(ids))
            continue
        due, spared = kind.due(workspace.pk, policy, holds, run.as_of)
        if due.exists():  # rows another worker holds right now: wait for its commit
            time.sleep(WAIT_FOR_OTHER_WORKER)
            continue
        _finish_kind(progress_id, kind.name, spared.count())
        return


def _sweep_cut(kind: RetentionKind, workspace, progress_id, run) -> None:
    """One cut per run and workspace (the audit purge, under the chain head lock: a second
    worker finds nothing left to delete and adds 0)."""
    with transaction.atomic():
        progress = _locked_progress(progress_id)
        if kind.name in progress.finished_kinds:
            return
        policy = policy_for(workspace)
        holds = holds_in(workspace.pk, now=run.as_of)
        cut = kind.cut(workspace, policy, holds, run.as_of)
        deleted = kind.purge(workspace, cut)
        progress.counts[kind.name] = progress.counts.get(kind.name, 0) + deleted
        progress.spared[kind.name] = cut.spared
        progress.finished_kinds = [*progress.finished_kinds, kind.name]
        progress.save(update_fields=["counts", "spared", "finished_kinds"])


def _sweep_account(run: RetentionRun) -> None:
    """The installation's kinds, once per run, under the run's row lock (a second worker finds
    them done); a ``retention.run`` event on the account chain with the counts when it removed
    anything."""
    with transaction.atomic():
        locked = RetentionRun.objects.select_for_update().get(pk=run.pk)
        if locked.account_done_at is not None:
            return
        counts, spared = {}, {}
        for kind in account_kinds():
            days = account_days(kind.name)
            spared[kind.name] = kind.counts(run.as_of, days)[1]
            counts[kind.name] = kind.act(run.as_of, days)
        locked.account_counts, locked.account_spared = counts, spared
        locked.account_done_at = timezone.now()
        locked.save(update_fields=["account_counts", "account_spared", "account_done_at"])
        if any(counts.values()):  # a run that removed nothing at this level leaves no event
            events.retention_run(run=locked, workspace=None, counts=counts, spared=spared)


@contextmanager
def _process_objects_set_aside():
    """The objects the process holds before the sweep (Django's and the apps' own, about 120,000)
    are left out of the garbage collector's full collections while it runs: a sweep makes
    millions of short-lived objects, and each of its full collections walked all of them again
    (122 collections, 8.7 s of a 1M-ticket sweep; 2.2 s set aside). Put back afterwards, where
    the next full collection takes whatever among them was garbage: a long-lived worker keeps
    nothing it would not have kept, it only keeps it until the sweep ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def retention_sweep(
    *,
    now=None,
    batch_size: int = DEFAULT_BATCH,
    pause: float = 0.0,
    on_batch: Callable | None = None,
) -> RetentionRun:
    """Run (or continue) the retention run over every workspace and return it, DONE.

    ``now`` sets the moment a new run is as of (tests freeze it); a run left unfinished by a
    killed process is continued as of its own moment first. ``pause`` makes each batch wait
    that long before committing (tests kill a run in the middle of a batch).
    ``on_batch(workspace, kind, n)`` is called after each committed batch.
    """
    flush_pending_file_deletions()
    run = current_run(now=now, batch_size=batch_size)
    batch_size = max(1, int(batch_size or run.batch_size))
    with _process_objects_set_aside():
        # Before the workspaces: an account the inactive-requester kind erases takes its
        # remaining account-level rows with it (counted there), so the preview of both holds.
        _sweep_account(run)
        for workspace in workspaces_in_order():
            progress = _progress(run, workspace)
            if progress.audited_at is not None:
                continue
            for kind in retention_kinds():
                if kind.name in progress.finished_kinds:
                    continue
                if kind.cut is not None:
                    _sweep_cut(kind, workspace, progress.pk, run)
                else:
                    _sweep_kind(
                        kind,
                        workspace,
                        progress.pk,
                        run,
                        batch_size=batch_size,
                        pause=pause,
                        on_batch=on_batch,
                    )
            _audit_workspace(progress.pk, workspace, run)
    _finish_run(run)
    logger.info("Retention run %s finished", run.pk)
    return run


def run_account_counts(run: RetentionRun) -> dict[str, dict[str, int]]:
    """``{kind: {"due": n, "spared": m}}`` of the installation's kinds: the preview's shape."""
    run.refresh_from_db()
    return {
        kind.name: {
            "due": run.account_counts.get(kind.name, 0),
            "spared": run.account_spared.get(kind.name, 0),
        }
        for kind in account_kinds()
    }


def run_counts(run: RetentionRun) -> dict[int, dict[str, dict[str, int]]]:
    """``{workspace_id: {kind: {"due": n, "spared": m}}}``: the preview's shape, for comparing."""
    result = {}
    names = kind_names()
    for progress in RetentionRunWorkspace.objects.filter(run=run):
        result[progress.workspace_id] = {
            kind: {"due": progress.counts.get(kind, 0), "spared": progress.spared.get(kind, 0)}
            for kind in names
        }
    return result
