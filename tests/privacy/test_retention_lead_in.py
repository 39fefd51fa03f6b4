"""The inactive requesters' tickets are anonymized ahead of the requesters' own batches, in
ticket order (the requesters kind's lead-in): the same tickets, the same holds respected, the
same counts, and a person who signs in meanwhile keeps theirs."""

import pytest

from privacy.personal_data.retention_kinds import HoldSet
from privacy.retention.models import HoldScope, LegalHold, RetentionRunWorkspace
from privacy.retention.policies import policy_for, preview_workspace
from tests.factories import MessageFactory, QueueFactory, TicketFactory
from tests.privacy import retention_support
from tests.privacy.retention_support import NOW, requester_in
from tickets import retention_kinds as ticket_kinds
from tickets.anonymize import RETENTION_MESSAGE, RETENTION_SUBJECT
from tickets.models import Status, Ticket
from workspaces import retention_kinds as workspace_kinds
from workspaces.models import Membership, User

pytestmark = pytest.mark.django_db

frozen = retention_support.frozen
sweep = retention_support.sweep


def _inactive_with_tickets(workspace, queue, count=3, **user):
    person = requester_in(workspace, last_login_days=1100, **user).user
    tickets = [
        TicketFactory(
            workspace=workspace, queue=queue, requester=person, status=Status.OPEN, subject=f"Mine {n}"
        )
        for n in range(count)
    ]
    for ticket in tickets:
        MessageFactory(ticket=ticket, author=person, body="My words")
    return person, tickets


def test_the_requesters_batches_find_their_tickets_already_anonymized(
    frozen, workspace, queue, sweep, monkeypatch
):
    people = [_inactive_with_tickets(workspace, queue)[0] for _ in range(3)]
    left_for_the_batches = []
    real_hooks = workspace_kinds.requesters_expiry_hooks

    def watching():
        def watch(batch, user_ids):
            left_for_the_batches.append(
                Ticket.objects.filter(requester_id__in=user_ids, anonymized_at__isnull=True).count()
            )
            return {}

        return (watch, *real_hooks())

    monkeypatch.setattr(workspace_kinds, "requesters_expiry_hooks", watching)
    sweep(batch_size=2)
    assert left_for_the_batches == [0, 0]  # two batches of people, nothing left for either
    tickets = Ticket.objects.filter(workspace=workspace)
    assert tickets.count() == 9
    assert set(tickets.values_list("subject", "requester_id", "anonymized_at")) == {
        (RETENTION_SUBJECT, None, NOW)
    }
    assert not Membership.objects.filter(user__in=people).exists()


def test_the_lead_in_is_not_counted_the_run_counts_what_the_preview_showed(frozen, workspace, queue, sweep):
    for _ in range(3):
        _inactive_with_tickets(workspace, queue, count=4)
    shown = preview_workspace(workspace, now=NOW)
    sweep(batch_size=2)
    progress = RetentionRunWorkspace.objects.get(workspace=workspace)
    assert shown["requesters"]["due"] == 3
    assert progress.counts["requesters"] == 3  # people, not their 12 tickets
    assert progress.counts == {kind: counts["due"] for kind, counts in shown.items()}


def test_a_held_ticket_and_a_held_person_keep_their_tickets(frozen, workspace, queue, sweep):
    free, (held_ticket, *others) = _inactive_with_tickets(workspace, queue)
    held_person, theirs = _inactive_with_tickets(workspace, queue)
    LegalHold.objects.create(workspace=workspace, scope=HoldScope.TICKET, ticket=held_ticket, reason="case")
    LegalHold.objects.create(workspace=workspace, scope=HoldScope.PERSON, user=held_person, reason="case")
    sweep(batch_size=1)
    for ticket in [held_ticket, *theirs]:
        ticket.refresh_from_db()
        assert ticket.anonymized_at is None and ticket.subject.startswith("Mine")
        assert ticket.messages.get().body == "My words"
    for ticket in others:
        ticket.refresh_from_db()
        assert ticket.anonymized_at == NOW
        assert ticket.messages.get().body == RETENTION_MESSAGE


def test_someone_who_signs_in_during_the_lead_in_keeps_their_tickets(
    frozen, workspace, queue, sweep, monkeypatch
):
    first, first_tickets = _inactive_with_tickets(workspace, queue, count=2)
    back, back_tickets = _inactive_with_tickets(workspace, queue, count=2)
    real = ticket_kinds.tickets_anonymize

    def anonymize_then_sign_in(**kwargs):
        done = real(**kwargs)
        # Another request, meanwhile: the second person signs in after the first lead-in batch.
        User.objects.filter(pk=back.pk).update(last_login=NOW)
        return done

    monkeypatch.setattr(ticket_kinds, "tickets_anonymize", anonymize_then_sign_in)
    sweep(batch_size=2)
    assert set(Ticket.objects.filter(requester=back).values_list("subject", flat=True)) == {
        "Mine 0",
        "Mine 1",
    }
    assert Membership.objects.filter(user=back, workspace=workspace).exists()
    assert not Ticket.objects.filter(
        pk__in=[t.pk for t in first_tickets], anonymized_at__isnull=True
    ).exists()


def test_the_lead_in_reads_the_same_tickets_the_requesters_kind_would(
    frozen, workspace, queue, other_workspace
):
    mine, tickets = _inactive_with_tickets(workspace, queue, count=2)
    recent = requester_in(workspace, last_login_days=5).user
    TicketFactory(workspace=workspace, queue=queue, requester=recent, status=Status.OPEN)
    Membership.objects.create(workspace=other_workspace, user=mine, role="requester")
    elsewhere = TicketFactory(
        workspace=other_workspace,
        queue=QueueFactory(workspace=other_workspace),
        requester=mine,
        status=Status.OPEN,
    )
    due = ticket_kinds.due_requesters_tickets(workspace.pk, policy_for(workspace), HoldSet(), NOW)
    assert sorted(due.values_list("pk", flat=True)) == sorted(t.pk for t in tickets)
    assert elsewhere.pk not in due.values_list("pk", flat=True)
    everything_held = HoldSet(workspace=True)
    assert not ticket_kinds.due_requesters_tickets(
        workspace.pk, policy_for(workspace), everything_held, NOW
    ).exists()
