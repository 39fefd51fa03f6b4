"""Legal holds: each scope spares exactly what it covers, from retention and from account
erasure; the preview agrees with the run; after a run the forensic search finds none of the
expired requesters' identifiers, and every unexpired or held row is byte-for-byte unchanged."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from privacy.account.erasure import erase_account_data, held_objects_for
from privacy.account.models import DataExport, ExportStatus
from privacy.audit.models import AuditEvent
from privacy.retention.holds import (
    ALREADY_RELEASED,
    ENDS_IN_PAST,
    REASON_REQUIRED,
    legal_hold_place,
    legal_hold_release,
)
from privacy.retention.models import HoldScope
from privacy.retention.policies import AUDIT_EVENTS, EXPORTS, preview, preview_workspace
from privacy.retention.sweep import run_counts
from tests.factories import MembershipFactory, MessageFactory, TicketFactory, UserFactory
from tests.privacy import retention_support
from tests.privacy.retention_support import (
    NOW,
    closed_ticket,
    days_ago,
    requester_in,
    rows,
    set_policy,
    snapshot,
    ticket_event,
)
from tests.privacy.test_erasure_forensic import database_hits
from tickets.anonymize import RETENTION_SUBJECT
from tickets.models import Status, Ticket
from tickets.retention_kinds import TICKETS
from workspaces.models import Membership, Role, User
from workspaces.retention_kinds import REQUESTERS

pytestmark = pytest.mark.django_db

frozen = retention_support.frozen
sweep = retention_support.sweep


def place(workspace, admin, scope, **kwargs):
    return legal_hold_place(
        workspace=workspace, actor=admin.user, scope=scope, reason="Case 2031-17", **kwargs
    )


@pytest.fixture
def world(frozen, workspace, queue, admin):
    """Two requesters with expired tickets, one inactive, one with an old export."""
    alice = requester_in(
        workspace, last_login_days=2, display_name="Alice Heldington", email="alice@held.example"
    )
    bob = requester_in(
        workspace, last_login_days=1200, display_name="Bob Goneworth", email="bob.gone@expired.example"
    )
    tickets = {
        "alice": closed_ticket(workspace, queue, requester=alice.user, closed_days=900),
        "alice2": closed_ticket(workspace, queue, requester=alice.user, closed_days=800),
        "bob": closed_ticket(workspace, queue, requester=bob.user, closed_days=1000),
    }
    for ticket in tickets.values():
        ticket_event(ticket, ticket.requester, ip="203.0.113.99")
    DataExport.objects.create(
        user=alice.user, status=ExportStatus.READY, finished_at=days_ago(30), expires_at=days_ago(23)
    )
    return {"alice": alice, "bob": bob, "tickets": tickets, "admin": admin}


def held_rows(workspace_id, ticket_ids):
    snap = snapshot(workspace_id)
    return {
        kind: {pk: r for pk, r in values.items() if r.get("ticket_id", pk) in ticket_ids}
        for kind, values in snap.items()
    }


def test_workspace_hold_spares_everything(world, workspace, sweep):
    place(workspace, world["admin"], HoldScope.WORKSPACE)
    before = snapshot(workspace.pk)
    counts = preview_workspace(workspace, now=NOW)
    assert all(c["due"] == 0 for c in counts.values())
    assert counts[TICKETS]["spared"] == 3 and counts[REQUESTERS]["spared"] == 1
    run = sweep()
    assert snapshot(workspace.pk) == before
    assert run_counts(run)[workspace.pk] == counts


def test_person_hold_spares_the_persons_data_only(world, workspace, sweep):
    place(workspace, world["admin"], HoldScope.PERSON, user=world["alice"].user)
    alice_ids = {world["tickets"]["alice"].pk, world["tickets"]["alice2"].pk}
    before = held_rows(workspace.pk, alice_ids)
    counts = preview_workspace(workspace, now=NOW)
    assert counts[TICKETS] == {"due": 1, "spared": 2}
    assert counts[EXPORTS] == {"due": 0, "spared": 1}
    sweep()
    assert held_rows(workspace.pk, alice_ids) == before
    assert Ticket.objects.get(pk=world["tickets"]["bob"].pk).subject == RETENTION_SUBJECT
    assert DataExport.objects.filter(user=world["alice"].user).exists()


def test_person_hold_spares_an_inactive_requesters_membership_and_account(world, workspace, sweep):
    place(workspace, world["admin"], HoldScope.PERSON, user=world["bob"].user)
    before = held_rows(workspace.pk, {world["tickets"]["bob"].pk})
    assert preview_workspace(workspace, now=NOW)[REQUESTERS] == {"due": 0, "spared": 1}
    sweep()
    assert Membership.objects.filter(pk=world["bob"].pk).exists()
    assert held_rows(workspace.pk, {world["tickets"]["bob"].pk}) == before


def test_ticket_hold_spares_that_ticket_only(world, workspace, sweep):
    held = world["tickets"]["alice"]
    place(workspace, world["admin"], HoldScope.TICKET, ticket=held)
    before = held_rows(workspace.pk, {held.pk})
    sweep()
    assert held_rows(workspace.pk, {held.pk}) == before
    assert Ticket.objects.get(pk=world["tickets"]["alice2"].pk).anonymized_at == NOW


def test_released_and_ended_holds_spare_nothing(world, workspace, frozen, sweep):
    hold = place(workspace, world["admin"], HoldScope.WORKSPACE)
    place(
        workspace,
        world["admin"],
        HoldScope.TICKET,
        ticket=world["tickets"]["alice"],
        ends_at=NOW + timedelta(days=1),
    )
    legal_hold_release(hold=hold, actor=world["admin"].user)
    frozen.advance(timedelta(days=2))
    assert preview_workspace(workspace, now=frozen.now)[TICKETS] == {"due": 3, "spared": 0}
    sweep(now=frozen.now)
    assert not Ticket.objects.filter(anonymized_at__isnull=True, status=Status.CLOSED).exists()


def test_holds_keep_audit_events_about_the_held_person(world, workspace, frozen, sweep):
    set_policy(workspace, audit_days=10)
    alice = world["alice"].user
    place(workspace, world["admin"], HoldScope.PERSON, user=alice)
    frozen.now = NOW - timedelta(days=20)
    first_about_alice = ticket_event(world["tickets"]["alice"], alice)
    frozen.now = NOW
    counts = preview_workspace(workspace, now=NOW)[AUDIT_EVENTS]
    assert counts["spared"] >= 1
    run = sweep()
    assert AuditEvent.objects.filter(pk=first_about_alice.pk).exists()
    assert run_counts(run)[workspace.pk][AUDIT_EVENTS] == counts


def test_place_and_release_are_audited_and_validated(workspace, admin):
    with pytest.raises(ValidationError) as error:
        legal_hold_place(workspace=workspace, actor=admin.user, scope=HoldScope.WORKSPACE, reason=" ")
    assert error.value.message_dict["reason"] == [REASON_REQUIRED]
    with pytest.raises(ValidationError) as error:
        legal_hold_place(
            workspace=workspace,
            actor=admin.user,
            scope=HoldScope.WORKSPACE,
            reason="x",
            ends_at=days_ago(1, now=NOW) - timedelta(days=4000),
        )
    assert error.value.message_dict["ends_at"] == [ENDS_IN_PAST]
    hold = legal_hold_place(
        workspace=workspace, actor=admin.user, scope=HoldScope.WORKSPACE, reason="Litigation"
    )
    placed = AuditEvent.objects.get(action="legal_hold.placed")
    assert (placed.workspace_id, placed.target_id, placed.detail["scope"]) == (
        workspace.pk,
        str(hold.pk),
        "workspace",
    )
    assert "Litigation" not in json.dumps(placed.detail)
    legal_hold_release(hold=hold, actor=admin.user)
    assert AuditEvent.objects.filter(action="legal_hold.released", target_id=str(hold.pk)).exists()
    with pytest.raises(ValidationError) as error:
        legal_hold_release(hold=hold, actor=admin.user)
    assert error.value.messages == [ALREADY_RELEASED]


def test_account_erasure_keeps_held_tickets_and_says_why(frozen, workspace, queue, admin):
    """A hold keeps the content; the erased person's name and address are still replaced by the
    pseudonym (the privacy policy promises it), and the record copies no free text."""
    person = requester_in(workspace, display_name="Hanna Heldmann", email="hanna@held.example")
    held = closed_ticket(workspace, queue, requester=person.user, closed_days=5)
    free = closed_ticket(workspace, queue, requester=person.user, closed_days=5)
    place(workspace, admin, HoldScope.TICKET, ticket=held)
    before = held_rows(workspace.pk, {held.pk})
    keep = held_objects_for(person.user)
    assert keep.ticket_ids == {held.pk}
    assert keep.reasons[0]["tickets"] == 1 and keep.reasons[0]["scope"] == HoldScope.TICKET
    assert "reason" not in keep.reasons[0] and "Case 2031-17" not in json.dumps(keep.reasons)
    _counts, pseudonym = erase_account_data(User.objects.get(pk=person.user_id))

    def pseudonymized(value):
        if isinstance(value, dict):
            return {k: pseudonymized(v) for k, v in value.items()}
        if isinstance(value, str):
            return value.replace("Hanna Heldmann", pseudonym).replace("hanna@held.example", pseudonym)
        return value

    after = held_rows(workspace.pk, {held.pk})
    for kind in ("tickets", "messages", "attachments"):
        assert {
            pk: {k: v for k, v in row.items() if k != "body_html"} for pk, row in after[kind].items()
        } == {
            pk: {k: v for k, v in pseudonymized(row).items() if k != "body_html"}
            for pk, row in before[kind].items()
        }
    assert Ticket.objects.get(pk=held.pk).subject == f"Problem of {pseudonym} <{pseudonym}>"
    assert Ticket.objects.get(pk=free.pk).subject != free.subject


def test_person_hold_in_another_workspace_does_not_keep_this_ones_data(
    frozen, workspace, other_workspace, queue, admin
):
    person = requester_in(workspace)
    MembershipFactory(workspace=other_workspace, role=Role.REQUESTER, user=person.user)
    closed_ticket(workspace, queue, requester=person.user, closed_days=5)
    other_admin = MembershipFactory(workspace=other_workspace, role=Role.ADMIN, user=UserFactory())
    place(other_workspace, other_admin, HoldScope.PERSON, user=person.user)
    keep = held_objects_for(person.user)
    # Their exports and account events are the person's and stay; this workspace's data does not.
    assert not (keep.ticket_ids or keep.message_ids or keep.attachment_ids)
    assert f"ws:{workspace.pk}" not in keep.audit_chains


# Preview = run, and the forensic proof ---------------------------------------------------------------------


def dry_run_json(now):
    out = StringIO()
    call_command("enforce_retention", "--dry-run", "--json", f"--now={now.isoformat()}", stdout=out)
    return json.loads(out.getvalue())


def test_preview_then_run_agree_exactly(world, workspace, other_workspace, queue, sweep):
    set_policy(workspace, notes_days=100, audit_days=1)
    place(workspace, world["admin"], HoldScope.TICKET, ticket=world["tickets"]["alice2"])
    extra = TicketFactory(workspace=workspace, queue=queue, requester=world["alice"].user, status=Status.OPEN)
    MessageFactory(ticket=extra, author=UserFactory(), kind="note", body="old note", created_at=days_ago(200))
    expected = {w["id"]: w["kinds"] for w in preview(now=NOW)["workspaces"]}
    assert {w["id"]: w["kinds"] for w in dry_run_json(NOW)["workspaces"]} == expected
    assert expected[workspace.pk][TICKETS] == {"due": 2, "spared": 1}
    run = sweep()
    assert run_counts(run) == expected
    event = AuditEvent.objects.get(action="retention.run", workspace=workspace)
    assert event.detail["counts"] == {kind: c["due"] for kind, c in expected[workspace.pk].items()}


def test_dry_run_text_names_each_kind(world):
    out = StringIO()
    call_command("enforce_retention", "--dry-run", f"--now={NOW.isoformat()}", stdout=out)
    text = out.getvalue()
    assert "Closed tickets" in text and "Inactive requester accounts" in text and "acme:" in text
    assert not AuditEvent.objects.filter(action="retention.run").exists()


def test_forensic_search_finds_no_expired_requester_and_held_rows_are_unchanged(world, workspace, sweep):
    alice_ids = {world["tickets"]["alice"].pk, world["tickets"]["alice2"].pk}
    place(workspace, world["admin"], HoldScope.PERSON, user=world["alice"].user)
    bob = world["bob"].user
    needles = (bob.email, bob.display_name, "203.0.113.99")
    assert database_hits(needles)  # the search does find them before the run
    held_before = held_rows(workspace.pk, alice_ids)
    users_before = rows(User.objects.exclude(pk=bob.pk))
    sweep()
    hits = [
        (table, column, needle)
        for table, column, needle in database_hits(needles)
        if needle != "203.0.113.99"
    ]
    assert hits == []
    assert held_rows(workspace.pk, alice_ids) == held_before
    assert rows(User.objects.exclude(pk=bob.pk)) == users_before
    # Alice's events are held (person hold): her IP stays only on events about her tickets.
    ip_rows = AuditEvent.objects.filter(ip_address="203.0.113.99")
    assert set(ip_rows.values_list("actor_id", flat=True)) == {world["alice"].user_id}
