"""Retention of what belongs to no workspace (privacy/retention/account_kinds.py): account-level
audit events, the lockout log, expired sessions and the history of earlier names and addresses
each have a period, shown on the retention page and in the preview; the run removes exactly
what the preview counted, and a person hold keeps that person's rows."""

from datetime import timedelta

import pytest
from axes.models import AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.urls import reverse

from privacy.account.models import EmailChange, IdentifierKind, PastIdentifier
from privacy.audit.log import ACCOUNT_CHAIN, audit_record
from privacy.audit.models import AuditEvent
from privacy.retention.account_kinds import EXPIRED_SESSIONS, IDENTIFIER_HISTORY, LOCKOUT_LOG, account_kinds
from privacy.retention.holds import legal_hold_place
from privacy.retention.models import HoldScope
from privacy.retention.policies import preview
from privacy.retention.sweep import run_account_counts, run_counts
from tests.conftest import make_member
from tests.privacy import retention_support
from tests.privacy.audit_support import run_verify
from tests.privacy.retention_support import NOW, days_ago
from workspaces.models import Role

pytestmark = pytest.mark.django_db

sweep = retention_support.sweep


def _old_traces(clock, user, *, days):
    clock.now = days_ago(days)
    audit_record(action="auth.login", actor=user)
    AccessLog.objects.create(username=user.email, ip_address="203.0.113.5", user_agent="Old/1.0")
    PastIdentifier.objects.create(
        user=user, kind=IdentifierKind.NAME, value="Old Name", replaced_at=clock.now
    )
    EmailChange.objects.create(
        user=user,
        new_email=f"new-{user.pk}@example.test",
        token_hash=f"{user.pk:064d}",
        created_at=clock.now,
        expires_at=clock.now + timedelta(hours=24),
        confirmed_at=clock.now,
    )


def _session(expire_date):
    store = SessionStore()
    store["anything"] = 1
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=expire_date)
    return store.session_key


def test_preview_equals_run_and_a_person_hold_keeps_theirs(clock, workspace, admin, sweep):
    gone = make_member(workspace, Role.REQUESTER, email="gone@example.test", last_login=days_ago(1)).user
    held = make_member(workspace, Role.REQUESTER, email="held@example.test", last_login=days_ago(1)).user
    _old_traces(clock, gone, days=900)
    _old_traces(clock, held, days=800)
    clock.now = days_ago(1)
    audit_record(action="auth.login", actor=gone)  # recent: kept
    expired, live = _session(days_ago(2)), _session(NOW + timedelta(days=3))
    legal_hold_place(workspace=workspace, actor=admin.user, scope=HoldScope.PERSON, reason="Case", user=held)
    clock.now = NOW

    expected = preview(now=NOW)["account"]
    assert {name: counts["days"] for name, counts in expected.items()} == {
        "account_audit_events": 730,
        "lockout_log": 90,
        "expired_sessions": 0,
        "identifier_history": 365,
    }
    assert expected[LOCKOUT_LOG]["due"] == 1 and expected[LOCKOUT_LOG]["spared"] == 1
    assert expected[IDENTIFIER_HISTORY]["due"] == 2 and expected[IDENTIFIER_HISTORY]["spared"] == 2
    assert expected[EXPIRED_SESSIONS]["due"] == 1
    assert expected["account_audit_events"]["due"] >= 1 and expected["account_audit_events"]["spared"] >= 1

    run = sweep()
    assert run_account_counts(run) == {
        name: {"due": counts["due"], "spared": counts["spared"]} for name, counts in expected.items()
    }
    assert {kind.name for kind in account_kinds()} == set(expected)
    # The effects: the expired person's old traces are gone, the held person's stay.
    account_events = AuditEvent.objects.filter(chain=ACCOUNT_CHAIN, action="auth.login")
    assert list(account_events.filter(actor_id=gone.pk).values_list("created_at", flat=True)) == [days_ago(1)]
    assert account_events.filter(actor_id=held.pk).exists()
    assert list(AccessLog.objects.values_list("username", flat=True)) == ["held@example.test"]
    assert set(PastIdentifier.objects.values_list("user_id", flat=True)) == {held.pk}
    assert set(EmailChange.objects.values_list("user_id", flat=True)) == {held.pk}
    assert set(Session.objects.values_list("pk", flat=True)) == {live}
    assert expired not in set(Session.objects.values_list("pk", flat=True))
    ok, _out, err = run_verify()
    assert ok, err
    # One retention.run event on the account chain with the counts.
    event = AuditEvent.objects.get(action="retention.run", chain=ACCOUNT_CHAIN)
    assert event.detail["counts"] == {name: counts["due"] for name, counts in expected.items()}
    # A second run finds nothing more.
    assert all(c["due"] == 0 for c in preview(now=NOW)["account"].values() if c is not None)


def test_the_retention_page_shows_the_installation_periods(client, workspace, admin, settings):
    settings.ACCOUNT_RETENTION_DAYS = {**settings.ACCOUNT_RETENTION_DAYS, "lockout_log": 30}
    client.force_login(admin.user)
    page = client.get(reverse("retention_settings", args=[workspace.slug])).content.decode()
    assert "Kept for the whole installation" in page
    row = page[page.index('id="account-kind-lockout_log"') :]
    row = row[: row.index("</tr>")]
    assert "Sign-in lockout log" in row and "30 days" in row
    sessions = page[page.index('id="account-kind-expired_sessions"') :]
    assert "Deleted when they expire" in sessions[: sessions.index("</tr>")]


def test_preview_equals_run_when_the_requester_rule_erases_the_same_person(clock, workspace, sweep):
    """The inactive-requester kind erases an account whose old lockout rows and identifier
    history are also past their period: each is counted once, by the kind that removes it."""
    gone = make_member(
        workspace, Role.REQUESTER, email="inactive@example.test", last_login=days_ago(2000)
    ).user
    _old_traces(clock, gone, days=900)
    clock.now = NOW
    expected = preview(now=NOW)
    run = sweep()
    assert run_account_counts(run) == {
        name: {"due": counts["due"], "spared": counts["spared"]}
        for name, counts in expected["account"].items()
    }
    assert run_counts(run) == {w["id"]: w["kinds"] for w in expected["workspaces"]}
    assert expected["account"][LOCKOUT_LOG]["due"] == 1
    assert expected["workspaces"][0]["kinds"]["requesters"]["due"] == 1
