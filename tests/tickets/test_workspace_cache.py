"""tickets/workspace_cache.py: a staff ticket page reads its workspace's queues and macros from
the cache, and shows a queue or a macro saved, renamed or deleted since on its next view."""

import pytest

from tests.conftest import make_member
from tests.tickets.test_macros import personal, shared
from tests.tickets.ticket_helpers import url
from tickets.macros.services import macro_delete
from workspaces.models import Role
from workspaces.services import queue_create, queue_rename

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
