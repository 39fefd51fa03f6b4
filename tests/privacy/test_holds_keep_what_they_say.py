"""Legal holds do what they say (issue "Privacy, second wave", item 3): a person hold keeps the
person's exports and the audit events about them through account erasure; a held ticket keeps
its content but not the erased person's name and address; the erasure record copies no free
text; the retention preview equals the run for every kind, exports included."""

import json

import pytest

from privacy.account.erasure import erase_account_data, held_objects_for
from privacy.account.models import DataExport, ExportStatus
from privacy.retention.holds import legal_hold_place
from privacy.retention.models import HoldScope
from privacy.retention.policies import EXPORTS, kind_names, preview
from privacy.retention.sweep import run_counts
from tests.factories import MembershipFactory
from tests.privacy import retention_support
from tests.privacy.retention_support import (
    NOW,
    closed_ticket,
    days_ago,
    requester_in,
    set_policy,
    ticket_event,
)
from workspaces.models import Role, User
from workspaces.retention_kinds import REQUESTERS

pytestmark = pytest.mark.django_db

frozen = retention_support.frozen
sweep = retention_support.sweep
REASON = "Subpoena naming hanna@held.example, case 2031-17"


def _export(user, *, days=30):
    return DataExport.objects.create(
        user=user, status=ExportStatus.READY, finished_at=days_ago(days), expires_at=days_ago(days - 7)
    )


def test_a_person_hold_keeps_their_exports_and_audit_events_through_erasure(frozen, workspace, queue, admin):
    person = requester_in(workspace, display_name="Hanna Heldmann", email="hanna@held.example")
    ticket = closed_ticket(workspace, queue, requester=person.user, closed_days=5)
    event = ticket_event(ticket, person.user, ip="203.0.113.99")
    export = _export(person.user)
    legal_hold_place(
        workspace=workspace, actor=admin.user, scope=HoldScope.PERSON, reason=REASON, user=person.user
    )
    outcome: list = []
    counts, _pseudonym = erase_account_data(User.objects.get(pk=person.user_id), outcome=outcome)

    assert DataExport.objects.filter(pk=export.pk).exists()
    assert counts["exports_kept_by_hold"] == 1
    event.refresh_from_db()
    assert event.ip_address == "203.0.113.99" and event.actor_label == "hanna@held.example"
    # The record says a hold kept things, by id, and never copies the reason typed for it.
    assert [entry["scope"] for entry in outcome] == [HoldScope.PERSON]
    assert outcome[0]["exports"] and outcome[0]["audit_events"]
    assert "hanna" not in json.dumps(outcome).lower() and "subpoena" not in json.dumps(outcome).lower()


def test_without_a_hold_exports_and_events_go(frozen, workspace, queue):
    person = requester_in(workspace, email="nohold@example.test")
    ticket = closed_ticket(workspace, queue, requester=person.user, closed_days=5)
    event = ticket_event(ticket, person.user, ip="203.0.113.98")
    export = _export(person.user)
    assert not held_objects_for(person.user)
    erase_account_data(User.objects.get(pk=person.user_id))
    assert not DataExport.objects.filter(pk=export.pk).exists()
    event.refresh_from_db()
    assert event.ip_address is None and event.actor_label == ""


def test_preview_equals_run_for_every_kind_exports_included(
    frozen, workspace, other_workspace, queue, admin, sweep
):
    """An inactive requester's export goes with their account (counted under requesters); an
    export whose owner leaves one workspace is counted where they stay; a held person's export
    is spared. The preview counts each exactly as the run does."""
    set_policy(workspace, exports_days=7, requesters_days=365, notes_days=100, audit_days=1)
    set_policy(other_workspace, exports_days=20, requesters_days=365)
    # Inactive in the only workspace: the requesters kind erases the account and its export.
    gone = requester_in(workspace, last_login_days=1200)
    _export(gone.user)
    # Inactive here, but also in other_workspace (where the requester rule does not reach them
    # because they are an agent there): the export is the other workspace's to count.
    leaving = requester_in(workspace, last_login_days=1200)
    MembershipFactory(workspace=other_workspace, role=Role.AGENT, user=leaving.user)
    _export(leaving.user)
    # Active, with an old export: plainly due here.
    staying = requester_in(workspace, last_login_days=1)
    _export(staying.user)
    # Held: spared.
    held = requester_in(workspace, last_login_days=1)
    _export(held.user)
    legal_hold_place(
        workspace=workspace, actor=admin.user, scope=HoldScope.PERSON, reason="Case", user=held.user
    )
    closed_ticket(workspace, queue, requester=staying.user, closed_days=900)

    expected = {w["id"]: w["kinds"] for w in preview(now=NOW)["workspaces"]}
    assert expected[workspace.pk][EXPORTS] == {"due": 1, "spared": 1}
    assert expected[other_workspace.pk][EXPORTS] == {"due": 1, "spared": 0}
    assert expected[workspace.pk][REQUESTERS]["due"] == 2
    run = sweep()
    counts = run_counts(run)
    for workspace_id, kinds in expected.items():
        for kind in kind_names():
            assert counts[workspace_id][kind] == kinds[kind], (workspace_id, kind)
    assert not DataExport.objects.filter(user=gone.user).exists()
    assert not DataExport.objects.filter(user=leaving.user).exists()
    assert DataExport.objects.filter(user=held.user).exists()
