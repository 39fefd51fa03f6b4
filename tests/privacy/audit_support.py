"""Helpers of the audit-log tests: a controllable clock, raw edits under the maintenance flag,
and running verify_audit_log."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import resolve

from privacy.audit.maintenance import audit_maintenance


class Clock:
    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, delta):
        self.now = self.now + delta


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


def raw_sql(sql, params=()):
    """Run raw SQL on the audit table as a maintenance job would (the trigger lets it pass)."""
    with transaction.atomic(), audit_maintenance(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def run_verify():
    """(ok, stdout, stderr) of ``manage.py verify_audit_log``."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_log", stdout=out, stderr=err)
    except CommandError as error:
        err.write(f"CommandError: {error}")
        return False, out.getvalue(), err.getvalue()
    return True, out.getvalue(), err.getvalue()


def request_for(path, user=None, ip="203.0.113.7", agent="TestAgent/1.0"):
    request = RequestFactory().get(path, REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    request.resolver_match = resolve(path)
    if user is not None:
        request.user = user
    else:
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
    return request
