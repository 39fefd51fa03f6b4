"""Erasers of privacy's own models and of Django's and third-party apps' (registered by
privacy/account/builtin.py), and the mentions pass account erasure runs over every registered
model. The erasers of tickets and workspaces data live in those apps (``tickets.personal_data``,
``workspaces.personal_data``); the building blocks that anonymize a ticket, a message or a file
(shared with retention) are in tickets/anonymize.py.

Every eraser has the signature ``f(ctx, entry) -> dict[str, int]`` (counts by name) and is
idempotent: run twice, the second run changes nothing. They run inside the erasure transaction
(privacy/account/erasure.py); storage deletes are queued with ``transaction.on_commit``.
"""

from __future__ import annotations

import json
import re

from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Q

from helpdesk.partial_index import sql_literal
from helpdesk.storage import delete_stored_file_on_commit
from privacy.account.models import DataExport
from privacy.audit.maintenance import audit_events_anonymize_user, audit_events_anonymize_users
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.pseudonyms import scrub

BATCH = 500


# Building blocks (shared with retention) -------------------------------------------------------------


def _fit(model, field_name: str, value: str) -> str:
    max_length = model._meta.get_field(field_name).max_length
    return value[:max_length] if max_length else value


def mentions_scrub(ctx: ErasureContext, entry) -> int:
    """Replace the person's addresses (everywhere) and names (in their workspaces), current and
    earlier ones, in the free-text fields the registry lists as ``mentions`` with the pseudonym.
    Rows under a legal hold too: a hold keeps the content, not who the erased person was (the
    privacy policy promises the pseudonym). Returns the rows changed."""
    return mentions_scrub_many([ctx], entry)[ctx.user.pk]


NEEDLES_PER_PATTERN = 100
FEW_NEEDLES = 8


def _any_of(field_name: str, needles) -> Q:
    """Rows whose ``field_name`` contains any of ``needles`` (ignoring case): one ``icontains``
    per needle for a few; for many (a batch of people), the same asked as one alternation per
    hundred needles (the database tries one pattern per row rather than one per needle)."""
    needles = sorted({n for n in needles if n})
    condition = Q(pk__in=[])
    if len(needles) <= FEW_NEEDLES:
        # One person's few addresses and names: PostgreSQL's ILIKE beats a regular expression.
        for needle in needles:
            condition |= Q(**{f"{field_name}__icontains": needle})
        return condition
    for start in range(0, len(needles), NEEDLES_PER_PATTERN):
        alternatives = "|".join(re.escape(n) for n in needles[start : start + NEEDLES_PER_PATTERN])
        condition |= Q(**{f"{field_name}__iregex": alternatives})
    return condition


def _mentions_condition(contexts, field_name: str, has_workspace: bool) -> Q:
    """A superset of the rows any of the people's scrubs may change (the scrub decides)."""
    emails = [e for ctx in contexts if ctx.mentions_email for e in ctx.all_emails]
    condition = _any_of(field_name, emails)
    named = [ctx for ctx in contexts if ctx.mentions_name]
    if named:
        by_name = _any_of(field_name, [n for ctx in named for n in ctx.all_names])
        if has_workspace:
            by_name &= Q(workspace_id__in=sorted({w for ctx in named for w in ctx.workspace_ids}))
        condition |= by_name
    return condition


NEEDLES_PER_INDEX_SCAN = 10


def _are_literal(needle: str) -> str:
    """``needle`` as a PostgreSQL regular expression matching it literally: a backslash before
    every character that is not a letter or digit is always that character itself."""
    return "".join(c if c.isalnum() else "\\" + c for c in needle)


def _indexed_candidates(model, field_name: str, needles, skip: str | None = None) -> list[int] | None:
    """The primary keys of the rows whose ``field_name`` contains any of ``needles`` (ignoring
    case), found through the field's trigram index on ``UPPER(field)`` (PostgreSQL; ``None``
    elsewhere: the caller scans).

    One query: a UNION of one index scan per ``NEEDLES_PER_INDEX_SCAN`` needles, each asking
    for an alternation of them (pg_trgm turns it into the trigrams any of them needs), so the
    database checks only the rows holding a needle's trigrams, never every row. Not one scan
    per needle: each GIN scan also reads the index's pending list, which a batch of updates
    just before (the sweep's) makes long. Not more needles per scan: past pg_trgm's limit on
    trigrams per expression it keeps only some of them, and the scan returns most rows (25
    needles: 12,592 of 101,000 subjects to recheck, 8 s a batch at 100,000 tickets; 10: 0.2 s).
    ``skip``: the text the index leaves out (``mentions_index_skips``); each scan says so too."""
    if connection.vendor != "postgresql":
        return None
    needles = sorted({n for n in needles if n})
    if not needles:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field_name).column)
    pk = connection.ops.quote_name(model._meta.pk.column)
    patterns = [
        "|".join(_are_literal(n) for n in needles[start : start + NEEDLES_PER_INDEX_SCAN])
        for start in range(0, len(needles), NEEDLES_PER_INDEX_SCAN)
    ]
    # bandit B608: formatted in are quoted identifiers of the model's own table; the patterns
    # are parameters.
    arm = f"SELECT {pk} FROM {table} WHERE UPPER({column}::text) ~* %s"  # noqa: S608  # nosec B608
    if skip is not None:
        # Written into the SQL, not a parameter: the partial index's own predicate
        # (helpdesk.partial_index), one of our markers.
        arm += f" AND {column}::text <> {sql_literal(skip)}::text"
    with connection.cursor() as cursor:
        # The planner prices a regular expression per row far below its cost and reads a small
        # table whole (5 s for 10,000 subjects against 0.5 s through the index): the index is
        # made the only way for this statement, then the setting is put back (both local to the
        # caller's transaction).
        cursor.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")
        previous = cursor.fetchone()[0]
        # On an error the rollback (of the transaction or savepoint) puts the setting back.
        cursor.execute(" UNION ".join([arm] * len(patterns)), patterns)
        found = sorted(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [previous])
    return found


def _candidates(model, field_name: str, contexts, has_workspace: bool, indexed: bool, skip: str | None):
    """The rows any of the people's scrubs may change (a superset: the scrub decides), not the
    rows holding exactly ``skip`` (a marker naming nobody) on any database."""
    manager = model._base_manager
    if indexed:
        needles = [e for ctx in contexts if ctx.mentions_email for e in ctx.all_emails]
        needles += [n for ctx in contexts if ctx.mentions_name for n in ctx.all_names]
        ids = _indexed_candidates(model, field_name, needles, skip)
        if ids is not None:
            return manager.filter(pk__in=ids)
    rows = manager.filter(_mentions_condition(contexts, field_name, has_workspace))
    return rows if skip is None else rows.exclude(**{field_name: skip})


def mentions_scrub_many(contexts, entry) -> dict[int, int]:
    """``mentions_scrub`` for several people at once: one read per field finds the rows that
    mention any of them (through the field's trigram index where the registry says it has one:
    ``mentions_indexed``), and each row gets each person's scrub in turn (as erasing them one
    after the other would). Returns ``{user_id: rows changed by that person's scrub}``."""
    model = entry.model
    has_workspace = any(f.name == "workspace" for f in model._meta.concrete_fields)
    changed = {ctx.user.pk: 0 for ctx in contexts}
    rewritten: list = []
    skips = dict(entry.mentions_index_skips)
    for field_name in entry.mentions:
        indexed = field_name in entry.mentions_indexed
        rows = _candidates(model, field_name, contexts, has_workspace, indexed, skips.get(field_name))
        columns = ("pk", field_name, "workspace_id") if has_workspace else ("pk", field_name)
        batch = []
        for obj in rows.only(*columns).iterator(chunk_size=BATCH):
            original = text = getattr(obj, field_name)
            for ctx in contexts:
                new = scrub(text, ctx.email_pattern, ctx.pseudonym) if ctx.mentions_email else text
                if ctx.mentions_name and (not has_workspace or obj.workspace_id in ctx.workspace_ids):
                    new = scrub(new, ctx.name_pattern, ctx.pseudonym)
                if new != text:
                    changed[ctx.user.pk] += 1
                    text = new
            if text != original:
                setattr(obj, field_name, _fit(model, field_name, text))
                batch.append(obj)
            if len(batch) >= BATCH:
                model._base_manager.bulk_update(batch, [field_name])
                rewritten += [obj.pk for obj in batch]
                batch = []
        if batch:
            model._base_manager.bulk_update(batch, [field_name])
            rewritten += [obj.pk for obj in batch]
    if rewritten and entry.derived is not None:
        # What the model stores rendered from the text (a message's HTML) must not keep the name.
        entry.derived(rewritten)
    return changed


# Erasers privacy registers (privacy/account/builtin.py) ------------------------------------------


def sessions_holding(*, user_id: int | None = None, emails=()) -> list[str]:
    """Keys of the sessions (expired ones too: they stay in the table until swept) signed in as
    ``user_id`` or holding any of ``emails`` anywhere in their data (the address a sign-up
    form remembers for its "check your inbox" page). Sessions are signed blobs: each is decoded."""
    needles = [e.lower() for e in emails if e]
    found = []
    for session in Session.objects.iterator(chunk_size=BATCH):
        data = session.get_decoded()
        if user_id is not None and str(data.get("_auth_user_id", "")) == str(user_id):
            found.append(session.pk)
        elif needles:
            text = json.dumps(data, default=str).lower()
            if any(needle in text for needle in needles):
                found.append(session.pk)
    return found


class SessionIndex:
    """Every session decoded once: who each is signed in as, and its data as lowered text.

    ``sessions_holding`` decodes the whole table per call; erasing many people at once (the
    retention sweep's inactive requesters) asks this instead, built once per batch inside the
    batch's transaction, so the table is decoded once per batch rather than once per person.
    Only the texts with an "@" are kept for the address search: an address cannot be in the
    others, and a signed-in session's data (who, which backend, a hash) has none, so a batch of
    2,000 people no longer reads every session's text 2,000 times."""

    def __init__(self):
        # Positions keep the table's order, which ``sessions_holding`` answers in.
        self.by_user: dict[str, list[tuple[int, str]]] = {}
        self.texts: list[tuple[int, str, str]] = []
        self.with_at: list[tuple[int, str, str]] = []
        for position, session in enumerate(Session.objects.iterator(chunk_size=BATCH)):
            data = session.get_decoded()
            user_id = str(data.get("_auth_user_id", ""))
            if user_id:
                self.by_user.setdefault(user_id, []).append((position, session.pk))
            text = json.dumps(data, default=str).lower()
            self.texts.append((position, session.pk, text))
            if "@" in text:
                self.with_at.append((position, session.pk, text))

    def holding(self, *, user_id: int | None = None, emails=()) -> list[str]:
        """What ``sessions_holding`` answers, from the decoded snapshot (same order)."""
        needles = [e.lower() for e in emails if e]
        found = dict(self.by_user.get(str(user_id), ())) if user_id is not None else {}
        if needles:
            texts = self.with_at if all("@" in needle for needle in needles) else self.texts
            for position, key, text in texts:
                if position not in found and any(needle in text for needle in needles):
                    found[position] = key
        return [found[position] for position in sorted(found)]


def sessions_forget_addresses(emails) -> int:
    """Delete the sessions that remember one of ``emails`` (a rejected or expired sign-up's
    "check your inbox" page); returns how many."""
    keys = sessions_holding(emails=emails)
    return Session.objects.filter(pk__in=keys).delete()[0] if keys else 0


def erase_sessions(ctx: ErasureContext, entry) -> dict[str, int]:
    """Delete every session of the person, and every session whose data holds one of their
    addresses (a sign-up page remembers the address it sent to)."""
    index = ctx.session_index
    if index is not None:
        mine = index.holding(user_id=ctx.user.pk, emails=ctx.all_emails)
    else:
        mine = sessions_holding(user_id=ctx.user.pk, emails=ctx.all_emails)
    deleted = Session.objects.filter(pk__in=mine).delete()[0] if mine else 0
    return {"sessions_revoked": deleted}


def erase_sessions_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_sessions`` for many people: the sessions decoded once, one DELETE. A session
    holding two of them counts for the first, as erasing them one after the other would."""
    index = contexts[0].session_index if contexts else None
    if index is None:
        index = SessionIndex()
    counts = {ctx.user.pk: {"sessions_revoked": 0} for ctx in contexts}
    claimed: set[str] = set()
    for ctx in contexts:
        for key in index.holding(user_id=ctx.user.pk, emails=ctx.all_emails):
            if key not in claimed:
                claimed.add(key)
                counts[ctx.user.pk]["sessions_revoked"] += 1
    if claimed:
        Session.objects.filter(pk__in=sorted(claimed)).delete()
    return counts


def erase_exports(ctx: ErasureContext, entry) -> dict[str, int]:
    """Export archives hold everything about the person: delete the files and the rows (unless
    a legal hold keeps them: the erasure record lists the hold)."""
    if ctx.held.exports:
        return {"exports_kept_by_hold": DataExport.objects.filter(user_id=ctx.user.pk).count()}
    exports = list(DataExport.objects.filter(user_id=ctx.user.pk))
    for export in exports:
        if export.file.name:
            delete_stored_file_on_commit(storage=export.file.storage, name=export.file.name)
    deleted = DataExport.objects.filter(pk__in=[e.pk for e in exports]).delete()[0] if exports else 0
    return {"exports_deleted": deleted}


def erase_exports_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_exports`` for many people: one read, one DELETE (held people's exports kept)."""
    held = {ctx.user.pk for ctx in contexts if ctx.held.exports}
    counts: dict[int, dict[str, int]] = {
        ctx.user.pk: {"exports_kept_by_hold" if ctx.user.pk in held else "exports_deleted": 0}
        for ctx in contexts
    }
    exports = list(DataExport.objects.filter(user_id__in=list(counts)))
    doomed = []
    for export in exports:
        if export.user_id in held:
            counts[export.user_id]["exports_kept_by_hold"] += 1
            continue
        if export.file.name:
            delete_stored_file_on_commit(storage=export.file.storage, name=export.file.name)
        doomed.append(export.pk)
        counts[export.user_id]["exports_deleted"] += 1
    if doomed:
        DataExport.objects.filter(pk__in=doomed).delete()
    return counts


def erase_admin_log(ctx: ErasureContext, entry) -> dict[str, int]:
    """The Django admin names changed objects by ``str()``: entries about the person's row get
    the pseudonym (mentions elsewhere are scrubbed by the mentions pass)."""
    user_type = ContentType.objects.get_for_model(type(ctx.user))
    changed = entry.model._base_manager.filter(content_type=user_type, object_id=str(ctx.user.pk)).update(
        object_repr=ctx.pseudonym
    )
    return {"admin_log_entries_renamed": changed}


def erase_admin_log_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_admin_log`` for many people: one read of the entries about their rows, one
    UPDATE giving each entry its person's pseudonym."""
    from django.db.models import Case, CharField, Value, When

    if not contexts:
        return {}
    user_type = ContentType.objects.get_for_model(type(contexts[0].user))
    by_key = {str(ctx.user.pk): ctx for ctx in contexts}
    manager = entry.model._base_manager
    rows = list(
        manager.filter(content_type=user_type, object_id__in=list(by_key)).values_list("pk", "object_id")
    )
    counts = {ctx.user.pk: {"admin_log_entries_renamed": 0} for ctx in contexts}
    if rows:
        for _pk, object_id in rows:
            counts[by_key[object_id].user.pk]["admin_log_entries_renamed"] += 1
        label = Case(
            *[When(object_id=key, then=Value(ctx.pseudonym)) for key, ctx in by_key.items()],
            output_field=CharField(),
        )
        manager.filter(pk__in=[pk for pk, _ in rows]).update(object_repr=label)
    return counts


def erase_lockout_records(ctx: ErasureContext, entry) -> dict[str, int]:
    """django-axes rows carry the address typed at sign-in, the IP and the browser: deleted,
    under every address the person signed in with."""
    if not ctx.all_emails:
        return {"lockout_records_deleted": 0}
    rows = entry.model._base_manager.filter(_iexact_any("username", ctx.all_emails))
    return {"lockout_records_deleted": rows.delete()[0]}


def erase_lockout_records_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_lockout_records`` for many people: one read, one DELETE. A row under an address
    two of them had counts for the first."""
    counts = {ctx.user.pk: {"lockout_records_deleted": 0} for ctx in contexts}
    owner: dict[str, int] = {}
    for ctx in contexts:
        for email in ctx.all_emails:
            owner.setdefault(email.lower(), ctx.user.pk)
    if not owner:
        return counts
    manager = entry.model._base_manager
    rows = list(manager.filter(_iexact_any("username", list(owner))).values_list("pk", "username"))
    for _pk, username in rows:
        counts[owner[(username or "").lower()]]["lockout_records_deleted"] += 1
    if rows:
        manager.filter(pk__in=[pk for pk, _ in rows]).delete()
    return counts


def _iexact_any(field_name: str, values) -> Q:
    condition = Q(pk__in=[])
    for value in values:
        condition |= Q(**{f"{field_name}__iexact": value})
    return condition


def erase_audit_events(ctx: ErasureContext, entry) -> dict[str, int]:
    """IP addresses, user agents and the email label of the person's events are blanked by the
    audit log's own documented path; the chain still verifies. Chains a legal hold keeps
    (``ctx.held.audit_chains``) are left as they are."""
    return {
        "audit_events_anonymized": audit_events_anonymize_user(
            user_id=ctx.user.pk, actor=None, keep_chains=ctx.held.audit_chains
        )
    }


def erase_audit_events_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_audit_events`` for many people: the people whose chains no hold keeps are
    anonymized together (one UPDATE, one ``audit.anonymized`` each, written together); the
    others one by one, as one erasure does."""
    plain = [ctx for ctx in contexts if not ctx.held.audit_chains]
    counts = {}
    if plain:
        done = audit_events_anonymize_users(users=[ctx.user for ctx in plain])
        counts = {user_id: {"audit_events_anonymized": n} for user_id, n in done.items()}
    for ctx in contexts:
        if ctx.held.audit_chains:
            counts[ctx.user.pk] = erase_audit_events(ctx, entry)
    return counts
