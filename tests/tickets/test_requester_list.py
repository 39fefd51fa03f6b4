"""A requester's list holds the tickets they requested and the ones they take part in, merged in
the order of what they can see changed, each once, and read one page at a time."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_member
from tests.plans import json_plan, plan_nodes
from tests.tickets.ticket_helpers import bulk_copies, new_ticket, walk_pages
from tickets.models import Status, Ticket, TicketParticipant
from tickets.selectors import STATUS_OPEN, TicketFilters, ticket_list_page
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def _dated(ticket, minutes_ago, **changes):
    at = timezone.now() - timedelta(minutes=minutes_ago)
    Ticket.objects.filter(pk=ticket.pk).update(public_updated_at=at, **changes)
    return ticket


def _take_part(ticket, membership):
    TicketParticipant.objects.create(workspace=ticket.workspace, ticket=ticket, user=membership.user)


@pytest.fixture
def mixed(workspace, queue, requester):
    """Primary keys, newest first by public time, of the requester's tickets: requested ones and
    others' tickets they take part in, interleaved, one requested and taken part in too."""
    someone = make_member(workspace, Role.REQUESTER)
    mine = [_dated(new_ticket(requester, queue, subject=f"mine {m}"), m) for m in (50, 30, 10)]
    theirs = [_dated(new_ticket(someone, queue, subject=f"theirs {m}"), m) for m in (40, 20)]
    for ticket in theirs:
        _take_part(ticket, requester)
    both = _dated(new_ticket(requester, queue, subject="both"), 5)
    _take_part(both, requester)
    _dated(new_ticket(someone, queue, subject="not theirs"), 1)  # newest, never listed
    by_time = sorted([*mine, *theirs, both], key=lambda t: Ticket.objects.get(pk=t.pk).public_updated_at)
    return [t.pk for t in reversed(by_time)]


def _walk(requester, filters, page_size):
    """The rows going forwards, and coming back (in display order), over every page."""
    pages, back = walk_pages(requester, filters, page_size)
    return [pk for page in pages for pk in page], [pk for page in reversed(back) for pk in page]


def test_pages_merge_requested_and_taken_part_in_tickets_in_public_order(requester, mixed):
    forwards, backwards = _walk(requester, TicketFilters(), page_size=2)

    assert forwards == mixed
    assert backwards + [t for t in mixed if t not in backwards] == mixed
    assert len(set(forwards)) == len(forwards) == 6


def test_ascending_pages_merge_both_parts_too(requester, mixed):
    forwards, _ = _walk(requester, TicketFilters(descending=False), page_size=4)

    assert forwards == list(reversed(mixed))


def test_a_filter_narrows_both_parts(requester, mixed):
    solved = Ticket.objects.filter(pk__in=mixed[1:3])
    solved.update(status=Status.SOLVED)

    forwards, _ = _walk(requester, TicketFilters(status=STATUS_OPEN), page_size=2)

    assert forwards == [mixed[0], *mixed[3:]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan; CI runs it there")
def test_a_requesters_page_reads_one_page_of_their_tickets(workspace, queue, requester):
    """The bench's requester at 1M tickets has 1,000: "id in (requested or taken part in)"
    fetched each of them by id and sorted them for a page of 50."""
    for n in range(300):
        _dated(new_ticket(requester, queue, subject=f"ticket {n}"), n)
    others = _dated(new_ticket(make_member(workspace, Role.REQUESTER), queue, subject="others"), 0)
    bulk_copies(others, 3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    with CaptureQueriesContext(connection) as captured:
        page = ticket_list_page(membership=requester, filters=TicketFilters(), page_size=10)
    assert [t.subject for t in page.tickets] == [f"ticket {n}" for n in range(10)]
    (sql,) = [q["sql"] for q in captured.captured_queries if "public_updated_at" in q["sql"]]
    plan = json_plan(sql, analyze=True)

    read = sum(
        node["Actual Rows"] * node["Actual Loops"]
        for node in plan_nodes(plan)
        if node.get("Relation Name") == "tickets_ticket"
    )
    assert read <= 11, json.dumps(plan, indent=1)
