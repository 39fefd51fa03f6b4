"""The batched twins (tickets/bulk_services.py) do what the single-edit services do: each action
runs both ways on identical tickets, and every written field and audit event is compared. A rule
added to a single-edit service and not to its twin fails here."""

import dataclasses

import pytest

from privacy.audit.models import AuditEvent
from privacy.audit.verify import verify_audit_chains
from tests.tickets.ticket_helpers import agent_of, member, new_ticket
from tickets import bulk
from tickets.models import Ticket
from tickets.services import ticket_assign
from workspaces.models import Role

FIELDS = ("status", "priority", "queue_id", "assignee_id", "version", "properties_changed_by_id")


def _state(ticket, before):
    ticket.refresh_from_db()
    return {
        **{name: getattr(ticket, name) for name in FIELDS},
        "closed": ticket.closed_at is not None,
        "updated": ticket.updated_at > before.updated_at,
        "public_updated": ticket.public_updated_at > before.public_updated_at,
    }


def _events_after(ticket, seq):
    return [
        (action, {k: v for k, v in detail.items() if k != "number"}, actor_id)
        for action, detail, actor_id in AuditEvent.objects.filter(
            target_type="tickets.ticket", target_id=str(ticket.pk), seq__gt=seq
        )
        .order_by("seq")
        .values_list("action", "detail", "actor_id")
    ]


def _run(action_name, value, tickets, membership, *, batched):
    action = bulk.ACTIONS[action_name]
    if not batched:
        action = dataclasses.replace(action, apply_many=None)
    before = {t.pk: Ticket.objects.get(pk=t.pk) for t in tickets}
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    saved = bulk.ACTIONS[action_name]
    bulk.ACTIONS[action_name] = action
    try:
        report = bulk.bulk_apply(
            membership=membership,
            numbers=[t.number for t in tickets],
            action=action_name,
            value=value,
            actor=membership.user,
        )
    finally:
        bulk.ACTIONS[action_name] = saved
    states = [_state(t, before[t.pk]) for t in tickets]
    events = [_events_after(t, seq) for t in tickets]
    return report, states, events


@pytest.mark.parametrize(
    "action,value",
    [
        ("status", "pending"),
        ("status", "closed"),
        ("priority", "urgent"),
        ("assign", "agent"),
        ("assign", "none"),
        ("queue", "billing"),
    ],
)
def test_batched_and_single_edits_leave_the_same_tickets_and_the_same_audit_trail(
    action, value, workspace, queue, other_queue, requester
):
    admin = member(workspace, Role.ADMIN)
    support_agent = agent_of(workspace, queue)
    both_agent = agent_of(workspace, queue, other_queue)

    def tickets():
        made = [new_ticket(requester, queue) for _ in range(3)]
        # Assigned to someone who does not work Billing, and to someone who does: a move to
        # Billing unassigns the first only.
        ticket_assign(ticket=made[0], assignee=support_agent.user, actor=admin.user)
        ticket_assign(ticket=made[1], assignee=both_agent.user, actor=admin.user)
        return made

    raw = {"agent": str(both_agent.user.pk), "billing": str(other_queue.pk)}.get(value, value)
    single = _run(action, raw, tickets(), admin, batched=False)
    batched = _run(action, raw, tickets(), admin, batched=True)
    assert [len(single[0].changed), single[0].refused] == [len(batched[0].changed), batched[0].refused]
    assert single[1] == batched[1]
    assert single[2] == batched[2]
    assert any(events for events in batched[2])
    assert verify_audit_chains().ok


def test_a_batched_assignment_refuses_the_tickets_of_queues_the_assignee_does_not_work(
    workspace, queue, other_queue, requester
):
    admin = member(workspace, Role.ADMIN)
    support_agent = agent_of(workspace, queue, display_name="Sam Support")
    support = new_ticket(requester, queue)
    billing = new_ticket(requester, other_queue)
    report = bulk.bulk_apply(
        membership=admin,
        numbers=[support.number, billing.number],
        action="assign",
        value=str(support_agent.user.pk),
        actor=admin.user,
    )
    assert report.changed == [support.number]
    assert report.refused == [
        (
            billing.number,
            f"#{billing.number}: Sam Support cannot be assigned: they do not work the Billing queue.",
        )
    ]
    assert Ticket.objects.get(pk=billing.pk).assignee_id is None


def test_a_restricted_person_is_given_no_tickets_in_bulk(workspace, queue, requester):
    from django.utils import timezone

    admin = member(workspace, Role.ADMIN)
    restricted = agent_of(workspace, queue)
    restricted.restricted_at = timezone.now()
    restricted.save(update_fields=["restricted_at"])
    ticket = new_ticket(requester, queue)
    report = bulk.bulk_apply(
        membership=admin,
        numbers=[ticket.number],
        action="assign",
        value=str(restricted.user.pk),
        actor=admin.user,
    )
    assert report.changed == [] and "Processing of" in report.refused[0][1]


def test_live_updates_go_to_the_same_groups_as_single_edits(workspace, queue, requester, monkeypatch):
    """One ``broadcast_tickets`` call, but per ticket the groups ``broadcast_ticket`` uses."""
    from tickets import realtime

    sent = []

    class Layer:
        async def group_send(self, group, event):
            sent.append((group, event["ticket_id"]))

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: Layer())
    tickets = [new_ticket(requester, queue) for _ in range(2)]
    realtime.broadcast_tickets(tickets)
    batched = sorted(sent)
    sent.clear()
    for ticket in tickets:
        realtime.broadcast_ticket(ticket)
    assert batched == sorted(sent)
    assert (realtime.user_list_group(workspace.pk, requester.user_id), tickets[0].pk) in batched


def test_the_batched_emails_are_the_single_edits_emails(
    workspace, queue, requester, mailoutbox, django_capture_on_commit_callbacks
):
    admin = member(workspace, Role.ADMIN)
    agent = agent_of(workspace, queue)
    tickets = [new_ticket(requester, queue) for _ in range(2)]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        bulk.bulk_apply(
            membership=admin,
            numbers=[t.number for t in tickets],
            action="status",
            value="solved",
            actor=admin.user,
        )
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted(
        (requester.user.email, m.subject) for m in mailoutbox
    )
    assert len(mailoutbox) == 2 and all(
        f"[#{t.number}]" in " ".join(m.subject for m in mailoutbox) for t in tickets
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        bulk.bulk_apply(
            membership=admin,
            numbers=[t.number for t in tickets],
            action="assign",
            value=str(agent.user.pk),
            actor=admin.user,
        )
    assert [m.to for m in mailoutbox] == [[agent.user.email], [agent.user.email]]
