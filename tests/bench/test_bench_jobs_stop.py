"""A long job stopped at its time limit leaves nothing running in the database behind it."""

import os
import threading

import psycopg
import pytest
from django.conf import settings

from bench.environment import Target

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="server sessions are PostgreSQL's (SQLite has none); CI runs this on PostgreSQL",
)


@pytest.fixture
def scratch_database():
    # A database of its own: ending every session on the test database would end the tests' too.
    target = Target(os.environ["DATABASE_URL"], f"stop_sessions_{os.getpid()}")
    target.drop()
    target.create()
    yield target
    target.drop()


def test_stop_sessions_ends_a_query_a_killed_job_left_running(scratch_database):
    target = scratch_database
    url = target.url
    ended = threading.Event()
    errors = []

    def long_query():
        # What a killed job leaves behind: its server session still running a statement.
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET application_name = 'bench-killed-job'")
            started.set()
            try:
                conn.execute("SELECT pg_sleep(60)")
            except psycopg.OperationalError as error:
                errors.append(error)
            ended.set()

    started = threading.Event()
    worker = threading.Thread(target=long_query, daemon=True)
    worker.start()
    assert started.wait(10)
    with psycopg.connect(url, autocommit=True) as admin:
        for _ in range(100):  # until the statement is visible as running
            running = admin.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'bench-killed-job' AND state = 'active'"
            ).fetchone()[0]
            if running:
                break
            admin.execute("SELECT pg_sleep(0.05)")

    target.stop_sessions()

    assert ended.wait(20), "the left-over query kept running"
    assert errors, "the session was ended, not finished"
