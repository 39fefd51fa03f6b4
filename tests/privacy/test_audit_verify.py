"""verify_audit_log: an intact log passes; edited, removed and re-hashed rows are named; purge
anchors and anonymization keep a chain valid; the database trigger refuses raw changes."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction

from privacy.audit import actions
from privacy.audit.log import audit_record, chain_for, event_content_digest, event_digest
from privacy.audit.maintenance import (
    TRIGGER_REFUSAL,
    audit_events_anonymize_user,
    audit_events_purge,
    audit_maintenance,
)
from privacy.audit.models import AuditChainHead, AuditEvent
from privacy.audit.verify import REASON_CONTENT, REASON_GAP, REASON_HEAD, REASON_PREV, verify_audit_chains
from privacy.management.commands.verify_audit_log import BROKEN_SUMMARY
from tests.privacy.audit_support import raw_sql, request_for, run_verify

pytestmark = pytest.mark.django_db


def _write(workspace, count, **kwargs):
    return [
        audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"i": i}, **kwargs)
        for i in range(count)
    ]


def test_intact_log_passes_and_reports_rows_per_second(workspace, other_workspace, admin):
    _write(workspace, 5, request=request_for("/w/acme/", user=admin.user))
    _write(other_workspace, 3)
    audit_record(action=actions.AUTH_LOGIN, actor=admin.user)
    ok, out, err = run_verify()
    assert ok, err
    assert "Verified 9 events in 3 chains" in out
    assert "rows/s" in out
    assert "All audit chains are intact." in out


def test_edited_row_is_named_as_content_changed(workspace, other_workspace):
    events = _write(workspace, 5)
    _write(other_workspace, 2)
    assert raw_sql("UPDATE privacy_auditevent SET target_id = %s WHERE id = %s", ["evil", events[2].pk]) == 1

    ok, _out, err = run_verify()
    assert not ok
    assert f"BROKEN chain={chain_for(workspace)} seq=3 id={events[2].pk} reason={REASON_CONTENT}" in err
    assert BROKEN_SUMMARY.format(count=1) in err  # the other workspace's chain is fine


def test_edited_personal_column_is_named(workspace, admin):
    events = _write(workspace, 3, request=request_for("/w/acme/", user=admin.user))
    raw_sql("UPDATE privacy_auditevent SET ip_address = %s WHERE id = %s", ["192.0.2.99", events[1].pk])
    ok, _out, err = run_verify()
    assert not ok
    assert f"seq=2 id={events[1].pk} reason={REASON_CONTENT} (personal columns)" in err


def test_deleted_middle_row_is_named_as_a_seq_gap(workspace):
    events = _write(workspace, 5)
    assert raw_sql("DELETE FROM privacy_auditevent WHERE id = %s", [events[2].pk]) == 1

    ok, _out, err = run_verify()
    assert not ok
    assert (
        f"BROKEN chain={chain_for(workspace)} seq=3 id={events[3].pk} reason={REASON_GAP} "
        "(next present row is seq 4)"
    ) in err


def test_edited_and_rehashed_row_breaks_the_next_link(workspace):
    events = _write(workspace, 4)
    forged = AuditEvent.objects.get(pk=events[1].pk)
    forged.detail = {"i": 999}
    forged.content_hash = event_content_digest(forged)
    new_hash = event_digest(forged)
    raw_sql(
        "UPDATE privacy_auditevent SET detail = %s, content_hash = %s, hash = %s WHERE id = %s",
        ['{"i": 999}', forged.content_hash, new_hash, forged.pk],
    )
    ok, _out, err = run_verify()
    assert not ok
    assert f"seq=3 id={events[2].pk} reason={REASON_PREV}" in err


def test_verify_audit_chains_returns_the_breaks_of_the_chain_asked_for(workspace, other_workspace):
    rows = _write(workspace, 3)
    _write(other_workspace, 2)
    raw_sql("UPDATE privacy_auditevent SET target_id = %s WHERE id = %s", ["evil", rows[1].pk])

    everything = verify_audit_chains(chunk_size=2)
    assert (everything.rows, everything.chains, everything.ok) == (5, 2, False)
    assert [(b.chain, b.seq, b.id, b.reason) for b in everything.breaks] == [
        (chain_for(workspace), 2, rows[1].pk, REASON_CONTENT)
    ]
    other = verify_audit_chains(chain=chain_for(other_workspace))
    assert (other.rows, other.chains, other.ok) == (2, 1, True)


def test_removed_last_row_is_a_head_mismatch(workspace):
    events = _write(workspace, 3)
    raw_sql("DELETE FROM privacy_auditevent WHERE id = %s", [events[-1].pk])
    ok, _out, err = run_verify()
    assert not ok
    assert f"chain={chain_for(workspace)} seq=2 id=- reason={REASON_HEAD}" in err


def test_rows_without_a_head_and_a_head_without_rows_are_reported(workspace, other_workspace):
    _write(workspace, 2)
    AuditChainHead.objects.filter(pk=chain_for(workspace)).delete()
    AuditChainHead.objects.create(chain=chain_for(other_workspace), last_seq=4, last_hash="x" * 64)
    ok, _out, err = run_verify()
    assert not ok
    assert f"chain={chain_for(workspace)} seq=2 id=- reason={REASON_HEAD} (no head row" in err
    assert f"chain={chain_for(other_workspace)} seq=4 id=- reason={REASON_HEAD} (head has no rows" in err


def test_purged_chain_starts_at_its_anchor_and_verifies(clock, workspace, other_workspace):
    old = _write(workspace, 4)
    _write(other_workspace, 2)
    clock.advance(timedelta(days=400))
    kept = _write(workspace, 2)

    purge = audit_events_purge(workspace=workspace, before=clock.now - timedelta(days=1))

    assert purge.detail == {
        "deleted": 4,
        "before": (clock.now - timedelta(days=1)).isoformat(),
        "anchor_seq": 5,
        "anchor_prev_hash": old[-1].hash,
    }
    chain = AuditEvent.objects.filter(chain=chain_for(workspace)).order_by("seq")
    assert list(chain.values_list("seq", flat=True)) == [5, 6, 7]
    assert [kept[0].pk, kept[1].pk, purge.pk] == list(chain.values_list("id", flat=True))
    assert AuditEvent.objects.filter(chain=chain_for(other_workspace)).count() == 2
    ok, _out, err = run_verify()
    assert ok, err

    # Removing more from the start afterwards is caught.
    raw_sql("DELETE FROM privacy_auditevent WHERE id = %s", [kept[0].pk])
    ok, _out, err = run_verify()
    assert not ok
    assert f"seq=5 id={kept[1].pk} reason={REASON_GAP} (chain starts at seq 6 without a matching" in err


def test_purging_everything_anchors_at_the_purge_event(clock, workspace):
    _write(workspace, 3)
    clock.advance(timedelta(days=1))
    purge = audit_events_purge(workspace=workspace, before=clock.now)
    assert (purge.seq, purge.detail["anchor_seq"], purge.detail["deleted"]) == (4, 4, 3)
    assert audit_events_purge(workspace=workspace, before=clock.now - timedelta(days=5)) is None
    assert run_verify()[0]


def test_chain_starting_late_without_a_purge_is_a_gap(workspace):
    events = _write(workspace, 3)
    raw_sql("DELETE FROM privacy_auditevent WHERE id = %s", [events[0].pk])
    ok, _out, err = run_verify()
    assert not ok
    assert f"seq=1 id={events[1].pk} reason={REASON_GAP}" in err


def test_anonymization_blanks_personal_columns_and_keeps_the_chain_valid(workspace, admin, requester):
    mine = _write(workspace, 2, request=request_for("/w/acme/", user=admin.user, ip="192.0.2.5"))
    others = _write(workspace, 1, request=request_for("/w/acme/", user=requester.user, ip="192.0.2.6"))
    login = audit_record(action=actions.AUTH_LOGIN, request=request_for("/", user=admin.user))
    failed = audit_record(action=actions.AUTH_LOGIN_FAILED, request=request_for("/"), target=admin.user)

    count = audit_events_anonymize_user(user_id=admin.user_id, actor=admin.user)

    assert count == 4
    for event in AuditEvent.objects.filter(pk__in=[mine[0].pk, mine[1].pk, login.pk, failed.pk]):
        assert (event.actor_label, event.ip_address, event.user_agent, event.personal_salt) == (
            "",
            None,
            "",
            "",
        )
        assert event.personal_hash  # kept: the chain still holds
    untouched = AuditEvent.objects.get(pk=others[0].pk)
    assert (untouched.actor_label, untouched.ip_address) == (requester.user.email, "192.0.2.6")
    # The audit.anonymized event of a person erasing themselves keeps nothing personal either.
    record = AuditEvent.objects.get(action=actions.AUDIT_ANONYMIZED)
    assert (record.detail, record.actor_id, record.actor_label) == ({"events": 4}, admin.user_id, "")
    ok, _out, err = run_verify()
    assert ok, err

    # Writing a value back into an anonymized row is detected.
    raw_sql("UPDATE privacy_auditevent SET ip_address = %s WHERE id = %s", ["192.0.2.5", mine[0].pk])
    ok, _out, err = run_verify()
    assert not ok
    assert f"id={mine[0].pk} reason={REASON_CONTENT} (personal columns)" in err


# The database trigger -------------------------------------------------------------------------


def _refused(sql, params):
    with pytest.raises(DatabaseError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(error.value)


def test_database_refuses_raw_update_and_delete_without_the_maintenance_flag(workspace):
    (event,) = _write(workspace, 1)
    update = "UPDATE privacy_auditevent SET action = %s WHERE id = %s"
    delete = "DELETE FROM privacy_auditevent WHERE id = %s"

    message = _refused(update, ["settings.changed", event.pk])
    assert TRIGGER_REFUSAL in message and "UPDATE" in message
    if connection.vendor == "postgresql":
        message = _refused(delete, [event.pk])
        assert TRIGGER_REFUSAL in message and "DELETE" in message
        with connection.cursor() as cursor:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'privacy_auditevent'::regclass")
            assert ("privacy_auditevent_append_only",) in cursor.fetchall()
    else:
        # SQLite blocks UPDATE only (Django's test flush deletes with DELETE FROM); the trigger
        # is there and names itself, and verify catches deletes (tests above).
        assert connection.vendor == "sqlite"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'privacy_auditevent'"
            )
            assert cursor.fetchall() == [("privacy_auditevent_no_update",)]
    assert AuditEvent.objects.get(pk=event.pk).action == actions.SETTINGS_CHANGED

    # With the flag, inside a transaction, maintenance may; after the block the flag is gone.
    assert raw_sql(update, ["settings.changed", event.pk]) == 1
    _refused(update, ["settings.changed", event.pk])


def test_maintenance_flag_requires_a_transaction(db):
    from privacy.audit.maintenance import MAINTENANCE_NEEDS_TRANSACTION

    # Pretend to be outside the test's own transaction for the check.
    connection.in_atomic_block, was = False, connection.in_atomic_block
    try:
        with pytest.raises(RuntimeError) as error, audit_maintenance():
            pass
    finally:
        connection.in_atomic_block = was
    assert str(error.value) == MAINTENANCE_NEEDS_TRANSACTION
