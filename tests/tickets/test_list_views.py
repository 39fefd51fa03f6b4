"""Built-in views of the ticket list: agents land on "My open", every view has a count that stays
cheap, a search from the box looks through everything, and paging stays in the view."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from tests.conftest import make_member
from tests.tickets.ticket_helpers import bulk_copies, new_ticket, url
from tickets import list_views
from tickets.models import Status, Ticket, TicketParticipant
from workspaces.models import QUEUE_PERMISSION, Role


def numbers(response):
    return sorted(t.number for t in response.context["tickets"])


@pytest.fixture
def desk(workspace, queue, requester, agent):
    def make(subject, **changes):
        ticket = new_ticket(requester, queue, subject=subject)
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
        return ticket

    return {
        "mine": make("Mine, open", assignee=agent.user, status=Status.OPEN),
        "mine_solved": make("Mine, solved", assignee=agent.user, status=Status.SOLVED),
        "unassigned": make("Nobody's", status=Status.NEW),
        "pending": make("Waiting", status=Status.PENDING, assignee=agent.user),
        "closed": make("Long done", status=Status.CLOSED),
    }


# What each staff view counts of the desk above, for its agent.
DESK_COUNTS = {"mine": "2", "unassigned": "1", "unsolved": "3", "pending": "1", "solved": "1", "all": "5"}


def test_agents_land_on_my_open_and_each_view_shows_its_tickets(workspace, agent, login, desk):
    client = login(agent)
    landing = client.get(url(workspace))
    assert landing.context["view"].key == "mine"
    assert numbers(landing) == sorted([desk["mine"].number, desk["pending"].number])

    def view(key):
        return numbers(client.get(url(workspace), {"view": key}))

    assert view("unassigned") == [desk["unassigned"].number]
    assert view("unsolved") == sorted(desk[k].number for k in ("mine", "unassigned", "pending"))
    assert view("pending") == [desk["pending"].number]
    assert view("solved") == [desk["mine_solved"].number]
    assert view("all") == sorted(t.number for t in desk.values())


def test_each_view_shows_its_count(workspace, agent, login, desk):
    html = login(agent).get(url(workspace)).content.decode()
    counts = login(agent).get(url(workspace)).context["views"]
    assert {v.key: c for v, c in counts} == DESK_COUNTS
    assert 'aria-current="page">My open <span class="view-count" data-view="mine">2</span>' in html


def test_counts_are_capped_not_counted_to_the_end(workspace, queue, requester, agent, login, monkeypatch):
    monkeypatch.setattr(list_views, "COUNT_CAP", 3)
    for n in range(4):
        new_ticket(requester, queue, subject=f"Flood {n}")
    response = login(agent).get(url(workspace) + "counts/")
    assert response.json()["all"] == "2+"
    assert response.json()["pending"] == "0"


def test_counts_follow_the_tickets_when_their_query_is_reused(
    workspace, queue, requester, agent, login, desk
):
    # The counts' SQL is put together once per process for the same member and filters
    # (selectors.capped_filter_counts): the numbers are read again on every page.
    client = login(agent)
    assert client.get(url(workspace) + "counts/").json()["unassigned"] == "1"
    new_ticket(requester, queue, subject="Another one")
    Ticket.objects.filter(pk=desk["mine"].pk).update(assignee=None)
    counts = client.get(url(workspace) + "counts/").json()
    assert counts["unassigned"] == "3" and counts["mine"] == "1" and counts["all"] == "6"


def test_the_counts_endpoint_answers_for_the_members_own_tickets(workspace, requester, login, desk):
    counts = login(requester).get(url(workspace) + "counts/").json()
    assert counts == {"all": "5", "open": "3", "done": "2"}


def test_a_requester_s_counts_take_in_the_tickets_they_take_part_in_once(
    workspace, queue, requester, agent, login, desk
):
    # Counted as requested + taking part (selectors._count_bases): a ticket they requested and
    # also take part in counts once; one of another requester they were added to counts too;
    # one they requested that was anonymized away from them does not.
    other = make_member(workspace, Role.REQUESTER)
    theirs = new_ticket(other, queue, subject="Someone else's, open")
    Ticket.objects.filter(pk=theirs.pk).update(status=Status.OPEN)
    TicketParticipant.objects.create(workspace=workspace, ticket=theirs, user=requester.user)
    TicketParticipant.objects.create(workspace=workspace, ticket=desk["mine"], user=requester.user)
    new_ticket(other, queue, subject="Not theirs at all")
    client = login(requester)
    assert client.get(url(workspace) + "counts/").json() == {"all": "6", "open": "4", "done": "2"}
    Ticket.objects.filter(pk=desk["closed"].pk).update(requester=None)
    assert client.get(url(workspace) + "counts/").json() == {"all": "5", "open": "4", "done": "1"}


def test_a_requester_s_counts_are_capped_across_both_parts(workspace, queue, requester, login, monkeypatch):
    monkeypatch.setattr(list_views, "COUNT_CAP", 3)
    other = make_member(workspace, Role.REQUESTER)
    for n in range(2):
        new_ticket(requester, queue, subject=f"Mine {n}")
        joined = new_ticket(other, queue, subject=f"Joined {n}")
        TicketParticipant.objects.create(workspace=workspace, ticket=joined, user=requester.user)
    assert login(requester).get(url(workspace) + "counts/").json()["all"] == "2+"


def test_a_search_from_the_box_looks_beyond_the_view(workspace, agent, login, desk):
    client = login(agent)
    # The form submits its own fields: no view, an empty status; "Long done" is closed and
    # nobody's, outside "My open", and still found.
    response = client.get(url(workspace), {"q": "Long done", "status": ""})
    assert numbers(response) == [desk["closed"].number]
    # Narrowed on purpose, within a view, it stays narrow.
    assert numbers(client.get(url(workspace), {"view": "mine", "q": "Long done"})) == []


def test_a_search_page_leaves_every_count_to_be_fetched_once_loaded(workspace, agent, login, desk):
    # The counts are not about the search: the page is built without their query, each badge
    # comes empty and hidden, and static/js/view_counts.js fills them from the counts endpoint.
    client = login(agent)
    client.get(url(workspace), {"q": "Long done", "status": ""})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(workspace), {"q": "Long done", "status": ""})
    assert numbers(response) == [desk["closed"].number]
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    html = response.content.decode()
    for view in list_views.STAFF_VIEWS:
        assert f'<span class="view-count" data-view="{view.key}" data-later hidden></span>' in html
    assert client.get(url(workspace) + "counts/").json() == DESK_COUNTS
    # Without a search the counts are on the page itself, as before.
    assert '<span class="view-count" data-view="all">5</span>' in client.get(url(workspace)).content.decode()


def test_requesters_keep_their_own_list_by_default(workspace, requester, login, desk):
    landing = login(requester).get(url(workspace))
    assert landing.context["view"] is None
    assert len(numbers(landing)) == 5


def test_paging_stays_in_the_default_view(workspace, queue, requester, agent, login, monkeypatch):
    from tickets import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(3):
        ticket = new_ticket(requester, queue, subject=f"Mine {n}")
        Ticket.objects.filter(pk=ticket.pk).update(assignee=agent.user, status=Status.OPEN)
    other = new_ticket(requester, queue, subject="Not mine")
    client = login(agent)
    first = client.get(url(workspace))
    assert "view=mine" in first.context["older_url"]
    second = client.get(url(workspace) + first.context["older_url"])
    assert other.number not in numbers(second)
    assert len(numbers(first)) + len(numbers(second)) == 3


def test_the_first_page_of_a_view_takes_live_rows_that_match_it(workspace, agent, login, desk):
    client = login(agent)
    landing = client.get(url(workspace))
    assert landing.context["takes_new_rows"] is True
    html = landing.content.decode()
    assert 'data-view-status="open_any" data-view-assignee="me"' in html  # live.js keeps to it
    mine = desk["mine"]
    assert f'data-number="{mine.number}" data-status="open" data-assignee="me"' in html
    assert client.get(url(workspace), {"view": "all", "status": "pending"}).context["takes_new_rows"] is False


@pytest.mark.parametrize("extra", [2, 10])
def test_view_counts_cost_one_query_for_all_views_whatever_the_number_of_tickets(
    workspace, queue, requester, agent, login, extra
):
    for n in range(extra):
        new_ticket(requester, queue, subject=f"More {n}")
    client = login(agent)
    client.get(url(workspace) + "counts/")
    with CaptureQueriesContext(connection) as queries:
        client.get(url(workspace) + "counts/")
    counting = [q for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counting) == 1
    assert counting[0]["sql"].upper().count("COUNT(") == len(list_views.STAFF_VIEWS)


def test_an_agent_sees_and_counts_only_the_queues_granted_now(workspace, queue, other_queue, desk, login):
    # The list names an agent's granted queues by id (selectors.listed_tickets), read for each
    # page: no grant is an empty list with zero counts, and a grant shows on the next page.
    newcomer = make_member(workspace, Role.AGENT)
    client = login(newcomer)
    response = client.get(url(workspace), {"view": "all"})
    assert numbers(response) == []
    assert dict((v.key, c) for v, c in response.context["views"])["all"] == "0"
    assert client.get(url(workspace) + "counts/").json()["all"] == "0"

    assign_perm(QUEUE_PERMISSION, newcomer.user, queue)
    response = client.get(url(workspace), {"view": "all"})
    assert numbers(response) == sorted(t.number for t in desk.values())
    assert dict((v.key, c) for v, c in response.context["views"])["all"] == str(len(desk))
    assert [q.pk for q in response.context["form"].fields["queue"].known.values()] == [queue.pk]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan; CI runs it there")
def test_my_open_seeks_the_open_statuses_instead_of_stepping_over_closed_tickets(
    workspace, agent, requester, queue
):
    """At 1M tickets "My open"'s count stepped over an agent's 16,000 closed tickets in the
    (workspace, assignee, status, queue) index: "status NOT IN (solved, closed)" is a filter on
    every entry, "status IN (new, open, pending)" a range the index seeks to."""
    closed = new_ticket(requester, queue, subject="closed")
    Ticket.objects.filter(pk=closed.pk).update(assignee=agent.user, status=Status.CLOSED)
    closed.refresh_from_db()
    bulk_copies(closed, 2000)
    still_open = new_ticket(requester, queue, subject="open")
    Ticket.objects.filter(pk=still_open.pk).update(assignee=agent.user, status=Status.OPEN)
    mine = Ticket.objects.filter(workspace_id=workspace.pk, assignee_id=agent.user_id).open().order_by()

    assert list(mine.values_list("subject", flat=True)) == ["open"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
        sql, params = mine.values("queue_id").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert any("status" in line and "new,open,pending" in line for line in conditions), plan
