"""tickets/workspace_cache.py: staff pages read their workspace's queues, macros and staff from
the cache, and show a queue, a macro or a staff member saved, renamed, removed or erased since on
their next view."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from privacy.account.erasure import erase_accounts_data, erasure_request, erasure_run
from privacy.account.profile import profile_update
from tests.conftest import make_member
from tests.tickets.test_macros import personal, shared
from tests.tickets.ticket_helpers import url
from tickets.macros.services import macro_delete
from tickets.models import CustomField, Ticket
from workspaces.models import Role
from workspaces.services import member_remove, member_set_role, queue_create, queue_rename

pytestmark = pytest.mark.django_db


def test_a_new_or_renamed_queue_is_offered_on_the_next_view(workspace, ticket, admin, login):
    client = login(admin)
    assert b">Billing<" not in client.get(url(workspace, "", ticket.number)).content
    billing = queue_create(workspace=workspace, name="Billing")
    page = client.get(url(workspace, "", ticket.number))
    assert f'<option value="{billing.pk}">Billing</option>'.encode() in page.content
    queue_rename(queue=billing, name="Invoices")
    page = client.get(url(workspace, "", ticket.number)).content
    assert f'<option value="{billing.pk}">Invoices</option>'.encode() in page and b">Billing<" not in page


def test_the_ticket_page_s_macros_follow_saves_and_deletes(workspace, ticket, admin, agent, login):
    client = login(agent)
    assert b'id="macro-pick"' not in client.get(url(workspace, "", ticket.number)).content
    mine = personal(agent, name="Mine")
    team = shared(admin, name="Team")
    personal(make_member(workspace, Role.AGENT), shortcut="theirs", name="Theirs")
    page = client.get(url(workspace, "", ticket.number)).content.decode()
    assert f'<option value="{mine.pk}" data-shortcut="thanks"' in page
    assert f'<option value="{team.pk}" data-shortcut="pending"' in page
    assert 'data-name="Theirs"' not in page  # another agent's personal macro
    macro_delete(macro=team, actor=admin.user)
    page = client.get(url(workspace, "", ticket.number)).content.decode()
    assert 'data-name="Mine"' in page and 'data-name="Team"' not in page


def test_a_requester_gets_no_macro_even_from_a_warm_cache(workspace, ticket, agent, requester, login):
    shared_macro = personal(agent, name="Mine")
    login(agent).get(url(workspace, "", ticket.number))  # fills the workspace's cache
    page = login(requester).get(url(workspace, "", ticket.number)).content.decode()
    assert "macro-composer" not in page and str(shared_macro.name) not in page


def _offered_people(page: str) -> str:
    """The list's assignee filter (its options), where the workspace's staff is offered."""
    start = page.index('name="assignee"')
    return page[start : page.index("</select>", start)]


def test_the_list_offers_staff_as_they_are_now(workspace, queue, admin, agent, login):
    other = make_member(workspace, Role.AGENT, display_name="Ada Lovelace")
    client = login(admin)
    assert "Ada Lovelace" in _offered_people(client.get(url(workspace)).content.decode())
    profile_update(user=other.user, display_name="Ada King", language="", time_zone="")
    offered = _offered_people(client.get(url(workspace)).content.decode())
    assert "Ada King" in offered and "Ada Lovelace" not in offered
    member_set_role(membership=other, role=Role.REQUESTER, actor=admin.user)
    assert "Ada King" not in _offered_people(client.get(url(workspace)).content.decode())
    member_set_role(membership=other, role=Role.AGENT, actor=admin.user)
    assert "Ada King" in _offered_people(client.get(url(workspace)).content.decode())
    member_remove(membership=other, actor=admin.user)
    assert "Ada King" not in _offered_people(client.get(url(workspace)).content.decode())


def test_an_erased_agent_is_no_longer_offered(workspace, admin, login):
    leaving = make_member(workspace, Role.AGENT, display_name="Grace Hopper")
    client = login(admin)
    assert "Grace Hopper" in _offered_people(client.get(url(workspace)).content.decode())
    erasure = erasure_request(user=leaving.user)
    erasure_run(erasure_id=erasure.pk, force=True)
    assert "Grace Hopper" not in client.get(url(workspace)).content.decode()


def test_agents_erased_in_a_batch_are_no_longer_offered(workspace, admin, login):
    leaving = [make_member(workspace, Role.AGENT, display_name=f"Batch Agent {n}") for n in range(2)]
    client = login(admin)
    assert "Batch Agent 1" in _offered_people(client.get(url(workspace)).content.decode())
    erase_accounts_data([member.user for member in leaving])
    assert "Batch Agent" not in client.get(url(workspace)).content.decode()


def test_a_sign_in_keeps_the_cached_staff(workspace, admin, agent, login):
    client = login(admin)
    client.get(url(workspace))
    with CaptureQueriesContext(connection) as warm:
        client.get(url(workspace))
    agent.user.last_login = timezone.now()
    agent.user.save(update_fields=["last_login"])
    with CaptureQueriesContext(connection) as after:
        client.get(url(workspace))
    assert len(after) == len(warm)


def test_the_list_offers_its_staff_from_plain_cached_values(workspace, queue, admin, login):
    """The workspace's staff are kept as values, not pickled users; the list's filter offers
    every one by name (or address), its bulk bar only the active ones."""
    from django.core.cache import cache

    from tickets import workspace_cache

    former = make_member(workspace, Role.AGENT, display_name="Former Agent", is_active=False)
    unnamed = make_member(workspace, Role.AGENT, display_name="", email="no-name@example.com")
    client = login(admin)
    client.get(url(workspace))
    kept = cache.get(workspace_cache._key(workspace.pk, workspace_cache.STAFF))
    assert {row[0] for row in kept} == {admin.user_id, former.user_id, unnamed.user_id}
    assert all(type(row) is tuple for row in kept)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(url(workspace)).content.decode()
    assert not [q for q in queries if q["sql"].startswith('SELECT DISTINCT "workspaces_user"')]
    offered = _offered_people(page)
    assert f'value="{former.user_id}">Former Agent<' in offered
    assert f'value="{unnamed.user_id}">no-name@example.com<' in offered
    assert f'value="assign:{unnamed.user_id}"><bdi>no-name@example.com</bdi>' in page
    assert f'value="assign:{admin.user_id}"' in page
    assert f'value="assign:{former.user_id}"' not in page


def test_the_ticket_page_shows_its_queue_s_staff_from_plain_cached_values(
    workspace, ticket, admin, agent, login
):
    """Each queue's assignee choices are kept as values, not pickled users (a page unpickles
    every queue's to show one), and the page shows the choices, with the current assignee."""
    from django.core.cache import cache

    from tickets import workspace_cache

    client = login(agent)
    page = client.get(url(workspace, "", ticket.number)).content.decode()
    kept = cache.get(workspace_cache._key(workspace.pk, workspace_cache.QUEUE_STAFF))
    rows = [row for queue_rows in kept.values() for row in queue_rows]
    assert rows and all(type(row) is tuple for row in rows)
    assert {row[0] for row in kept[ticket.queue_id]} >= {admin.user_id, agent.user_id}
    for member in (admin, agent):
        assert f'<option value="{member.user_id}"' in page
    # From the warm cache: the same choices, read without a query for them.
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url(workspace, "", ticket.number)).content.decode()
    assert not [q for q in queries if q["sql"].startswith('SELECT DISTINCT "workspaces_user"')]
    for member in (admin, agent):
        assert f'<option value="{member.user_id}"' in again


def test_the_assignee_choices_name_each_person_and_select_the_assignee_cold_or_warm(
    workspace, ticket, admin, agent, login
):
    from django.core.cache import cache

    from tickets import workspace_cache

    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent.user)
    unnamed = make_member(workspace, Role.ADMIN, display_name="", email="no-name@example.com")
    client = login(admin)

    def choices():
        page = client.get(url(workspace, "", ticket.number)).content.decode()
        select = re.search(r'<select name="assignee".*?</select>', page, re.S).group(0)
        return re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)

    cache.delete(workspace_cache._key(workspace.pk, workspace_cache.QUEUE_STAFF))
    for _read in ("read from the database", "from the warm cache"):
        offered = choices()
        assert offered[0] == ("", "", "Unassigned")
        assert [value for value, selected, _ in offered if selected] == [str(agent.user_id)]
        assert (str(agent.user_id), " selected", f"{agent.user.display_name} ({agent.user.email})") in offered
        assert (str(unnamed.user_id), "", "no-name@example.com") in offered


def test_a_field_added_or_archived_shows_on_the_next_view_and_none_is_asked_without_fields(
    workspace, ticket, admin, agent, login
):
    client = login(agent)
    page = url(workspace, "", ticket.number)
    client.get(page)
    with CaptureQueriesContext(connection) as queries:
        client.get(page)
    assert not [q for q in queries if '"tickets_customfield"' in q["sql"]]

    login(admin).post(f"/w/{workspace.slug}/admin/fields/", {"label": "Order number", "kind": "text"})
    field = CustomField.objects.get(workspace=workspace, label="Order number")
    assert f'name="cf_{field.pk}"' in client.get(page).content.decode()
    login(admin).post(f"/w/{workspace.slug}/admin/fields/{field.pk}/archive/")
    assert f'name="cf_{field.pk}"' not in client.get(page).content.decode()
