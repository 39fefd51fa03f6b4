"""Retention, kind by kind, with a frozen clock: what expires is anonymized or deleted, what does
not is left byte-for-byte, and a second run changes nothing."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from privacy.account.models import DataExport, ExportStatus
from privacy.audit.log import audit_record
from privacy.audit.models import AuditEvent
from privacy.personal_data.models import Pseudonym
from privacy.retention.models import AttachmentBasis, RetentionPolicy, TicketAction
from privacy.retention.policies import AUDIT_EVENTS, EXPORTS, kind_names, policy_for, preview_workspace
from privacy.retention.sweep import run_counts
from tests.factories import MembershipFactory, MessageFactory, TicketFactory, UserFactory
from tests.privacy import retention_support
from tests.privacy.audit_support import run_verify
from tests.privacy.retention_support import (
    NOW,
    attach,
    closed_ticket,
    days_ago,
    file_exists,
    requester_in,
    row,
    set_policy,
    snapshot,
    ticket_event,
)
from tickets.anonymize import RETENTION_MESSAGE, RETENTION_SUBJECT
from tickets.models import Attachment, Message, MessageKind, Status, Ticket, TicketParticipant
from tickets.retention_kinds import ATTACHMENTS, NOTES, TICKETS
from workspaces.models import Membership, Role, User
from workspaces.retention_kinds import REQUESTERS

pytestmark = pytest.mark.django_db


# Fixtures shared with the other retention tests (assigned, so pytest finds them here).
frozen = retention_support.frozen
requester = retention_support.active_requester
sweep = retention_support.sweep


def counts_of(run, workspace):
    return run_counts(run)[workspace.pk]


def test_defaults_are_the_documented_periods(workspace):
    policy = policy_for(workspace)
    assert policy.pk is None  # reading does not create the row
    assert (policy.tickets_days, policy.tickets_action) == (730, TicketAction.ANONYMIZE)
    assert (policy.attachments_days, policy.attachments_basis) == (365, AttachmentBasis.UPLOAD)
    assert policy.notes_days is None
    assert (policy.requesters_days, policy.audit_days, policy.exports_days) == (1095, 2555, 7)
    assert policy_for(workspace, create=True).pk is not None
    assert RetentionPolicy.objects.filter(workspace=workspace).count() == 1


def test_expired_closed_ticket_is_anonymized_and_keeps_its_figures(
    frozen, workspace, queue, requester, sweep
):
    set_policy(workspace, attachments_days=None)  # the young ticket's file would expire by itself
    agent = UserFactory()
    friend = requester_in(workspace, display_name="Friendly Participant").user
    old = closed_ticket(
        workspace, queue, requester=requester.user, agent=agent, closed_days=731, participant=friend
    )
    event = ticket_event(old, requester.user)
    young = closed_ticket(workspace, queue, requester=requester.user, closed_days=729)
    open_old = TicketFactory(
        workspace=workspace, queue=queue, requester=requester.user, created_at=days_ago(3000)
    )
    file_name = Attachment.objects.get(ticket=old).file.name
    before_old = row(old)
    kept = snapshot(workspace.pk)
    kept_young = {
        k: {pk: r for pk, r in v.items() if r.get("ticket_id", pk) in (young.pk, open_old.pk)}
        for k, v in kept.items()
    }

    run = sweep()

    old.refresh_from_db()
    assert old.subject == RETENTION_SUBJECT
    assert old.requester_id is None
    assert old.requester_pseudonym == Pseudonym.objects.get(user=requester.user).label
    assert old.anonymized_at == NOW
    for name in (
        "queue_id",
        "priority",
        "status",
        "created_at",
        "updated_at",
        "closed_at",
        "assignee_id",
        "number",
    ):
        assert getattr(old, name) == before_old[name]
    bodies = list(Message.objects.filter(ticket=old).values_list("body", "kind", "author_id"))
    assert len(bodies) == 4  # counts kept
    assert {b for b, _, _ in bodies} == {RETENTION_MESSAGE}
    assert sorted(k for _, k, _ in bodies) == ["note", "reply", "reply", "reply"]
    # The requester's and the participant's words are unlinked from them; the agent's stay.
    assert sorted(a for _, _, a in bodies if a is not None) == [agent.pk, agent.pk]
    assert not TicketParticipant.objects.filter(ticket=old).exists()
    assert not Attachment.objects.filter(ticket=old).exists()
    assert not file_exists(file_name)
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.ip_address, event.user_agent, event.actor_label) == (None, "", "")
    assert counts_of(run, workspace)[TICKETS] == {"due": 1, "spared": 0}
    after = snapshot(workspace.pk)
    for kind, rows_before in kept_young.items():
        for pk, values in rows_before.items():
            assert after[kind].get(pk) == values, (kind, pk)
    assert run_verify()[0]


def test_the_same_person_gets_the_same_pseudonym_on_every_ticket(frozen, workspace, queue, requester, sweep):
    first = closed_ticket(workspace, queue, requester=requester.user, closed_days=900)
    second = closed_ticket(workspace, queue, requester=requester.user, closed_days=800)
    sweep()
    labels = set(
        Ticket.objects.filter(pk__in=[first.pk, second.pk]).values_list("requester_pseudonym", flat=True)
    )
    assert labels == {Pseudonym.objects.get(user=requester.user).label}


def test_delete_action_removes_the_ticket_and_its_files(frozen, workspace, queue, requester, sweep):
    set_policy(workspace, tickets_action=TicketAction.DELETE)
    old = closed_ticket(workspace, queue, requester=requester.user, closed_days=731)
    young = closed_ticket(workspace, queue, requester=requester.user, closed_days=10)
    file_name = Attachment.objects.get(ticket=old).file.name
    kept = row(young)
    run = sweep()
    assert not Ticket.objects.filter(pk=old.pk).exists()
    assert not Message.objects.filter(ticket_id=old.pk).exists()
    assert not file_exists(file_name)
    assert row(Ticket.objects.get(pk=young.pk)) == kept
    assert counts_of(run, workspace)[TICKETS]["due"] == 1


def test_internal_notes_past_their_period_are_redacted(frozen, workspace, queue, requester, sweep):
    set_policy(workspace, notes_days=30)
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    agent = UserFactory()
    old_note = MessageFactory(
        ticket=ticket, author=agent, kind=MessageKind.NOTE, body="old", created_at=days_ago(31)
    )
    new_note = MessageFactory(
        ticket=ticket, author=agent, kind=MessageKind.NOTE, body="new", created_at=days_ago(29)
    )
    old_reply = MessageFactory(ticket=ticket, author=agent, body="reply", created_at=days_ago(300))
    kept = (row(new_note), row(old_reply))
    run = sweep()
    assert Message.objects.get(pk=old_note.pk).body == RETENTION_MESSAGE
    assert (row(Message.objects.get(pk=new_note.pk)), row(Message.objects.get(pk=old_reply.pk))) == kept
    assert counts_of(run, workspace)[NOTES]["due"] == 1


def test_notes_are_kept_forever_by_default(frozen, workspace, queue, requester, sweep):
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    note = MessageFactory(
        ticket=ticket, author=UserFactory(), kind=MessageKind.NOTE, created_at=days_ago(9000)
    )
    sweep()
    assert Message.objects.get(pk=note.pk).body == note.body


@pytest.mark.parametrize("basis", [AttachmentBasis.UPLOAD, AttachmentBasis.CLOSED])
def test_attachments_expire_from_upload_or_from_closing(frozen, workspace, queue, requester, basis, sweep):
    set_policy(workspace, attachments_basis=basis, tickets_days=None)
    user = requester.user
    open_ticket = TicketFactory(workspace=workspace, queue=queue, requester=user, status=Status.OPEN)
    closed = TicketFactory(
        workspace=workspace, queue=queue, requester=user, status=Status.CLOSED, closed_at=days_ago(400)
    )
    on_open = attach(open_ticket, uploader=user, days=500)
    on_closed = attach(closed, uploader=user, days=30)
    recent = attach(open_ticket, uploader=user, days=10)
    run = sweep()
    gone = set(Attachment.objects.values_list("pk", flat=True)) ^ {on_open.pk, on_closed.pk, recent.pk}
    expected = {on_open.pk} if basis == AttachmentBasis.UPLOAD else {on_closed.pk}
    assert gone == expected
    for attachment in (on_open, on_closed, recent):
        assert file_exists(attachment.file.name) == (attachment.pk not in expected)
    assert counts_of(run, workspace)[ATTACHMENTS]["due"] == 1


def test_inactive_requester_leaves_and_is_erased_when_in_no_other_workspace(frozen, workspace, queue, sweep):
    gone = requester_in(workspace, last_login_days=1100, display_name="Ida Inactive")
    staying = requester_in(workspace, last_login_days=1000)
    never = requester_in(workspace, last_login_days=None)  # joined 4000 days ago, never signed in
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=gone.user, status=Status.OPEN)
    MessageFactory(ticket=ticket, author=gone.user, body="Ida's words")
    kept = row(staying.user)
    run = sweep()
    assert not Membership.objects.filter(pk__in=[gone.pk, never.pk]).exists()
    erased = User.objects.get(pk=gone.user_id)
    assert erased.email.endswith("@erased.invalid") and not erased.is_active
    ticket.refresh_from_db()
    assert ticket.anonymized_at == NOW and ticket.requester_id is None
    assert Message.objects.get(ticket=ticket).body == RETENTION_MESSAGE
    assert row(User.objects.get(pk=staying.user_id)) == kept
    assert counts_of(run, workspace)[REQUESTERS]["due"] == 2
    assert AuditEvent.objects.filter(action="account.deleted", target_id=str(gone.user_id)).exists()


def test_inactive_requester_of_two_workspaces_only_leaves_this_one(frozen, workspace, other_workspace, sweep):
    membership = requester_in(workspace, last_login_days=1100)
    MembershipFactory(workspace=other_workspace, role=Role.REQUESTER, user=membership.user)
    set_policy(other_workspace, requesters_days=None)
    sweep()
    user = User.objects.get(pk=membership.user_id)
    assert user.is_active and not user.email.endswith(".invalid")
    assert list(Membership.objects.filter(user=user).values_list("workspace_id", flat=True)) == [
        other_workspace.pk
    ]


def _export(user, *, finished_days):
    name = default_storage.save("exports/test.zip", ContentFile(b"PK archive"))
    return DataExport.objects.create(
        user=user,
        status=ExportStatus.READY,
        created_at=days_ago(finished_days),
        finished_at=days_ago(finished_days),
        expires_at=days_ago(finished_days - 7),
        file=name,
        size=10,
    )


def test_finished_exports_are_deleted_after_their_period(frozen, workspace, requester, sweep):
    old = _export(requester.user, finished_days=8)
    young = _export(requester.user, finished_days=6)
    run = sweep()
    assert not DataExport.objects.filter(pk=old.pk).exists()
    assert not file_exists(old.file.name)
    assert DataExport.objects.filter(pk=young.pk).exists() and file_exists(young.file.name)
    assert counts_of(run, workspace)[EXPORTS]["due"] == 1


def test_exports_count_in_the_owners_workspace_with_the_shortest_period(
    frozen, workspace, other_workspace, requester, sweep
):
    MembershipFactory(workspace=other_workspace, role=Role.REQUESTER, user=requester.user)
    set_policy(workspace, exports_days=30)
    set_policy(other_workspace, exports_days=3)
    _export(requester.user, finished_days=5)
    assert preview_workspace(other_workspace, now=NOW)[EXPORTS]["due"] == 1
    assert preview_workspace(workspace, now=NOW)[EXPORTS]["due"] == 0
    run = sweep()
    assert counts_of(run, other_workspace)[EXPORTS]["due"] == 1
    assert not DataExport.objects.exists()


def test_audit_events_past_their_period_are_purged_and_the_chain_verifies(frozen, workspace, admin, sweep):
    set_policy(workspace, audit_days=100)
    for age in (300, 200, 101, 99, 10):
        frozen.now = days_ago(age)
        audit_record(action="settings.changed", actor=admin.user, workspace=workspace, detail={"age": age})
    frozen.now = NOW
    assert preview_workspace(workspace, now=NOW)[AUDIT_EVENTS] == {"due": 3, "spared": 0}
    run = sweep()
    ages = sorted(
        e.detail["age"] for e in AuditEvent.objects.filter(workspace=workspace, action="settings.changed")
    )
    assert ages == [10, 99]
    assert counts_of(run, workspace)[AUDIT_EVENTS]["due"] == 3
    assert run_verify()[0]


def test_a_second_run_changes_nothing(frozen, workspace, queue, requester, sweep):
    set_policy(workspace, notes_days=1)
    closed_ticket(workspace, queue, requester=requester.user, closed_days=800)
    sweep()
    before = snapshot(workspace.pk)
    events = AuditEvent.objects.count()
    run = sweep()
    assert snapshot(workspace.pk) == before
    assert all(c["due"] == 0 for c in counts_of(run, workspace).values())
    assert AuditEvent.objects.count() == events + 1  # only the new run's retention.run


def test_each_run_audits_one_event_per_workspace_with_counts(
    frozen, workspace, other_workspace, queue, requester, sweep
):
    closed_ticket(workspace, queue, requester=requester.user, closed_days=800)
    run = sweep()
    events = AuditEvent.objects.filter(action="retention.run")
    assert sorted(events.values_list("workspace_id", flat=True)) == sorted([workspace.pk, other_workspace.pk])
    mine = events.get(workspace=workspace)
    assert mine.detail["run"] == run.pk
    assert mine.detail["counts"][TICKETS] == 1
    assert set(mine.detail["counts"]) == set(kind_names())


def test_kinds_do_not_count_twice(frozen, workspace, queue, requester):
    """A due ticket's notes and files go with it: they are not counted under notes/attachments."""
    set_policy(workspace, notes_days=1)
    closed_ticket(workspace, queue, requester=requester.user, closed_days=800)
    counts = preview_workspace(workspace, now=NOW)
    assert (counts[TICKETS]["due"], counts[NOTES]["due"], counts[ATTACHMENTS]["due"]) == (1, 0, 0)
    frozen.advance(timedelta(seconds=1))
