"""Account deletion: deactivate at once, erase after a grace period, walking the registry.

``erasure_request`` (the account page and ``erase_user``) deactivates the account in the same
transaction that records the ``ErasureRequest``: from that moment no session of the person
works. Signing in with the right password before ``scheduled_for`` cancels the request
(``erasure_cancel``, called by ``privacy.account.backends.PendingErasureBackend``). When the grace period
ends, ``erasure_run`` walks the personal-data registry in one transaction: every registered
model's eraser runs, then the mentions pass replaces the person's email and name in other
people's words with the pseudonym. Run twice, it changes nothing the second time.

The User row stays as an inert tombstone (no usable password, inactive, an address in the
``.invalid`` domain, the pseudonym as its name): foreign keys from tickets, messages and the
audit log stay valid, and every place that shows the person shows the same pseudonym.
"""

import logging
from collections import Counter
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.account.anonymizers import SessionIndex, erase_sessions, mentions_scrub, mentions_scrub_many
from privacy.account.identifiers import identifiers_of, identifiers_of_many
from privacy.account.models import ConsentSource, ErasureRequest, ErasureState
from privacy.audit import events
from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext, HeldObjects
from privacy.personal_data.pseudonyms import mask_email, mask_name, pseudonym_for, pseudonym_labels_ensure
from privacy.retention import holds, policies
from privacy.retention.models import LegalHold

logger = logging.getLogger(__name__)

CONFIRM_WORD = "DELETE"
DEFAULT_GRACE_DAYS = 14
STALE_RUNNING = timedelta(hours=1)
MAX_AUTOMATIC_ATTEMPTS = 3

ALREADY_SCHEDULED = _("Deletion of this account is already scheduled.")
NOT_CANCELLABLE = _("This deletion can no longer be cancelled.")


def grace_days() -> int:
    return max(0, int(getattr(settings, "ACCOUNT_ERASURE_GRACE_DAYS", DEFAULT_GRACE_DAYS)))


def file_actions_for(workspace_ids) -> dict[int, str]:
    """``{workspace_id: "review" | "delete"}``: each workspace's choice for files erasure
    cannot rewrite (its retention settings)."""
    return policies.erasure_file_actions(workspace_ids)


def held_objects_for(user) -> HeldObjects:
    """What legal holds keep from this person's erasure (privacy/retention/holds.py, issue 7). Erasure
    skips what this returns and lists the reasons in ``kept``."""
    return holds.held_objects_for(user)


# Checks ------------------------------------------------------------------------------------------------


def deletion_blockers(user) -> list[str]:
    """Why the person may not delete their account yet (the apps that own the reasons register
    them: the last admin of a workspace must hand over first)."""
    return registry.erasure_blockers(user)


def pending_erasure(user) -> ErasureRequest | None:
    return (
        ErasureRequest.objects.filter(user_id=user.pk, state=ErasureState.SCHEDULED)
        .order_by("-requested_at")
        .first()
    )


# Writes ------------------------------------------------------------------------------------------------


@transaction.atomic
def erasure_request(
    *, user, request=None, via: str = ConsentSource.ACCOUNT, grace: int | None = None
) -> ErasureRequest:
    """Deactivate the account now and schedule its erasure ``grace`` days later (settings'
    ACCOUNT_ERASURE_GRACE_DAYS by default; 0 erases right after commit).

    Refuses while ``deletion_blockers`` gives a reason (``ValidationError``, code
    ``last_admin``). Deletes the person's sessions, runs the registered deactivation hooks (open
    websockets re-check access), audits ``account.deletion_requested``. The caller signs the
    current request out.
    """
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    blockers = deletion_blockers(user)
    if blockers:
        raise ValidationError(blockers, code="last_admin")
    existing = pending_erasure(user)
    if existing is not None:
        return existing
    days = grace_days() if grace is None else max(0, int(grace))
    now = timezone.now()
    erasure = ErasureRequest(
        user=user,
        masked_name=mask_name(user.display_name),
        masked_email=mask_email(user.email),
        requested_via=via,
        requested_at=now,
        scheduled_for=now + timedelta(days=days),
    )
    erasure.full_clean()
    erasure.save()
    user.is_active = False
    user.save(update_fields=["is_active"])
    events.account_deletion_requested(user=user, erasure=erasure, grace_days=days, via=via, request=request)
    erase_sessions(ErasureContext(user, "", "", "", frozenset(), frozenset()), None)
    registry.account_deactivated(user)
    if days == 0:
        transaction.on_commit(lambda: erasure_run_task.delay(erasure.pk))
    return erasure


@transaction.atomic
def erasure_cancel(*, user, request=None, reason: str = "signed_in") -> ErasureRequest | None:
    """Cancel a scheduled deletion still in its grace period and reactivate the account.
    Audits ``account.deletion_cancelled``. Returns ``None`` when nothing was cancellable."""
    erasure = (
        ErasureRequest.objects.select_for_update()
        .filter(user_id=user.pk, state=ErasureState.SCHEDULED, scheduled_for__gt=timezone.now())
        .first()
    )
    if erasure is None:
        return None
    erasure.state = ErasureState.CANCELLED
    erasure.cancelled_at = timezone.now()
    erasure.save(update_fields=["state", "cancelled_at"])
    get_user_model().objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    events.account_deletion_cancelled(user=user, erasure=erasure, reason=reason, request=request)
    return erasure


def _claim(erasure_id: int, *, force: bool, now=None) -> ErasureRequest | None:
    """Move a due (or forced) request to RUNNING in its own transaction; None if not runnable."""
    with transaction.atomic():
        erasure = ErasureRequest.objects.select_for_update().filter(pk=erasure_id).first()
        if erasure is None or erasure.state in (ErasureState.DONE, ErasureState.CANCELLED):
            return None
        now = now or timezone.now()
        if erasure.state == ErasureState.SCHEDULED and erasure.scheduled_for > now and not force:
            return None
        if erasure.state == ErasureState.RUNNING and not force and erasure.started_at > now - STALE_RUNNING:
            return None  # another worker is on it
        erasure.state = ErasureState.RUNNING
        erasure.started_at = now
        erasure.attempts += 1
        erasure.error = ""
        erasure.save(update_fields=["state", "started_at", "attempts", "error"])
        return erasure


def _context(user, *, pseudonym: str, held: HeldObjects) -> ErasureContext:
    known = identifiers_of(user)
    workspace_ids = registry.workspace_ids_of(user)
    return ErasureContext(
        user=user,
        email=user.email,
        name=user.display_name,
        pseudonym=pseudonym,
        staff_workspace_ids=registry.workspace_ids_of(user, staff=True),
        workspace_ids=workspace_ids,
        held=held,
        emails=known.emails,
        names=known.names,
        file_actions=file_actions_for(workspace_ids),
    )


def erasure_outcome(ctx: ErasureContext) -> list[dict]:
    """What the erasure record says was not removed, and why: what legal holds kept, and the
    files it could not rewrite (ids and fixed reasons only)."""
    return [*ctx.held.reasons, *ctx.unremoved]


def erase_account_data(
    user, *, held: HeldObjects | None = None, outcome: list | None = None
) -> tuple[Counter, str]:
    """Walk the registry for one person (inside the caller's transaction). Returns the counts
    and the pseudonym label; ``outcome`` (a list) receives what could not be removed."""
    held = held if held is not None else held_objects_for(user)
    pseudonym = pseudonym_for(user).label
    ctx = _context(user, pseudonym=pseudonym, held=held)
    for entry in registry.entries():
        if entry.erase == registry.KEEP:
            continue
        if entry.erase == registry.DELETE:
            ctx.counts[f"{entry.model._meta.model_name}_deleted"] += entry.delete_rows_of(user)
            continue
        ctx.counts.update(entry.eraser()(ctx, entry))
    for entry in registry.entries():
        if entry.mentions:
            ctx.counts["mentions_replaced"] += mentions_scrub(ctx, entry)
    if outcome is not None:
        outcome.extend(erasure_outcome(ctx))
    return ctx.counts, pseudonym


def held_objects_for_many(users) -> dict[int, HeldObjects]:
    """``held_objects_for`` for many people: one query when no legal hold is active (the usual
    case); otherwise each person is asked as one erasure does."""
    users = list(users)
    if not LegalHold.objects.active().exists():
        return {user.pk: HeldObjects() for user in users}
    return {user.pk: held_objects_for(user) for user in users}


def _contexts(users) -> list[ErasureContext]:
    """``_context`` of many people in a bounded number of queries (not per person)."""
    ids = [user.pk for user in users]
    labels = pseudonym_labels_ensure(ids)
    held = held_objects_for_many(users)
    known = identifiers_of_many(users)
    workspace_ids = registry.workspace_ids_of_many(users)
    staff_ids = registry.workspace_ids_of_many(users, staff=True)
    file_actions = file_actions_for(sorted({w for ws in workspace_ids.values() for w in ws}))
    index = SessionIndex()
    contexts = []
    for user in users:
        ctx = ErasureContext(
            user=user,
            email=user.email,
            name=user.display_name,
            pseudonym=labels[user.pk],
            staff_workspace_ids=staff_ids[user.pk],
            workspace_ids=workspace_ids[user.pk],
            held=held[user.pk],
            emails=known[user.pk].emails,
            names=known[user.pk].names,
            file_actions={w: a for w, a in file_actions.items() if w in workspace_ids[user.pk]},
        )
        ctx.session_index = index
        contexts.append(ctx)
    return contexts


def erase_accounts_data(users) -> dict[int, tuple[Counter, str]]:
    """``erase_account_data`` for many people at once (the retention sweep's inactive
    requesters), inside the caller's transaction: ``{user_id: (counts, pseudonym)}``.

    The same registry walk with the same erasers, taken entry by entry for all of them rather
    than person by person: the contexts read together, one DELETE per model for the ``DELETE``
    entries, each eraser's ``erase_many`` (set-based) where the owning app registered one, the
    sessions decoded once, each field's mentions of all of them found in one read. The number
    of queries per batch does not grow with the number of people (tests/privacy/
    test_erasure_batch.py), except for the few erasers without a set-based variant and for
    people under a legal hold, asked as one erasure does."""
    users = list(users)
    if not users:
        return {}
    contexts = _contexts(users)
    by_user = {ctx.user.pk: ctx for ctx in contexts}
    for entry in registry.entries():
        if entry.erase == registry.KEEP:
            continue
        if entry.erase == registry.DELETE:
            key = f"{entry.model._meta.model_name}_deleted"
            for user_id, deleted in entry.delete_rows_of_many(users).items():
                by_user[user_id].counts[key] += deleted
            continue
        if entry.erase_many is not None:
            for user_id, counts in entry.erase_many(contexts, entry).items():
                by_user[user_id].counts.update(counts)
            continue
        eraser = entry.eraser()
        for ctx in contexts:
            ctx.counts.update(eraser(ctx, entry))
    for entry in registry.entries():
        if entry.mentions:
            for user_id, changed in mentions_scrub_many(contexts, entry).items():
                by_user[user_id].counts["mentions_replaced"] += changed
    return {ctx.user.pk: (ctx.counts, ctx.pseudonym) for ctx in contexts}


def _error_text(error: Exception, *needles: str) -> str:
    text = f"{type(error).__name__}: {error}"
    for needle in needles:
        if needle:
            text = text.replace(needle, "***")
    return text[:2000]


def erasure_run(*, erasure_id: int, force: bool = False, now=None) -> ErasureRequest | None:
    """Erase the account of a due (or, with ``force``, any not yet finished) request.

    All database changes happen in one transaction, so a crash leaves nothing half done and the
    next run starts again from the same state; storage deletes follow the commit. Ends DONE with
    counts and ``account.deleted`` audited, or FAILED with the error (identifiers masked).
    """
    User = get_user_model()
    erasure = _claim(erasure_id, force=force, now=now)
    if erasure is None:
        return ErasureRequest.objects.filter(pk=erasure_id).first()
    user = User.objects.filter(pk=erasure.user_id).first() if erasure.user_id else None
    email, name = (user.email, user.display_name) if user is not None else ("", "")
    try:
        with transaction.atomic():
            outcome: list = []
            if user is None:
                counts, pseudonym = Counter(), ""
            else:
                user = User.objects.select_for_update().get(pk=user.pk)
                counts, pseudonym = erase_account_data(user, held=held_objects_for(user), outcome=outcome)
            erasure.state = ErasureState.DONE
            erasure.finished_at = timezone.now()
            erasure.counts = {key: value for key, value in sorted(counts.items()) if value}
            erasure.pseudonym = pseudonym
            erasure.kept = outcome
            erasure.save(update_fields=["state", "finished_at", "counts", "pseudonym", "kept"])
            events.account_deleted(erasure=erasure)
    except Exception as error:
        logger.exception("Erasure %s failed", erasure_id)
        ErasureRequest.objects.filter(pk=erasure.pk).update(
            state=ErasureState.FAILED, error=_error_text(error, email, name), finished_at=timezone.now()
        )
        erasure.refresh_from_db()
    return erasure


def erasures_due(*, now=None):
    now = now or timezone.now()
    return ErasureRequest.objects.filter(
        Q(state=ErasureState.SCHEDULED, scheduled_for__lte=now)
        | Q(state=ErasureState.RUNNING, started_at__lte=now - STALE_RUNNING)
        | Q(state=ErasureState.FAILED, attempts__lt=MAX_AUTOMATIC_ATTEMPTS)
    ).order_by("scheduled_for", "pk")


def erasures_run_due(*, now=None) -> int:
    """Run every due erasure (the beat task and ``erase_user --due``). Returns how many ran."""
    ran = 0
    for erasure_id in list(erasures_due(now=now).values_list("pk", flat=True)):
        erasure_run(erasure_id=erasure_id, force=False, now=now)
        ran += 1
    return ran


# Background work (Celery; in-process in the embedded default) ------------------------------------
# Task names are what queued messages and the beat schedule refer to: kept across module moves.


@shared_task(name="privacy.tasks.erasure_run")
def erasure_run_task(erasure_id: int, force: bool = False) -> str:
    erasure = erasure_run(erasure_id=erasure_id, force=force)
    return erasure.state if erasure is not None else "missing"


@shared_task(name="privacy.tasks.erasures_run_due")
def erasures_run_due_task() -> int:
    """Erase the accounts whose grace period ended (beat, every 15 minutes)."""
    return erasures_run_due()
