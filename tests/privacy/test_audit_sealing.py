"""Deferred sealing (issue 15): writers insert events unsealed without any chain lock, the sealer
links them into one gapless chain; nothing is lost when the sealer does not run or dies, two
sealers at once seal every row exactly once, and the database allows sealing and nothing else."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from privacy.audit import actions, sealer
from privacy.audit.log import audit_record, chain_for, lock_head
from privacy.audit.maintenance import TRIGGER_REFUSAL, audit_events_purge
from privacy.audit.models import AuditChainHead, AuditEvent
from privacy.audit.sealer import seal_locked, seal_pending
from privacy.audit.tasks import audit_seal_pending_task
from privacy.audit.verify import REASON_CONTENT, verify_audit_chains
from tests.concurrency import run_threads
from tests.factories import UserFactory, WorkspaceFactory
from tests.privacy.audit_support import raw_sql, request_for, run_verify
from workspaces.access import audit_refused_at

POSTGRES_ONLY_WHY = "SQLite runs one writing transaction at a time: no two writers or sealers overlap there"


@pytest.fixture
def deferred(settings):
    settings.AUDIT_SEAL_INLINE = False


def _write(workspace, count, start=0):
    return [
        audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"i": start + i})
        for i in range(count)
    ]


def _chain_seqs(workspace):
    rows = AuditEvent.objects.filter(chain=chain_for(workspace))
    return list(rows.order_by("seq").values_list("seq", flat=True))


def _raw(sql, params=()):
    """Raw SQL on the audit table without the maintenance flag: what the trigger judges."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.mark.django_db
def test_a_deferred_write_is_one_insert_and_touches_no_chain_head(
    deferred, workspace, django_assert_num_queries
):
    with transaction.atomic(), django_assert_num_queries(1):
        event = audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"a": 1})
    assert (event.seq, event.prev_hash, event.hash, event.sealed) == (None, "", "", False)
    assert len(event.content_hash) == 64
    assert not AuditChainHead.objects.exists()

    result = seal_pending()
    assert (result.sealed, result.chains) == (1, 1)
    event.refresh_from_db()
    assert (event.seq, event.prev_hash, event.sealed) == (1, "", True)
    assert event.sealed_at >= event.created_at
    assert AuditChainHead.objects.get(pk=chain_for(workspace)).last_hash == event.hash
    # Idempotent: nothing left to seal.
    assert seal_pending().sealed == 0


@pytest.mark.django_db(transaction=True)
def test_a_crash_between_write_and_seal_loses_nothing(deferred, monkeypatch):
    first, second = WorkspaceFactory(slug="one"), WorkspaceFactory(slug="two")
    _write(first, 30)
    _write(second, 12)
    audit_record(action=actions.AUTH_LOGIN)

    # The sealer never ran: every event is there, checked against its own hash, and shown.
    ok, out, err = run_verify()
    assert ok, err
    assert "Verified 43 events" in out
    assert "43 of them not yet sealed" in out

    # The sealer dies in the middle of a batch (after writing links, before moving the head).
    real_apply = sealer._apply

    def apply_then_die(links, sealed_at):
        real_apply(links, sealed_at)
        raise RuntimeError("sealer killed")

    monkeypatch.setattr(sealer, "_apply", apply_then_die)
    with pytest.raises(RuntimeError, match="sealer killed"):
        seal_pending(batch=10)
    assert not AuditEvent.objects.filter(seq__isnull=False).exists()
    assert not AuditChainHead.objects.filter(last_seq__gt=0).exists()

    # Started again later, it chains everything, once.
    monkeypatch.setattr(sealer, "_apply", real_apply)
    assert seal_pending(batch=10).sealed == 43
    assert _chain_seqs(first) == list(range(1, 31))
    assert _chain_seqs(second) == list(range(1, 13))
    ok, out, err = run_verify()
    assert ok, err
    assert "Verified 43 events in 3 chains" in out
    assert "not yet sealed" not in out


@pytest.mark.django_db(transaction=True)
def test_a_late_committer_is_sealed_after_younger_rows_without_a_gap(deferred):
    if connection.vendor != "postgresql":
        pytest.skip(POSTGRES_ONLY_WHY)
    workspace = WorkspaceFactory(slug="late")
    inserted, release = threading.Event(), threading.Event()
    late = {}

    def slow_request():
        try:
            with transaction.atomic():
                late["event"] = audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace)
                inserted.set()
                assert release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_request)
    thread.start()
    assert inserted.wait(30)
    younger = _write(workspace, 5)
    assert all(event.pk > late["event"].pk for event in younger)
    assert seal_pending().sealed == 5  # the older id is not committed yet: not seen, not waited for
    release.set()
    thread.join(30)
    assert seal_pending().sealed == 1
    late_row = AuditEvent.objects.get(pk=late["event"].pk)
    assert late_row.seq == 6
    assert _chain_seqs(workspace) == [1, 2, 3, 4, 5, 6]
    assert verify_audit_chains().ok


@pytest.mark.django_db(transaction=True)
def test_two_sealers_at_once_make_one_gapless_chain(deferred):
    postgres = connection.vendor == "postgresql"
    sealers = 4 if postgres else 2
    first, second = WorkspaceFactory(slug="one"), WorkspaceFactory(slug="two")
    _write(first, 240 if postgres else 60)
    _write(second, 80 if postgres else 20)
    total = AuditEvent.objects.count()
    sealed = []

    def seal(index):
        # Half wait on one chain's head, half sweep every chain skipping held heads.
        chain = chain_for(first) if index % 2 else None
        count = 0
        while AuditEvent.objects.filter(seq__isnull=True).exists():
            count += seal_pending(chain=chain, batch=15).sealed
            if chain is not None and not AuditEvent.objects.filter(chain=chain, seq__isnull=True).exists():
                chain = None
        sealed.append(count)

    run_threads(sealers, seal)

    assert sum(sealed) == total  # every row sealed exactly once (a second seal would be refused)
    assert _chain_seqs(first) == list(range(1, (240 if postgres else 60) + 1))
    assert _chain_seqs(second) == list(range(1, (80 if postgres else 20) + 1))
    result = verify_audit_chains()
    assert result.ok, result.breaks
    assert (result.rows, result.pending) == (total, 0)


@pytest.mark.django_db(transaction=True)
def test_events_of_concurrent_writers_are_all_sealed_exactly_once(deferred):
    postgres = connection.vendor == "postgresql"
    writers, per_writer = (4, 100) if postgres else (2, 30)
    workspace = WorkspaceFactory(slug="busy")
    finished, lock = [], threading.Lock()
    done = threading.Event()
    sealed = []

    def work(index):
        if index == writers:  # the sealer, running while the writers write
            count = 0
            while not done.wait(0.01):
                count += seal_pending(batch=25).sealed
            sealed.append(count + seal_pending(batch=25).sealed)
            return
        try:
            for i in range(per_writer):
                audit_record(
                    action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"w": index, "i": i}
                )
        finally:
            with lock:
                finished.append(index)
                if len(finished) == writers:
                    done.set()

    run_threads(writers + 1, work)

    total = writers * per_writer
    assert sealed == [total]
    assert _chain_seqs(workspace) == list(range(1, total + 1))
    assert not AuditEvent.objects.filter(sealed_at__isnull=True).exists()
    detail_pairs = {(e["w"], e["i"]) for e in AuditEvent.objects.values_list("detail", flat=True)}
    assert len(detail_pairs) == total
    assert verify_audit_chains().ok


@pytest.mark.django_db
def test_the_database_allows_sealing_and_refuses_every_other_change(deferred, workspace):
    pending, sealed_row = _write(workspace, 2)
    with transaction.atomic():
        seal_locked(lock_head(chain_for(workspace)), ids=[sealed_row.pk])
    table = "privacy_auditevent"
    refusals = [
        # a sealed row: its content, and a second seal
        (f"UPDATE {table} SET action = 'auth.login' WHERE id = %s", [sealed_row.pk]),  # noqa: S608
        (f"UPDATE {table} SET seq = 7, hash = %s WHERE id = %s", ["f" * 64, sealed_row.pk]),  # noqa: S608
        (
            f"UPDATE {table} SET seq = NULL, prev_hash = '', hash = '', sealed_at = NULL WHERE id = %s",
            [sealed_row.pk],
        ),  # noqa: S608, E501
        # an unsealed row: its content, and a "seal" that also changes content
        (f"UPDATE {table} SET detail = '{{}}' WHERE id = %s", [pending.pk]),  # noqa: S608
        (
            f"UPDATE {table} SET seq = 9, hash = %s, sealed_at = created_at, target_id = 'x' WHERE id = %s",  # noqa: S608
            ["e" * 64, pending.pk],
        ),
    ]
    if connection.vendor == "postgresql":
        # SQLite leaves DELETE to the model (the test runner's flush deletes there; 0005).
        refusals.append((f"DELETE FROM {table} WHERE id = %s", [sealed_row.pk]))  # noqa: S608
        refusals.append((f"DELETE FROM {table} WHERE id = %s", [pending.pk]))  # noqa: S608
    for sql, params in refusals:
        with pytest.raises(DatabaseError, match=TRIGGER_REFUSAL):
            _raw(sql, params)
    # The one allowed change: setting the chain columns of an unsealed row, once.
    assert (
        _raw(
            f"UPDATE {table} SET seq = 2, prev_hash = %s, hash = %s, sealed_at = created_at WHERE id = %s",  # noqa: S608
            [sealed_row.hash, "d" * 64, pending.pk],
        )
        == 1
    )


@pytest.mark.django_db
def test_a_row_edited_before_it_was_sealed_is_reported(deferred, workspace):
    events = _write(workspace, 3)
    raw_sql("UPDATE privacy_auditevent SET detail = %s WHERE id = %s", ['{"i": 99}', events[1].pk])
    result = verify_audit_chains()
    assert [(b.chain, b.seq, b.id, b.reason) for b in result.breaks] == [
        (chain_for(workspace), None, events[1].pk, REASON_CONTENT)
    ]
    ok, _out, err = run_verify()
    assert not ok
    assert f"seq=None id={events[1].pk} reason={REASON_CONTENT} (not yet sealed)" in err
    # Sealing does not launder it: the chain links the hash written with the row.
    seal_pending()
    result = verify_audit_chains()
    assert [(b.seq, b.id, b.reason) for b in result.breaks] == [(2, events[1].pk, REASON_CONTENT)]


@pytest.mark.django_db
def test_the_audit_log_page_shows_events_waiting_for_the_seal(deferred, client, workspace, admin):
    waiting = _write(workspace, 2)
    client.force_login(admin.user)
    response = client.get(f"/w/{workspace.slug}/admin/audit/")
    shown = [event.pk for event in response.context["page"].events]
    assert set(shown) >= {event.pk for event in waiting}
    assert response.content.decode().count("Pending seal") >= 2
    seal_pending()
    response = client.get(f"/w/{workspace.slug}/admin/audit/")
    assert "Pending seal" not in response.content.decode()


@pytest.mark.django_db
def test_the_retention_purge_seals_what_waits_and_leaves_a_valid_anchor(deferred, clock, workspace):
    old = _write(workspace, 3)
    clock.advance(timedelta(days=10))
    young = _write(workspace, 2, start=3)
    purge = audit_events_purge(workspace=workspace, before=clock.now - timedelta(days=1))
    assert purge.sealed
    assert purge.detail["deleted"] == len(old)
    assert purge.detail["anchor_seq"] == 4
    young_seqs = AuditEvent.objects.filter(pk__in=[e.pk for e in young]).values_list("seq", flat=True)
    assert sorted(young_seqs) == [4, 5]
    assert purge.seq == 6
    result = verify_audit_chains()
    assert result.ok, result.breaks


@pytest.mark.django_db
def test_beat_runs_the_sealer_every_few_seconds_and_the_command_seals_now(deferred, workspace):
    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-seal"]
    assert entry["task"] == audit_seal_pending_task.name
    assert entry["schedule"] <= 5
    _write(workspace, 3)
    assert audit_seal_pending_task.delay().get() == 3
    _write(workspace, 2)
    out = StringIO()
    call_command("seal_audit_log", stdout=out)
    assert "Sealed 2 audit events in 1 chains." in out.getvalue()
    assert _chain_seqs(workspace) == [1, 2, 3, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_rate_limited_events_are_still_written_once_by_concurrent_writers(deferred):
    postgres = connection.vendor == "postgresql"
    threads = 6 if postgres else 3
    stranger = UserFactory()
    spaces = [WorkspaceFactory(slug=f"probe{i}") for i in range(threads)]

    def refuse(index):
        slug = spaces[index].slug
        audit_refused_at(request_for(f"/w/{slug}/tickets/", user=stranger), slug=slug, reason="not_member")

    run_threads(threads, refuse)

    assert AuditEvent.objects.filter(action=actions.ACCESS_REFUSED, actor_id=stranger.pk).count() == 1
    seal_pending()
    assert verify_audit_chains().ok


def _stored(event):
    """Every column of ``event`` as the database gives it back, beside the returned instance's."""
    fields = [field.attname for field in AuditEvent._meta.concrete_fields]
    row = AuditEvent.objects.filter(pk=event.pk).values(*fields).get()
    return row, {name: getattr(event, name) for name in fields}


@pytest.mark.django_db
@pytest.mark.parametrize("inline", [False, True], ids=["deferred", "inline"])
def test_the_event_returned_is_the_row_stored(settings, workspace, inline):
    # The writer inserts with its own statement, not Model.save(): what it returns (and hashed)
    # must be exactly what the database holds, JSON, time and a compressible IPv6 address too.
    settings.AUDIT_SEAL_INLINE = inline
    actor = UserFactory()
    request = request_for("/w/acme/", user=actor, ip="2001:0db8:0000:0000:0000:0000:0000:0001")
    event = audit_record(
        action=actions.SETTINGS_CHANGED,
        request=request,
        workspace=workspace,
        target=workspace,
        detail={"name": "Ärger ✓", "old": None, "n": 3},
    )
    assert event.pk is not None and not event._state.adding
    row, returned = _stored(event)
    assert row == returned
    assert row["ip_address"] == "2001:db8::1"
    assert row["detail"] == {"n": 3, "name": "Ärger ✓", "old": None}
    assert (row["seq"] is None) is (not inline)
    seal_pending()
    result = verify_audit_chains()
    assert result.ok, result.breaks


@pytest.mark.django_db(transaction=True)
def test_an_audited_action_on_its_own_is_one_statement_and_its_own_commit(
    deferred, django_assert_num_queries
):
    # What the bench times as one audited action: no BEGIN/COMMIT around the one INSERT.
    workspace = WorkspaceFactory(slug="solo")
    assert not connection.in_atomic_block
    with django_assert_num_queries(1) as captured:
        event = audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"a": 1})
    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "privacy_auditevent"')
    assert "privacy_auditchainhead" not in captured.captured_queries[0]["sql"]
    # Committed already: another connection sees it.
    seen = {}

    def look():
        try:
            seen["row"] = (
                AuditEvent.objects.filter(pk=event.pk).values_list("content_hash", flat=True).first()
            )
        finally:
            connection.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(30)
    assert seen["row"] == event.content_hash


@pytest.mark.django_db
def test_the_foreign_keys_have_no_index_of_their_own(deferred):
    # (workspace, -id) and (actor, -id) serve lookups by either column; a single-column index
    # would be one more insertion per write and per seal (migration 0017).
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, AuditEvent._meta.db_table)
    indexed = [tuple(info["columns"]) for info in constraints.values() if info["index"]]
    assert ("workspace_id",) not in indexed and ("actor_id",) not in indexed
    assert any(columns[0] == "workspace_id" and "id" in columns for columns in indexed)
    assert any(columns[0] == "actor_id" and "id" in columns for columns in indexed)
