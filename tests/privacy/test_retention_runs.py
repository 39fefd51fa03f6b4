"""The sweep survives SIGKILL in the middle of a batch and runs concurrently.

The killed run is a real ``manage.py enforce_retention`` subprocess against this test database
(SQLite file or PostgreSQL, whichever the suite runs on), with a tiny batch size and batches
held open before they commit; it is killed while its second batch is open, then run again. The
result must equal a clean run on the same data. Two concurrent sweeps (threads, each with its
own connection) must give what one gives.
"""

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, connection, connections

from privacy.audit.models import AuditEvent
from privacy.retention.models import RetentionRun, RetentionRunWorkspace, RunState
from privacy.retention.policies import preview
from privacy.retention.sweep import retention_sweep, run_counts
from tests.factories import (
    MembershipFactory,
    MessageFactory,
    QueueFactory,
    TicketFactory,
    UserFactory,
    WorkspaceFactory,
)
from tests.privacy.retention_support import NOW, closed_ticket, requester_in
from tickets.anonymize import RETENTION_MESSAGE
from tickets.models import Attachment, Message, Ticket
from workspaces.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(settings.BASE_DIR)
TICKETS = 9
KILL_TIMEOUT = 60


def build():
    """Two workspaces: expired tickets with files, an inactive requester, a fresh ticket.
    Factory sequences restart so a second build after a flush is the same data."""
    for made in (
        UserFactory,
        WorkspaceFactory,
        QueueFactory,
        TicketFactory,
        MessageFactory,
        MembershipFactory,
    ):
        made.reset_sequence()
    for slug in ("north", "south"):
        workspace = WorkspaceFactory(slug=slug, name=slug.title())
        queue = QueueFactory(workspace=workspace, name="Support")
        agent = UserFactory()
        active = requester_in(workspace, last_login_days=3)
        gone = requester_in(workspace, last_login_days=1500)
        for n in range(TICKETS):
            closed_ticket(workspace, queue, requester=active.user, agent=agent, closed_days=800 + n)
        closed_ticket(workspace, queue, requester=gone.user, agent=agent, closed_days=10)
        closed_ticket(workspace, queue, requester=active.user, agent=agent, closed_days=5)


def state() -> dict:
    """What a run leaves, independent of timing and of primary keys (people are numbered in
    creation order, pseudonyms by whom they stand for), per workspace and ticket number."""
    from privacy.personal_data.models import Pseudonym
    from workspaces.models import User

    person = {pk: n for n, pk in enumerate(User.objects.order_by("pk").values_list("pk", flat=True))}
    person[None] = None
    ghost = {p.label: person[p.user_id] for p in Pseudonym.objects.all()}
    result = {}
    for ticket in Ticket.objects.select_related("workspace").order_by("workspace__slug", "number"):
        messages = Message.objects.filter(ticket=ticket).order_by("pk").values_list("body", "author_id")
        result[(ticket.workspace.slug, ticket.number)] = {
            "subject": ticket.subject,
            "requester": person[ticket.requester_id],
            "pseudonym": ghost.get(ticket.requester_pseudonym),
            "anonymized_at": ticket.anonymized_at,
            "messages": [(body, person[author]) for body, author in messages],
            "files": sorted(Attachment.objects.filter(ticket=ticket).values_list("original_name", flat=True)),
        }
    result["members"] = sorted(
        (slug, person[user_id], role)
        for slug, user_id, role in Membership.objects.values_list("workspace__slug", "user_id", "role")
    )
    result["erased"] = sorted(
        person[pk] for pk in User.objects.filter(is_active=False).values_list("pk", flat=True)
    )
    result["counts"] = {
        progress.workspace.slug: (progress.counts, progress.spared)
        for progress in RetentionRunWorkspace.objects.select_related("workspace")
    }
    result["run_events"] = sorted(
        AuditEvent.objects.filter(action="retention.run").values_list("workspace__slug", flat=True)
    )
    return result


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


def command(*args, pause: float = 0.0, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-secret-key-not-for-production-0123456789",
        "HELPDESK_VAR_DIR": str(tmp_path),
        "RETENTION_BATCH_PAUSE": str(pause),
        "LOG_LEVEL": "WARNING",
    }
    return [
        sys.executable,
        str(BASE_DIR / "manage.py"),
        "enforce_retention",
        f"--now={NOW.isoformat()}",
        *args,
    ], env


def committed_items() -> int:
    return sum(sum(p.counts.values()) for p in RetentionRunWorkspace.objects.all())


def kill_mid_batch(tmp_path):
    """Start the sweep, wait for its first batch to commit, SIGKILL it inside the second."""
    args, env = command("--batch-size=2", pause=1.5, tmp_path=tmp_path)
    process = subprocess.Popen(args, env=env, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + KILL_TIMEOUT
    try:
        while committed_items() == 0:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the first batch never committed"
            time.sleep(0.05)
        time.sleep(0.5)  # the second batch has acted and waits, uncommitted
        assert process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL


def run_to_end(tmp_path):
    args, env = command(tmp_path=tmp_path)
    done = subprocess.run(args, env=env, cwd=BASE_DIR, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-3000:]


def test_a_run_killed_mid_batch_then_rerun_equals_a_clean_run(tmp_path):
    build()
    expected_counts = {w["slug"]: w["kinds"] for w in preview(now=NOW)["workspaces"]}
    kill_mid_batch(tmp_path)
    killed = committed_items()
    assert 0 < killed < sum(c["due"] for kinds in expected_counts.values() for c in kinds.values())
    # Exactly the committed batches are done: nothing half-done.
    anonymized = Ticket.objects.filter(anonymized_at__isnull=False)
    assert anonymized.count() == killed
    assert not Message.objects.filter(ticket__in=anonymized).exclude(body=RETENTION_MESSAGE).exists()
    assert RetentionRun.objects.get().state == RunState.RUNNING
    run_to_end(tmp_path)
    resumed = state()
    assert RetentionRun.objects.get().state == RunState.DONE
    assert {
        slug: {k: {"due": c[0][k], "spared": c[1][k]} for k in c[0]} for slug, c in resumed["counts"].items()
    } == expected_counts

    call_command("flush", interactive=False, verbosity=0)
    build()
    run_to_end(tmp_path)
    assert state() == resumed


def _in_thread(results, errors, **kwargs):
    try:
        results.append(retention_sweep(**kwargs).pk)
    except Exception as error:  # noqa: BLE001 - any failure is reported by the assertion below
        errors.append(error)
    finally:
        connections.close_all()


def test_two_concurrent_runs_give_what_one_gives():
    build()
    expected = {w["id"]: w["kinds"] for w in preview(now=NOW)["workspaces"]}
    results, errors = [], []
    threads = [
        threading.Thread(target=_in_thread, args=(results, errors), kwargs={"now": NOW, "batch_size": 2})
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(set(results)) == 1  # both worked on the same run
    run = RetentionRun.objects.get()
    assert run.state == RunState.DONE
    assert run_counts(run) == expected
    assert AuditEvent.objects.filter(action="retention.run").count() == 2  # one per workspace
    assert Ticket.objects.filter(anonymized_at__isnull=False).count() == 2 * TICKETS + 2


def clean_run_then_the_same_data_again() -> dict:
    """What a clean run on ``build()``'s data leaves; the data is then built again, unswept."""
    build()
    retention_sweep(now=NOW, batch_size=2)
    clean = state()
    call_command("flush", interactive=False, verbosity=0)
    build()
    return clean


def _failing_once(monkeypatch, *, cause: type[psycopg.Error]):
    """``_act`` does its batch's work, then fails once with ``cause`` as Django raises a
    PostgreSQL error (an ``OperationalError`` from psycopg's)."""
    from privacy.retention import sweep

    real, failed = sweep._act, []

    def act(*args, **kwargs):
        done = real(*args, **kwargs)
        if not failed:
            failed.append(args[0].name)
            raise OperationalError("batch failed") from cause("batch failed")
        return done

    monkeypatch.setattr(sweep, "_act", act)
    return failed


def _lead_in_failing_once(monkeypatch, *, cause: type[psycopg.Error]):
    """The inactive requesters' lead-in does its first batch's work, then fails once with
    ``cause`` (as Django raises a PostgreSQL error)."""
    from privacy.retention import sweep

    real, failed = sweep.lead_ins, []

    def failing_once(lead_in):
        def act(batch):
            lead_in.act(batch)
            if not failed:
                failed.append(batch.ids)
                raise OperationalError("lead-in failed") from cause("lead-in failed")

        return dataclasses.replace(lead_in, act=act)

    monkeypatch.setattr(sweep, "lead_ins", lambda kind: tuple(failing_once(each) for each in real(kind)))
    return failed


@pytest.mark.parametrize(
    "failing_once, logged",
    [
        # A kind's batch is taken again.
        (_failing_once, "rolled back by a deadlock"),
        # The lead-in stops and leaves the rest of its work to the kind's batches.
        (_lead_in_failing_once, "its kind's batches finish it"),
    ],
    ids=["batch", "lead-in"],
)
def test_a_batch_rolled_back_by_a_deadlock_does_not_change_how_the_run_ends(
    failing_once, logged, monkeypatch, caplog
):
    clean = clean_run_then_the_same_data_again()
    failed = failing_once(monkeypatch, cause=psycopg.errors.DeadlockDetected)
    run = retention_sweep(now=NOW, batch_size=2)
    assert failed  # a batch was rolled back
    assert run.state == RunState.DONE
    assert state() == clean  # its work was not counted or kept twice, nor lost
    assert logged in caplog.text


def test_a_run_that_fails_in_the_lead_in_is_continued_to_the_same_end(monkeypatch):
    clean = clean_run_then_the_same_data_again()
    with monkeypatch.context() as patched:
        failed = _lead_in_failing_once(patched, cause=psycopg.errors.DiskFull)
        with pytest.raises(OperationalError):
            retention_sweep(now=NOW, batch_size=2)
    assert failed
    assert RetentionRun.objects.get().state == RunState.RUNNING
    retention_sweep(now=NOW, batch_size=2)
    assert state() == clean


def test_any_other_database_error_still_ends_the_run(monkeypatch):
    build()
    _failing_once(monkeypatch, cause=psycopg.errors.DiskFull)
    with pytest.raises(OperationalError):
        retention_sweep(now=NOW, batch_size=2)
    assert RetentionRun.objects.get().state == RunState.RUNNING  # the next run continues it
