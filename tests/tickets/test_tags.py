"""Tags (issue 13): names normalised and unique per workspace, one audit event per change, the
ticket page's tags box, the list's chips and ?tag= filter, and requesters never seeing any."""

import pytest
from django.db import connection

from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.factories import TicketFactory
from tests.tickets.ticket_helpers import agent_of, new_ticket, url
from tickets import tags
from tickets.models import Tag, Ticket, TicketTag

pytestmark = pytest.mark.django_db


def test_names_are_normalised_and_unique_per_workspace_ignoring_case(
    workspace, other_workspace, agent, ticket
):
    tags.ticket_set_tags(ticket=ticket, add=["  VIP ", "Printer   Jam", "vip"], remove=[], actor=agent.user)
    assert tags.ticket_tag_names(ticket) == ["printer jam", "vip"]
    second = new_ticket(ticket.requester.memberships.get(workspace=workspace), ticket.queue)
    tags.ticket_set_tags(ticket=second, add=["Vip"], remove=[], actor=agent.user)
    assert Tag.objects.filter(workspace=workspace, name="vip").count() == 1
    # Another workspace's "vip" is its own tag.
    foreign = TicketFactory(workspace=other_workspace)
    tags.ticket_set_tags(ticket=foreign, add=["VIP"], remove=[], actor=agent.user)
    assert Tag.objects.filter(name="vip").count() == 2


def test_bad_names_are_refused_with_a_clear_message(agent, ticket):
    with pytest.raises(Exception) as refused:
        tags.ticket_set_tags(ticket=ticket, add=["x" * 51], remove=[], actor=agent.user)
    assert "at most 50 characters" in str(refused.value)
    assert tags.split_tag_list("a, ,b,,A") == ["a", "b"]
    assert TicketTag.objects.count() == 0


def test_one_audit_event_per_change_with_what_changed_and_the_version_bumped(agent, ticket):
    before = Ticket.objects.get(pk=ticket.pk)
    change = tags.ticket_set_tags(ticket=ticket, add=["billing", "vip"], remove=["nope"], actor=agent.user)
    assert change.added == ("billing", "vip") and change.removed == ()
    events = AuditEvent.objects.filter(action="ticket.tags_changed")
    assert events.count() == 1
    assert events.get().detail == {"number": ticket.number, "added": ["billing", "vip"], "removed": []}
    after = Ticket.objects.get(pk=ticket.pk)
    assert after.version == before.version + 1
    assert after.public_updated_at == before.public_updated_at  # requesters do not see tags

    tags.ticket_set_tags(ticket=ticket, add=["vip"], remove=["billing"], actor=agent.user)
    assert events.count() == 2
    assert events.order_by("-id").first().detail["removed"] == ["billing"]
    # Nothing to do: nothing written.
    tags.ticket_set_tags(ticket=ticket, add=["VIP"], remove=[], actor=agent.user)
    assert events.count() == 2


def test_the_ticket_page_saves_only_what_the_agent_changed(login, agent, ticket, workspace):
    tags.ticket_set_tags(ticket=ticket, add=["billing"], remove=[], actor=agent.user)
    client = login(agent)
    page = client.get(url(workspace, "", ticket.number))
    assert b'name="tags"' in page.content and b"billing" in page.content
    # Meanwhile a colleague added "urgent-call"; this agent saw only "billing".
    tags.ticket_set_tags(ticket=ticket, add=["urgent-call"], remove=[], actor=agent.user)
    response = client.post(
        url(workspace, "", ticket.number, "tags"), {"tags": "vip", "seen": "billing"}, follow=True
    )
    assert "Tags saved." in response.content.decode()
    assert tags.ticket_tag_names(ticket) == ["urgent-call", "vip"]


def test_a_bad_tag_shows_the_form_again_with_the_error(login, agent, ticket, workspace):
    response = login(agent).post(
        url(workspace, "", ticket.number, "tags"), {"tags": "ok, " + "y" * 60, "seen": ""}
    )
    assert response.status_code == 400
    assert "at most 50 characters" in response.content.decode()
    assert TicketTag.objects.count() == 0


def test_requesters_never_see_tags(login, requester, agent, ticket, workspace):
    tags.ticket_set_tags(ticket=ticket, add=["angry-customer"], remove=[], actor=agent.user)
    client = login(requester)
    assert b"angry-customer" not in client.get(url(workspace, "", ticket.number)).content
    assert b"angry-customer" not in client.get(url(workspace)).content
    assert client.get(f"/w/{workspace.slug}/tickets/tags/?q=an").status_code == 404
    posted = client.post(url(workspace, "", ticket.number, "tags"), {"tags": "mine", "seen": ""})
    assert posted.status_code == 404
    assert tags.ticket_tag_names(ticket) == ["angry-customer"]


def test_suggestions_are_the_workspaces_own_tags(login, agent, ticket, workspace, other_workspace):
    tags.ticket_set_tags(ticket=ticket, add=["billing", "big-deal", "vip"], remove=[], actor=agent.user)
    foreign = TicketFactory(workspace=other_workspace)
    tags.ticket_set_tags(ticket=foreign, add=["bilateral"], remove=[], actor=agent.user)
    answer = login(agent).get(f"/w/{workspace.slug}/tickets/tags/", {"q": "Bi"}).json()
    assert answer == {"results": ["big-deal", "billing"]}


def test_list_shows_chips_and_filters_by_tag_with_search_and_other_filters(
    login, agent, requester, queue, workspace
):
    printer = new_ticket(requester, queue, subject="Printer jam")
    scanner = new_ticket(requester, queue, subject="Scanner jam")
    new_ticket(requester, queue, subject="Printer toner")
    tags.ticket_set_tags(ticket=printer, add=["hardware", "vip"], remove=[], actor=agent.user)
    tags.ticket_set_tags(ticket=scanner, add=["hardware"], remove=[], actor=agent.user)
    client = login(agent)

    listed = client.get(url(workspace), {"view": "all", "tag": "Hardware"})
    assert sorted(t.number for t in listed.context["tickets"]) == [printer.number, scanner.number]
    html = listed.content.decode()
    assert 'class="tag-chip">vip</li>' in html
    searched = client.get(url(workspace), {"view": "all", "tag": "hardware", "q": "printer"})
    assert [t.number for t in searched.context["tickets"]] == [printer.number]
    narrowed = client.get(url(workspace), {"view": "all", "tag": "hardware", "status": "open"})
    assert narrowed.context["tickets"] == []
    # A requester's list ignores the filter (they cannot see tags) and shows no chips.
    own = login(requester).get(url(workspace), {"tag": "hardware"})
    assert len(own.context["tickets"]) == 3
    assert "tag-chip" not in own.content.decode()


def test_list_query_count_stays_flat_with_tags(
    login, agent, requester, queue, workspace, django_assert_max_num_queries
):
    client = login(agent)

    def make(n):
        for _ in range(n):
            ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
            tags.ticket_set_tags(ticket=ticket, add=["a", "b"], remove=[], actor=agent.user)

    make(3)
    client.get(url(workspace), {"view": "all"})
    with django_assert_max_num_queries(30) as few:
        assert len(client.get(url(workspace), {"view": "all"}).context["tickets"]) == 3
    make(20)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url(workspace), {"view": "all"})
    assert len(response.context["tickets"]) == 23
    tag_queries = [q for q in few.captured_queries if "tickets_tickettag" in q["sql"]]
    assert len(tag_queries) == 1
    if connection.vendor == "postgresql":
        # Read with the page's rows (tags.with_tag_names), not in a query of their own.
        assert '"tickets_ticket"."number"' in tag_queries[0]["sql"]


def test_list_chips_follow_tags_changed_between_two_views(login, agent, requester, queue, workspace):
    """The page's query is compiled once per process; the tags it reads are each view's own."""
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    client = login(agent)
    tags.ticket_set_tags(ticket=ticket, add=["vip", "billing"], remove=[], actor=agent.user)
    first = client.get(url(workspace), {"view": "all"}).content.decode()
    assert '<li class="tag-chip">billing</li><li class="tag-chip">vip</li>' in first
    tags.ticket_set_tags(ticket=ticket, add=["angry"], remove=["vip"], actor=agent.user)
    second = client.get(url(workspace), {"view": "all"}).content.decode()
    assert '<li class="tag-chip">angry</li><li class="tag-chip">billing</li></ul>' in second


def test_the_live_row_shows_tags_to_staff_only(agent, requester, ticket, workspace):
    from tests.tickets.test_live_queries import signed_in_scope
    from tickets.consumers import TicketListConsumer

    tags.ticket_set_tags(ticket=ticket, add=["vip"], remove=[], actor=agent.user)

    def row(membership):
        consumer = TicketListConsumer()
        consumer.scope = signed_in_scope(membership.user, slug=workspace.slug)
        consumer.slug, consumer.user_id = workspace.slug, membership.user_id
        consumer.authorize(membership.user)
        return consumer.row_frame(ticket.pk)["html"]

    assert 'class="tag-chip">vip<' in row(agent)
    assert "vip" not in row(requester)


@pytest.mark.django_db(transaction=True)
def test_two_agents_adding_the_same_new_tag_at_once_make_one_tag(workspace, queue, requester):
    agents = [agent_of(workspace, queue), agent_of(workspace, queue)]
    tickets = [new_ticket(requester, queue), new_ticket(requester, queue, subject="Other")]

    def tag(index):
        tags.ticket_set_tags(ticket=tickets[index], add=["brand-new"], remove=[], actor=agents[index].user)

    run_threads(2, tag)
    assert Tag.objects.filter(workspace=workspace, name="brand-new").count() == 1
    assert TicketTag.objects.filter(tag__name="brand-new").count() == 2


def test_bidi_controls_and_line_breaks_never_make_a_different_tag():
    assert tags.normalize_tag_name("\u202evip\u202c") == "vip"
    assert tags.normalize_tag_name("big\n\tdeal") == "big deal"
    with pytest.raises(Exception) as refused:
        tags.normalize_tag_name("bell\x07")
    assert str(tags.TAG_BAD_CHARACTERS) in str(refused.value)


def test_a_tag_change_is_announced_to_staff_only_after_commit(
    agent, ticket, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets import realtime

    sent = []
    monkeypatch.setattr(realtime, "_send", lambda groups, event: sent.extend(groups))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tags.ticket_set_tags(ticket=ticket, add=["vip"], remove=[], actor=agent.user)
    assert sent == []  # nothing before commit
    for callback in callbacks:
        callback()
    assert realtime.ticket_staff_group(ticket.pk) in sent
    assert realtime.queue_group(ticket.workspace_id, ticket.queue_id) in sent
    assert realtime.ticket_public_group(ticket.pk) not in sent
    assert realtime.user_list_group(ticket.workspace_id, ticket.requester_id) not in sent
