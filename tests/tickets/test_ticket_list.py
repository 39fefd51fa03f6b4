"""The ticket list: filters, sorting, search through the visibility functions, keyset paging."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_member
from tests.factories import MessageFactory, ParticipantFactory, TicketFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, note, reply, url, walk_pages
from tickets import views
from tickets.models import MessageKind, Priority, Status, Ticket
from tickets.selectors import TicketFilters, decode_cursor
from tickets.tags import ticket_set_tags
from workspaces.models import Role


def numbers(response):
    return [t.number for t in response.context["tickets"]]


@pytest.fixture
def many(workspace, queue, requester):
    """23 tickets; updated_at goes in steps of one minute, with pairs sharing the same instant so
    the id tie-break matters, and priorities mixed."""
    base = timezone.now() - timedelta(days=1)
    tickets = []
    for index in range(23):
        moment = base + timedelta(minutes=index // 2)
        tickets.append(
            TicketFactory(
                workspace=workspace,
                queue=queue,
                requester=requester.user,
                number=index + 1,
                created_at=moment - timedelta(hours=1),
                updated_at=moment,
                priority=list(Priority.values)[index % 4],
            )
        )
    return tickets


@pytest.mark.parametrize("sort", ["updated", "created", "priority", "number"])
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_pages_cover_every_ticket_once_in_order(admin, many, sort, descending):
    filters = TicketFilters(sort=sort, descending=descending)
    pages, back = walk_pages(admin, filters, page_size=5)
    field = {
        "updated": "updated_at",
        "created": "created_at",
        "priority": "priority_rank",
        "number": "number",
    }[sort]
    expected = list(
        Ticket.objects.order_by(
            f"-{field}" if descending else field, "-id" if descending else "id"
        ).values_list("pk", flat=True)
    )
    assert [pk for page in pages for pk in page] == expected
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    # Walking back with "Newer" gives the same pages in reverse.
    assert back == list(reversed(pages[:-1]))


def test_the_view_links_newer_and_older_and_keeps_the_filters(workspace, admin, many, login, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 10)
    client = login(admin)
    first = client.get(url(workspace), {"status": "new", "sort": "number", "dir": "asc"})
    assert numbers(first) == list(range(1, 11))
    assert first.context["newer_url"] is None
    older = first.context["older_url"]
    assert "status=new" in older and "sort=number" in older and "after=" in older
    second = client.get(url(workspace) + older)
    assert numbers(second) == list(range(11, 21))
    third = client.get(url(workspace) + second.context["older_url"])
    assert numbers(third) == [21, 22, 23] and third.context["older_url"] is None
    back = client.get(url(workspace) + third.context["newer_url"])
    assert numbers(back) == list(range(11, 21))
    assert b'id="page-newer"' in back.content and b'id="page-older"' in back.content


def test_a_malformed_cursor_shows_the_first_page(workspace, admin, many, login):
    response = login(admin).get(url(workspace), {"after": "1_2_3'; DROP", "sort": "number", "dir": "asc"})
    assert numbers(response)[0] == 1
    assert decode_cursor("99999999999999999999_1", "updated") is None


def test_no_offset_and_no_count_in_the_list_queries(workspace, admin, many, login, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 5)
    client = login(admin)
    first = client.get(url(workspace), {"view": "all"})
    for search in ("", "&q=subject"):
        with CaptureQueriesContext(connection) as queries:
            client.get(url(workspace) + first.context["older_url"] + search)
        sqls = [q["sql"].upper() for q in queries.captured_queries]
        assert not any("OFFSET" in sql for sql in sqls)
        # The only counts are the views' (tickets/list_views.py), each stopped at a cap; a
        # search's page has none (they are fetched once it has loaded).
        counts = [sql for sql in sqls if "COUNT(" in sql]
        assert all(re.search(r"LIMIT \d+\)", sql) for sql in counts), counts
        assert bool(counts) == (not search)


def test_staff_filters(workspace, queue, other_queue, admin, agent, requester, login):
    new_ticket(requester, queue, subject="Urgent one", priority=Priority.URGENT)
    mine = new_ticket(requester, queue, subject="Assigned to agent")
    mine.assignee = agent.user
    mine.save()
    closed = new_ticket(requester, queue, subject="Done")
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    billing = new_ticket(requester, other_queue, subject="Billing thing")
    client = login(admin)

    def subjects(**params):
        return {t.subject for t in client.get(url(workspace), params).context["tickets"]}

    assert subjects(view="all") == {"Urgent one", "Assigned to agent", "Done", "Billing thing"}
    assert subjects(status="open_any") == {"Urgent one", "Assigned to agent", "Billing thing"}
    assert subjects(status="closed") == {"Done"}
    assert subjects(queue=other_queue.pk) == {"Billing thing"}
    assert subjects(priority="urgent") == {"Urgent one"}
    assert subjects(assignee=str(agent.user.pk)) == {"Assigned to agent"}
    assert subjects(assignee="none") == {"Urgent one", "Done", "Billing thing"}
    assert {t.subject for t in login(agent).get(url(workspace), {"assignee": "me"}).context["tickets"]} == {
        "Assigned to agent"
    }
    # The agent's queue filter offers their queues only; another queue is an error, not a leak.
    response = login(agent).get(url(workspace), {"queue": other_queue.pk})
    assert "queue" in response.context["form"].errors
    assert billing.subject not in {t.subject for t in response.context["tickets"]}


def test_the_filters_offer_their_choices_in_each_reader_s_language_with_the_agents_of_now(
    workspace, queue, admin, login
):
    """The filters' choices are kept once per field and shared by every form built from it
    (helpdesk.fixed_choices): still each reader's words, and the workspace's staff as they are."""
    french = make_member(workspace, Role.AGENT, language="fr", display_name="Agnès")

    def options(member, name):
        html = login(member).get(url(workspace)).content.decode()
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
        return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)

    assert ("", "Any priority") in options(admin, "priority")
    assert ("", "Toute priorité") in options(french, "priority")
    assert ("desc", "Décroissant") in options(french, "dir")
    assert ("desc", "Descending") in options(admin, "dir")
    assert (str(french.user.pk), "Agnès") in options(admin, "assignee")
    later = make_member(workspace, Role.AGENT, display_name="Bastien")
    assert (str(later.user.pk), "Bastien") in options(admin, "assignee")
    assert ("", "N’importe qui") in options(french, "assignee")


def test_the_filter_boxes_show_what_each_view_asked_for_one_after_another(workspace, queue, admin, login):
    """The filters' selects are kept once rendered (helpdesk.form_rendering.KeptSelect): the next
    view, asked for other values, still shows its own."""
    client = login(admin)

    def selected(params, name):
        html = client.get(url(workspace), params).content.decode()
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
        return re.findall(r'<option value="([^"]*)" selected>', select)

    assert selected({"status": "pending"}, "status") == ["pending"]
    assert selected({"status": "closed"}, "status") == ["closed"]
    assert selected({"status": "pending", "priority": "urgent"}, "priority") == ["urgent"]
    assert selected({"status": "pending"}, "priority") == [""]
    assert selected({"queue": queue.pk}, "queue") == [str(queue.pk)]
    assert selected({}, "queue") == [""]


def test_requesters_see_my_tickets_with_simple_filters(workspace, queue, requester, agent, login):
    own = new_ticket(requester, queue, subject="Mine")
    other = new_ticket(make_member(workspace, Role.REQUESTER), queue, subject="Someone else's")
    joined = new_ticket(make_member(workspace, Role.REQUESTER), queue, subject="Joined")
    ParticipantFactory(ticket=joined, user=requester.user)
    response = login(requester).get(url(workspace))
    html = response.content.decode()
    assert "My tickets" in html
    assert {t.subject for t in response.context["tickets"]} == {own.subject, joined.subject}
    assert other.subject not in html
    form = response.context["form"]
    assert set(form.fields) == {"q", "status", "sort", "dir"}
    assert '<th scope="col">Assignee</th>' not in html
    # A queue or assignee parameter means nothing for a requester.
    assert {
        t.subject for t in login(requester).get(url(workspace), {"assignee": "none"}).context["tickets"]
    } == {
        own.subject,
        joined.subject,
    }


def test_rows_come_from_the_shared_include_with_the_live_hooks(workspace, queue, requester, admin, login):
    ticket = new_ticket(requester, queue)
    html = login(admin).get(url(workspace), {"view": "all"}).content.decode()
    rows = re.search(r'<tbody id="ticket-rows"([^>]*)>', html)
    assert rows is not None and f'data-live-url="/ws/w/{workspace.slug}/tickets/"' in rows.group(1)
    assert f'id="ticket-row-{ticket.number}"' in html


def test_search_matches_subjects_and_bodies_but_requesters_never_match_notes(
    workspace, queue, requester, agent, login
):
    ticket = new_ticket(requester, queue, subject="Laptop will not boot")
    reply(ticket, agent, body="Try holding the power button")
    note(ticket, agent, body="Probably the zebracorn firmware")
    agent_client = login(agent)

    def found(client, q):
        return numbers(client.get(url(workspace), {"q": q}))

    assert found(agent_client, "laptop") == [ticket.number]
    assert found(agent_client, "power button") == [ticket.number]
    assert found(agent_client, "zebracorn") == [ticket.number]  # staff search notes too
    assert found(agent_client, f"#{ticket.number}") == [ticket.number]
    requester_client = login(requester)
    assert found(requester_client, "power button") == [ticket.number]
    assert found(requester_client, "zebracorn") == []


def test_search_never_reaches_tickets_outside_the_members_view(
    workspace, other_workspace, queue, other_queue, requester, login
):
    billing_agent = agent_of(workspace, other_queue)
    support_ticket = new_ticket(requester, queue, subject="Support only")
    MessageFactory(ticket=support_ticket, kind=MessageKind.REPLY, body="needle in support")
    foreign = TicketFactory(workspace=other_workspace, subject="needle abroad")
    MessageFactory(ticket=foreign, body="needle")
    response = login(billing_agent).get(url(workspace), {"q": "needle"})
    assert numbers(response) == []


@pytest.mark.parametrize("role", ["admin", "agent", "requester"])
def test_list_query_count_is_the_same_for_5_and_50_tickets(
    workspace, queue, admin, agent, requester, role, login, django_assert_max_num_queries
):
    viewer = {"admin": admin, "agent": agent, "requester": requester}[role]
    client = login(viewer)

    def make(n):
        for _ in range(n):
            ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
            ticket.assignee = agent.user
            ticket.save()

    make(5)
    client.get(url(workspace))
    client.get(url(workspace), {"q": "subject"})  # reads the word statistics it keeps (tickets.search)
    # A search adds a constant handful: on PostgreSQL its transaction (BEGIN, a local setting,
    # COMMIT), the subject and message matches, the check of the matched tickets, the excerpts;
    # and each of the list's views has its (capped) count; the page's tags (one query) and the bulk
    # bar's agents and queues (two) for staff.
    with django_assert_max_num_queries(25) as five:
        assert len(client.get(url(workspace), {"q": "subject"}).context["tickets"]) == 5
    make(45)
    with django_assert_max_num_queries(len(five)) as fifty:
        assert len(client.get(url(workspace), {"q": "subject"}).context["tickets"]) == 50
    assert len(fifty) == len(five)


def test_rows_and_filters_escape_every_value_a_person_wrote(workspace, queue, admin, login):
    # The rows and the filter selects are built in Python (tickets.list_rows, list_tags): markup
    # typed into a subject, a queue's name or a person's name must reach the page as text.
    hostile = '<img src=x onerror="alert(1)">&'
    escaped = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;"
    queue.name = f"Q {hostile}"
    queue.save()
    requester = make_member(workspace, Role.REQUESTER)
    requester.user.display_name = f"R {hostile}"
    requester.user.save()
    agent = agent_of(workspace, queue)
    agent.user.display_name = f"A {hostile}"
    agent.user.save()
    ticket = new_ticket(requester, queue, subject=f"S {hostile}")
    ticket.assignee = agent.user
    ticket.save()
    ticket_set_tags(ticket=ticket, add=["<b>bold</b>"], remove=[], actor=admin.user)
    html = login(admin).get(url(workspace), {"view": "all"}).content.decode()
    assert hostile not in html and "<img" not in html and "<b>" not in html
    assert '<li class="tag-chip">&lt;b&gt;bold&lt;/b&gt;</li>' in html
    row = re.search(rf'<tr id="ticket-row-{ticket.number}".*?</tr>', html, flags=re.S).group(0)
    for shown in (f"S {escaped}", f"Q {escaped}", f"R {escaped}", f"A {escaped}"):
        assert shown in row
    # The assignee filter and the bulk bar offer the agent, the queue filter the queue: as text.
    assert html.count(f"A {escaped}") >= 3 and html.count(f"Q {escaped}") >= 3
