"""The retention sweep: ``manage.py enforce_retention`` and the beat task call ``retention_sweep``.

- **Batched**: each kind of each workspace is taken ``batch_size`` rows at a time; each batch is
  one transaction that acts on the rows and adds its counts to the run's progress row.
- **Idempotent**: the due querysets (privacy/retention/policies.py) exclude what is done (anonymized
  tickets carry ``anonymized_at``, redacted notes the marker; deleted rows are gone).
- **Concurrent runs**: a batch locks its rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so two workers never take the same rows; both add to the same run's counts. On
  SQLite writing transactions are serialized by the database (IMMEDIATE).
- **Killable**: progress lives in the database (``RetentionRun`` / ``RetentionRunWorkspace``).
  A killed batch rolls back whole; a run left RUNNING is continued by the next invocation, as of
  the same moment. Files whose rows a committed batch removed are listed in
  ``PendingFileDeletion`` in that same transaction and deleted from storage after the commit;
  rows left there by a process that died in between are deleted by the next run.
- **Audited**: each workspace gets one ``retention.run`` event per run, with counts per kind
  (written exactly once, under the progress row's lock).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from privacy.audit import actions
from privacy.audit.log import audit_record
from privacy.retention.holds import HoldSet, holds_in
from privacy.retention.models import (
    PendingFileDeletion,
    RetentionPolicy,
    RetentionRun,
    RetentionRunWorkspace,
    RunState,
    TicketAction,
)
from privacy.retention.policies import (
    AUDIT_EVENTS,
    KINDS,
    REQUESTERS,
    SELECTORS,
    TICKETS,
    audit_cut,
    policy_for,
)

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 500
WAIT_FOR_OTHER_WORKER = 0.05


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
        if progress.audited_at is not None or set(progress.finished_kinds) != set(KINDS):
            return
        audit_record(
            action=actions.RETENTION_RUN,
            workspace=workspace,
            target=run,
            detail={
                "run": run.pk,
                "as_of": run.as_of.isoformat(),
                "counts": {kind: progress.counts.get(kind, 0) for kind in KINDS},
                "spared": {kind: progress.spared.get(kind, 0) for kind in KINDS},
            },
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
    rows = PendingFileDeletion.objects.bulk_create([PendingFileDeletion(name=n) for n in names if n])
    return [row.pk for row in rows if row.pk is not None]


def flush_pending_file_deletions() -> int:
    """Delete from storage the files a committed batch removed but a dead process did not."""
    from helpdesk.storage import delete_stored_file

    done = 0
    for pk, name in list(PendingFileDeletion.objects.order_by("pk").values_list("pk", "name")[:10000]):
        delete_stored_file(storage=default_storage, name=name)
        PendingFileDeletion.objects.filter(pk=pk).delete()
        done += 1
    return done


def _file_names(kind: str, ids: list[int]) -> list[str]:
    from privacy.account.models import DataExport
    from tickets.models import Attachment

    if kind == TICKETS:
        return list(Attachment.objects.filter(ticket_id__in=ids).values_list("file", flat=True))
    if kind == "notes":
        return list(Attachment.objects.filter(message_id__in=ids).values_list("file", flat=True))
    if kind == "attachments":
        return list(Attachment.objects.filter(pk__in=ids).values_list("file", flat=True))
    if kind == "exports":
        return list(DataExport.objects.filter(pk__in=ids).values_list("file", flat=True))
    return []


# Inactive requesters -------------------------------------------------------------------------------------


def requester_expire(*, membership, now) -> dict[str, int]:
    """An inactive requester leaves the workspace: their tickets there are anonymized, their
    words elsewhere in it redacted, their files deleted, their membership ended
    (``member.removed``). A person left in no workspace is erased through account erasure's own
    path (``erase_account_data``, legal holds respected) and ``account.deleted`` is audited.
    Runs inside the batch's transaction."""
    from privacy.account import anonymizers
    from privacy.account.erasure import erase_account_data
    from privacy.retention.holds import held_tickets
    from tickets.models import Attachment, Message, Ticket
    from workspaces.models import Membership, User
    from workspaces.services import member_remove

    workspace_id, user_id = membership.workspace_id, membership.user_id
    holds = holds_in(workspace_id, now=now)
    held = held_tickets(workspace_id, holds)
    counts: dict[str, int] = {}
    tickets = Ticket.objects.filter(
        workspace_id=workspace_id, requester_id=user_id, anonymized_at__isnull=True
    )
    ticket_ids = list(tickets.exclude(pk__in=held).values_list("pk", flat=True))
    for start in range(0, len(ticket_ids), DEFAULT_BATCH):
        chunk = ticket_ids[start : start + DEFAULT_BATCH]
        _queue_file_deletions(_file_names(TICKETS, chunk))
        for key, value in anonymizers.tickets_anonymize(
            workspace_id=workspace_id, ticket_ids=chunk, now=now
        ).items():
            counts[key] = counts.get(key, 0) + value
    words = Message.objects.filter(workspace_id=workspace_id, author_id=user_id).exclude(ticket_id__in=held)
    word_ids = list(words.values_list("pk", flat=True))
    if word_ids:
        _queue_file_deletions(_file_names("notes", word_ids))
        anonymizers.messages_anonymize(workspace_id=workspace_id, message_ids=word_ids)
        counts["messages_redacted"] = Message.objects.filter(pk__in=word_ids).update(author=None)
    files = Attachment.objects.filter(workspace_id=workspace_id, uploaded_by_id=user_id).exclude(
        ticket_id__in=held
    )
    file_ids = list(files.values_list("pk", flat=True))
    if file_ids:
        _queue_file_deletions(_file_names("attachments", file_ids))
        anonymizers.attachments_expire(workspace_id=workspace_id, attachment_ids=file_ids)
    member_remove(membership=membership, actor=None)
    user = User.objects.select_for_update().get(pk=user_id)
    if not Membership.objects.filter(user_id=user_id).exists() and user.is_active and not user.is_superuser:
        erased, pseudonym = erase_account_data(user)
        audit_record(
            action=actions.ACCOUNT_DELETED,
            actor=None,
            target_type="workspaces.user",
            target_id=user_id,
            detail={"reason": "retention", "counts": {k: v for k, v in sorted(erased.items()) if v}},
        )
        counts["accounts_erased"] = 1
    return counts


# Acting on one batch ------------------------------------------------------------------------------------


def _act(kind: str, workspace, policy: RetentionPolicy, ids: list[int], run: RetentionRun) -> int:
    from privacy.account import anonymizers

    if kind == TICKETS:
        if policy.tickets_action == TicketAction.DELETE:
            anonymizers.tickets_delete(workspace_id=workspace.pk, ticket_ids=ids)
        else:
            anonymizers.tickets_anonymize(workspace_id=workspace.pk, ticket_ids=ids, now=run.as_of)
        return len(ids)
    if kind == "notes":
        anonymizers.messages_anonymize(workspace_id=workspace.pk, message_ids=ids)
        return len(ids)
    if kind == "attachments":
        anonymizers.attachments_expire(workspace_id=workspace.pk, attachment_ids=ids)
        return len(ids)
    if kind == "exports":
        from privacy.account.models import DataExport

        anonymizers.delete_stored_files(
            (default_storage, name)
            for name in DataExport.objects.filter(pk__in=ids).values_list("file", flat=True)
        )
        DataExport.objects.filter(pk__in=ids).delete()
        return len(ids)
    if kind == REQUESTERS:
        from workspaces.models import Membership

        for membership in Membership.objects.filter(pk__in=ids).select_related("user", "workspace"):
            requester_expire(membership=membership, now=run.as_of)
        return len(ids)
    raise ValueError(kind)


def _take_batch(kind: str, workspace, policy, holds: HoldSet, run: RetentionRun, size: int) -> list[int]:
    due, _ = SELECTORS[kind](workspace.pk, policy, holds, run.as_of)
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    # Tickets in the order of their retention index (workspace, closed_at, id): each batch reads
    # only its own rows however many are due.
    order = ("closed_at", "pk") if kind == TICKETS else ("pk",)
    return list(due.order_by(*order).values_list("pk", flat=True)[:size])


def _sweep_kind(kind, workspace, progress_id, run, *, batch_size, pause, on_batch) -> None:
    while True:
        policy = policy_for(workspace)
        holds = holds_in(workspace.pk, now=run.as_of)
        outbox: list[int] = []
        with transaction.atomic():
            ids = _take_batch(kind, workspace, policy, holds, run, batch_size)
            if ids:
                outbox = _queue_file_deletions(_file_names(kind, ids))
                done = _act(kind, workspace, policy, ids, run)
                if pause:  # tests: hold the batch open so a kill lands in the middle of it
                    time.sleep(pause)
                _add_counts(progress_id, kind, done)
        # Committed: the storage deletes queued with on_commit have run.
        if outbox:
            PendingFileDeletion.objects.filter(pk__in=outbox).delete()
        if ids:
            if on_batch is not None:
                on_batch(workspace, kind, len(ids))
            continue
        due, spared = SELECTORS[kind](workspace.pk, policy, holds, run.as_of)
        if due.exists():  # rows another worker holds right now: wait for its commit
            time.sleep(WAIT_FOR_OTHER_WORKER)
            continue
        _finish_kind(progress_id, kind, spared.count())
        return


def _sweep_audit(workspace, progress_id, run) -> None:
    """One purge per run and workspace, under the chain head lock (a second worker finds
    nothing left to delete and adds 0)."""
    from privacy.audit.maintenance import audit_events_purge

    with transaction.atomic():
        progress = _locked_progress(progress_id)
        if AUDIT_EVENTS in progress.finished_kinds:
            return
        policy = policy_for(workspace)
        holds = holds_in(workspace.pk, now=run.as_of)
        cut = audit_cut(workspace.pk, policy, holds, run.as_of)
        deleted = 0
        if cut.before is not None:
            event = audit_events_purge(workspace=workspace, before=cut.before)
            deleted = event.detail["deleted"] if event is not None else 0
        progress.counts[AUDIT_EVENTS] = progress.counts.get(AUDIT_EVENTS, 0) + deleted
        progress.spared[AUDIT_EVENTS] = cut.spared
        progress.finished_kinds = [*progress.finished_kinds, AUDIT_EVENTS]
        progress.save(update_fields=["counts", "spared", "finished_kinds"])


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
    from workspaces.models import Workspace

    flush_pending_file_deletions()
    run = current_run(now=now, batch_size=batch_size)
    batch_size = max(1, int(batch_size or run.batch_size))
    for workspace in Workspace.objects.order_by("pk"):
        progress = _progress(run, workspace)
        if progress.audited_at is not None:
            continue
        for kind in KINDS:
            if kind in progress.finished_kinds:
                continue
            if kind == AUDIT_EVENTS:
                _sweep_audit(workspace, progress.pk, run)
            else:
                _sweep_kind(
                    kind, workspace, progress.pk, run, batch_size=batch_size, pause=pause, on_batch=on_batch
                )
        _audit_workspace(progress.pk, workspace, run)
    _finish_run(run)
    logger.info("Retention run %s finished", run.pk)
    return run


def run_counts(run: RetentionRun) -> dict[int, dict[str, dict[str, int]]]:
    """``{workspace_id: {kind: {"due": n, "spared": m}}}``: the preview's shape, for comparing."""
    result = {}
    for progress in RetentionRunWorkspace.objects.filter(run=run):
        result[progress.workspace_id] = {
            kind: {"due": progress.counts.get(kind, 0), "spared": progress.spared.get(kind, 0)}
            for kind in KINDS
        }
    return result
