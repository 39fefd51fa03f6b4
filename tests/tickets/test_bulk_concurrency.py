"""Two agents bulk-changing overlapping sets of tickets at the same moment (and a third person
editing single tickets among them), each request on its own connection, committing for real.

Every request must answer as usual (a redirect with its report: no deadlock or error shown),
every ticket must end in a state its own audit trail explains (each status event starts where the
previous one ended, the last one ends where the ticket is), and the audit chain must verify.
On SQLite (one writer at a time) the same runs; the overlap then only interleaves.
"""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client

from privacy.audit.models import AuditEvent
from privacy.audit.verify import verify_audit_chains
from tests.concurrency import run_threads
from tests.tickets.ticket_helpers import agent_of, member, new_ticket, url
from tickets.models import Status, Ticket
from tickets.services import ticket_set_status
from workspaces.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _status_trail(ticket):
    return list(
        AuditEvent.objects.filter(
            action="ticket.status_changed", target_type="tickets.ticket", target_id=str(ticket.pk)
        )
        .order_by("seq")
        .values_list("detail", flat=True)
    )


def test_overlapping_bulk_changes_at_once_end_consistent_and_audited(workspace, queue, requester):
    postgres = connection.vendor == "postgresql"
    count = 60 if postgres else 16
    ann, bob = agent_of(workspace, queue), agent_of(workspace, queue)
    admin = member(workspace, Role.ADMIN)
    tickets = [new_ticket(requester, queue, subject=f"Outage {i}") for i in range(count)]
    numbers = [t.number for t in tickets]
    third = count // 3
    # Ann takes the first two thirds, Bob the last two: the middle third is wanted by both. Bob
    # posts his numbers in reverse order (the bulk locks in id order whatever the order posted).
    plans = [
        (ann, numbers[: 2 * third], "status:pending"),
        (bob, list(reversed(numbers[third:])), "status:solved"),
    ]
    answers = []

    def work(index):
        if index == 2:
            # Someone editing single tickets of the middle third meanwhile.
            for ticket in tickets[third : 2 * third : 3]:
                ticket_set_status(ticket=ticket, status=Status.OPEN, actor=admin.user)
            return
        membership, chosen, change = plans[index]
        client = Client()
        client.force_login(membership.user)
        response = client.post(
            url(workspace, "bulk/"), {"tickets": chosen, "change": change, "back": "view=all"}
        )
        answers.append((response.status_code, [str(m) for m in get_messages(response.wsgi_request)]))

    run_threads(3, work)

    assert [status for status, _messages in answers] == [302, 302]
    for _status, shown in answers:
        assert len(shown) == 1 and "tickets updated." in shown[0], shown
        assert "error" not in shown[0].lower() and "deadlock" not in shown[0].lower()
    for ticket in tickets:
        final = Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)
        trail = _status_trail(ticket)
        assert trail, ticket.number
        assert trail[0]["from"] == Status.NEW
        for before, after in zip(trail, trail[1:], strict=False):
            assert after["from"] == before["to"], (ticket.number, trail)
        assert trail[-1]["to"] == final, (ticket.number, trail, final)
    # Only Ann's third ends pending, only Bob's solved; the shared third ends as the last writer left it.
    assert {Ticket.objects.get(pk=t.pk).status for t in tickets[:third]} == {Status.PENDING}
    assert {Ticket.objects.get(pk=t.pk).status for t in tickets[2 * third :]} == {Status.SOLVED}
    assert verify_audit_chains().ok
