"""helpdesk/compiled_queries.py: the list page's SQL is put together once per shape and then only
run, yet every view still shows the data as it is now (restrictions, grants, new tickets) and
the same rows the ORM would read."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpdesk import compiled_queries
from tests.conftest import make_member
from tests.factories import TicketFactory
from tests.tickets.ticket_helpers import url
from tickets import tags
from tickets.custom_fields import custom_field_create, ticket_set_field_values
from tickets.models import Ticket
from tickets.selectors import TicketFilters, list_choices, ticket_list_page
from tickets.services import participant_add
from workspaces.access import granted_queue_ids
from workspaces.models import Role
from workspaces.restriction import member_restrict
from workspaces.services import queue_grant, queue_revoke

pytestmark = pytest.mark.django_db


def numbers(response):
    return [t.number for t in response.context["tickets"]]


@pytest.fixture
def listed(workspace, queue, other_queue, requester):
    """Two tickets in the agent's queue, one in another queue, one by a second requester."""
    other = make_member(workspace, Role.REQUESTER)
    now = timezone.now()
    made = {}
    for number, (where, who) in enumerate(
        [(queue, requester), (queue, requester), (other_queue, requester), (queue, other)], start=1
    ):
        made[number] = TicketFactory(
            workspace=workspace,
            queue=where,
            requester=who.user,
            number=number,
            updated_at=now - timedelta(minutes=number),
        )
    return {"tickets": made, "other": other}


def test_a_kept_list_query_still_reads_restrictions_made_since(workspace, agent, admin, listed, login):
    client = login(agent)
    view = url(workspace) + "?view=all"
    assert numbers(client.get(view)) == [1, 2, 4]
    assert numbers(client.get(view)) == [1, 2, 4]  # the second view runs the kept SQL
    member_restrict(membership=listed["other"], reason="Asked to stop processing", actor=admin.user)
    assert numbers(client.get(view)) == [1, 2]


def test_a_revoked_queue_leaves_the_list_on_the_next_view(workspace, queue, agent, admin, listed, login):
    client = login(agent)
    view = url(workspace) + "?view=all"
    assert numbers(client.get(view)) == [1, 2, 4]
    queue_revoke(queue=queue, membership=agent, actor=admin.user)
    assert numbers(client.get(view)) == []


def test_a_kept_search_follows_new_tickets_restrictions_and_grants(
    workspace, queue, agent, admin, requester, listed, login
):
    """A search's tickets are built once per shape (compiled_queries.queryset_of); what changes
    with the data is still read by its statements on every search."""
    for ticket in listed["tickets"].values():
        Ticket.objects.filter(pk=ticket.pk).update(subject=f"Parcel {ticket.number} late")
    client = login(agent)
    search = {"q": "parcel", "view": "all"}
    assert sorted(numbers(client.get(url(workspace), search))) == [1, 2, 4]
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=9, subject="Parcel lost")
    assert sorted(numbers(client.get(url(workspace), search))) == [1, 2, 4, 9]
    member_restrict(membership=listed["other"], reason="Asked to stop processing", actor=admin.user)
    assert sorted(numbers(client.get(url(workspace), search))) == [1, 2, 9]
    queue_revoke(queue=queue, membership=agent, actor=admin.user)
    assert numbers(client.get(url(workspace), search)) == []


def test_a_kept_queryset_is_built_once_and_handed_out_as_fresh_copies(workspace, queue, requester):
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    built = []

    def build():
        built.append(1)
        return Ticket.objects.filter(workspace_id=workspace.pk)

    first = compiled_queries.queryset_of(("test-kept-queryset", workspace.pk), build)
    assert len(list(first)) == 1  # run: its rows stay with this copy only
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    second = compiled_queries.queryset_of(("test-kept-queryset", workspace.pk), build)
    assert second is not first and second._result_cache is None
    assert len(list(second)) == 2 and built == [1]


def test_a_new_ticket_shows_on_the_next_view(workspace, queue, agent, requester, listed, login):
    client = login(agent)
    view = url(workspace) + "?view=all"
    client.get(view)
    TicketFactory(
        workspace=workspace, queue=queue, requester=requester.user, number=9, updated_at=timezone.now()
    )
    assert numbers(client.get(view)) == [9, 1, 2, 4]


@pytest.mark.parametrize("sort", ["updated", "number", "priority"])
def test_pages_read_through_kept_sql_are_the_orm_s_pages(
    admin, workspace, queue, requester, sort, monkeypatch
):
    base = timezone.now() - timedelta(days=1)
    for number in range(1, 12):
        TicketFactory(
            workspace=workspace,
            queue=queue,
            requester=requester.user,
            number=number,
            updated_at=base + timedelta(minutes=number // 2),
        )
    filters = TicketFilters(sort=sort)
    choices = list_choices(admin)

    def walk():
        pages, cursor = [], None
        while True:
            page = ticket_list_page(
                membership=admin, filters=filters, after=cursor, page_size=3, choices=choices
            )
            pages.append([(t.pk, t.number, t.requester.email, t.seen_at) for t in page.tickets])
            if page.older_cursor is None:
                return pages
            cursor = page.older_cursor

    kept = walk()
    monkeypatch.setattr(
        compiled_queries, "rows_of", lambda shape, build, values=None, **_: list(build(**(values or {})))
    )
    assert kept == walk()
    assert sorted(pk for page in kept for pk, *_ in page) == sorted(
        Ticket.objects.values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    "who, page",
    [
        ("agent", "list"),
        ("agent", "ticket"),
        ("requester", "list"),
        ("requester", "ticket"),
        ("admin", "ticket"),
    ],
)
def test_a_second_view_compiles_no_query_again(
    workspace, agent, admin, requester, listed, login, monkeypatch, who, page
):
    members = {"agent": agent, "admin": admin, "requester": requester}
    client = login(members[who])
    path = url(workspace) + "?view=all" if page == "list" else url(workspace, "", 1)
    monkeypatch.setattr(compiled_queries, "_COMPILED", {})
    assert client.get(path).status_code == 200
    compiled = []
    real = compiled_queries._compile
    monkeypatch.setattr(compiled_queries, "_compile", lambda *args: compiled.append(args) or real(*args))
    assert client.get(path).status_code == 200
    assert compiled == []
    assert compiled_queries._COMPILED, "the page runs its queries through rows_of"
    assert None not in compiled_queries._COMPILED.values(), "every one of them could be kept"


@pytest.mark.parametrize("who", ["agent", "requester"])
def test_a_search_with_other_words_compiles_nothing_again_and_finds_its_own(
    workspace, queue, agent, requester, login, monkeypatch, who
):
    mine = {"workspace": workspace, "queue": queue, "requester": requester.user}
    printer = TicketFactory(**mine, subject="Printer jam")
    invoice = TicketFactory(**mine, subject="Invoice copy")
    client = login({"agent": agent, "requester": requester}[who])
    monkeypatch.setattr(compiled_queries, "_COMPILED", {})
    assert numbers(client.get(url(workspace), {"q": "printer"})) == [printer.number]
    compiled = []
    real = compiled_queries._compile
    monkeypatch.setattr(compiled_queries, "_compile", lambda *args: compiled.append(args) or real(*args))
    # Other words, other results, from the statements the first search compiled.
    assert numbers(client.get(url(workspace), {"q": "invoice"})) == [invoice.number]
    assert numbers(client.get(url(workspace), {"q": "nothing matches this"})) == []
    assert compiled == []
    searches = [shape for shape, _values in compiled_queries._COMPILED if shape[0] == "search"]
    assert len(searches) >= 2, "the subjects' and the messages' statements are kept"
    assert None not in compiled_queries._COMPILED.values(), "every statement could be kept"


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_a_ticket_number_out_of_range_is_not_found(workspace, admin, listed, login, number):
    client = login(admin)
    client.get(url(workspace, "", 1))  # the member's ticket query is kept
    assert client.get(f"/w/{workspace.slug}/tickets/{number}/").status_code == 404


def test_a_cursor_out_of_range_shows_a_page_not_an_error(workspace, admin, listed, login):
    client = login(admin)
    view = url(workspace) + "?view=all&sort=number"
    client.get(view)
    response = client.get(view + f"&after={10**19}_{10**19}")
    assert response.status_code == 200


def test_a_value_the_kept_sql_cannot_take_goes_through_the_orm(workspace, admin, listed):
    def build(user_id):
        return Ticket.objects.filter(workspace_id=workspace.pk, assignee_id=user_id).order_by("pk")

    shape = ("test_assignee", "any")
    assert compiled_queries.rows_of(shape, build, {"user_id": admin.user_id}) == []
    # None means "IS NULL" to the ORM; the kept SQL would compare with NULL and match nothing.
    unassigned = compiled_queries.rows_of(shape, build, {"user_id": None})
    assert [t.number for t in unassigned] == [1, 2, 3, 4]


def test_kept_tuples_are_the_orm_s_and_follow_the_data(workspace, queue, other_queue, agent, admin):
    def build(user_id, workspace_id):
        return granted_queue_ids(user_id, workspace_id).values_list("content_object_id")

    shape = ("test_granted", "any")
    values = {"user_id": agent.user_id, "workspace_id": workspace.pk}
    orm = sorted(build(**values))
    assert orm == [(queue.pk,)]
    assert compiled_queries.tuples_of(shape, build, values) == orm
    queue_grant(queue=other_queue, membership=agent, actor=admin.user)
    # The second run is the kept SQL: it reads the grant made since.
    assert sorted(compiled_queries.tuples_of(shape, build, values)) == [(queue.pk,), (other_queue.pk,)]
    assert compiled_queries._COMPILED[(shape, ("user_id", "workspace_id"))] is not None


def test_the_ticket_page_shows_what_changed_between_two_views(
    workspace, queue, agent, admin, requester, login
):
    """The page's tags, custom field values, participants and the requester's restriction are
    read through kept SQL from the second view on: each view still reads them as they are."""
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=7)
    field = custom_field_create(workspace=workspace, label="Order number", kind="text", actor=admin.user)
    client = login(agent)
    page = url(workspace, "", 7)
    first = client.get(page).content.decode()
    assert client.get(page).status_code == 200  # now through the kept SQL
    assert 'value="vip"' not in first and "A-1234" not in first and "restriction-notice" not in first
    assert "Cora Colleague" not in first

    tags.ticket_set_tags(ticket=ticket, add=["vip"], remove=[], actor=agent.user)
    ticket_set_field_values(ticket=ticket, values={field.pk: "A-1234"}, actor=agent.user)
    colleague = make_member(workspace, Role.REQUESTER, display_name="Cora Colleague")
    participant_add(ticket=ticket, user=colleague.user, actor=agent.user)
    member_restrict(membership=requester, reason="Asked to stop processing", actor=admin.user)

    html = client.get(page).content.decode()
    assert 'value="vip"' in html
    assert "A-1234" in html
    assert "Cora Colleague" in html
    assert "restriction-notice" in html


def _state_and_fields(obj):
    fields = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    return type(obj), obj._state.db, obj._state.adding, fields


def test_kept_instances_are_the_orm_s_instances_with_their_related_objects(
    workspace, queue, agent, requester
):
    """Instances of kept SQL are made from the columns, without ``Model.__init__``: the same
    class, field values, saved state and ``select_related`` objects (an unassigned ticket's
    assignee is None); a field left out by ``only()`` stays deferred and loads when read."""
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user, assignee=agent.user, number=1)
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=2)

    def build():
        return (
            Ticket.objects.filter(workspace=workspace)
            .select_related("queue", "requester", "assignee")
            .order_by("number")
        )

    kept = compiled_queries.rows_of(("test-instances",), build)
    orm = list(build())
    assert [_state_and_fields(t) for t in kept] == [_state_and_fields(t) for t in orm]
    for mine, theirs in zip(kept, orm, strict=True):
        for related in ("queue", "requester", "assignee"):
            got, want = getattr(mine, related), getattr(theirs, related)
            assert (got is None) == (want is None)
            if want is not None:
                assert _state_and_fields(got) == _state_and_fields(want)
    assert kept[0].assignee.email == agent.user.email and kept[1].assignee is None
    kept[1].subject = "Changed through a kept instance"
    kept[1].save(update_fields=["subject"])  # a saved instance: an UPDATE, not an INSERT
    assert Ticket.objects.get(pk=kept[1].pk).subject == "Changed through a kept instance"

    deferred = compiled_queries.rows_of(
        ("test-instances-only",),
        lambda: Ticket.objects.filter(workspace=workspace).only("number").order_by("number"),
    )
    assert "subject" in deferred[0].get_deferred_fields()
    assert deferred[1].subject == "Changed through a kept instance"


def test_a_model_with_an_init_receiver_still_gets_its_init(workspace, queue, requester):
    """``post_init`` receivers (and a model's own ``__init__``) see every instance made from
    kept SQL, as from the ORM."""
    from django.db.models.signals import post_init

    TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=1)
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.number)

    post_init.connect(receiver, sender=Ticket)
    try:
        kept = compiled_queries.rows_of(
            ("test-init-receiver",), lambda: Ticket.objects.filter(workspace=workspace)
        )
    finally:
        post_init.disconnect(receiver, sender=Ticket)
    assert seen == [1] and [t.number for t in kept] == [1]


def _prepared_on_this_connection(fragment: str) -> list[tuple[str, int, int]]:
    """(parameter types, generic plans, custom plans) of the statements PostgreSQL keeps
    prepared for this connection whose text holds ``fragment``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT parameter_types::text, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_landing_list_and_its_counts_are_prepared_with_their_values_and_follow_the_data(
    workspace, queue, agent, requester, listed, login
):
    """Nothing in the landing list's statement nor its counts' changes between views: their
    values are written in, so PostgreSQL keeps one plan made for them (no planning per view), and
    a new ticket still shows in the list and in the count on the next view."""
    if getattr(connection.connection, "prepare_threshold", None) is None:
        pytest.skip("statements are not prepared (DB_PREPARE=0): nothing kept to check")
    client = login(agent)
    view = url(workspace) + "?view=all"
    for _ in range(7):
        response = client.get(view)
    assert numbers(response) == [1, 2, 4]
    for fragment in ('ORDER BY "tickets_ticket"."updated_at" DESC', "capped_count"):
        prepared = _prepared_on_this_connection(fragment)
        assert prepared, fragment
        assert all(types == "{}" for types, _generic, _custom in prepared), "no parameter left"
        assert any(generic >= 1 for _types, generic, _custom in prepared), "the kept plan is reused"
    TicketFactory(
        workspace=workspace, queue=queue, requester=requester.user, number=9, updated_at=timezone.now()
    )
    response = client.get(view)
    assert numbers(response) == [9, 1, 2, 4]
    assert {view.key: count for view, count in response.context["views"]}["all"] == "4"


def test_a_hostile_filter_value_written_into_the_statement_is_only_a_value(
    workspace, queue, agent, listed, login
):
    """The first page's values are written into its SQL (compiled_queries.with_values_written_in,
    psycopg's quoting): a tag with quotes, a backslash, percent signs and a statement's end in
    its name filters by that name and nothing else, view after view."""
    hostile = "it's 100%\\'; drop table tickets_ticket; --"
    tags.ticket_set_tags(ticket=listed["tickets"][2], add=[hostile], remove=[], actor=agent.user)
    tags.ticket_set_tags(ticket=listed["tickets"][1], add=["it"], remove=[], actor=agent.user)
    client = login(agent)
    view = url(workspace) + "?" + urlencode({"view": "all", "tag": hostile})
    for _ in range(7):  # prepared from the fifth run on
        assert numbers(client.get(view)) == [2]
    assert Ticket.objects.filter(workspace=workspace).count() == 4
    assert numbers(client.get(url(workspace) + "?" + urlencode({"view": "all", "tag": "it"}))) == [1]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="grants ride on PostgreSQL's array subquery; CI runs it there"
)
def test_an_agent_s_grants_come_with_the_membership_and_a_new_grant_shows_at_once(
    workspace, other_queue, agent, admin, listed, login
):
    client = login(agent)
    view = url(workspace) + "?view=all"
    with CaptureQueriesContext(connection) as ran:
        assert numbers(client.get(view)) == [1, 2, 4]
    grant_reads = [q["sql"] for q in ran.captured_queries if "queueuserobjectpermission" in q["sql"]]
    # One statement reads the person's memberships and, with each, their grants in it.
    assert len(grant_reads) == 1 and grant_reads[0].startswith('SELECT "workspaces_membership"')
    queue_grant(queue=other_queue, membership=agent, actor=admin.user)
    assert numbers(client.get(view)) == [1, 2, 3, 4]
