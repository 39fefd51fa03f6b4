"""Presence in three browsers: two agents and the requester of one ticket.

Ana opens the ticket: Ben sees "Ana Agent is viewing" on the ticket and on his ticket list. Ana
writes an internal note: Ben sees that she is typing a note (never what), the requester sees
nothing of it, then or ever. Ana leaves: the markers go from Ben's page and list. Every step
waits for what a person would see; nothing sleeps."""

import re

import pytest
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD
from tests.tickets import test_live
from tests.tickets.ticket_helpers import new_ticket
from tickets import live_contract
from workspaces.models import QUEUE_PERMISSION, Role

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]

_close_server_connections = test_live._close_server_connections

SECRET = "Refund code 4711, do not tell the customer"


@pytest.fixture
def slow_typing_expiry(monkeypatch):
    """Typing stays shown while the test looks at two pages and takes screenshots: on a loaded
    machine that can outlast the few seconds after which a quiet typist reads as viewing again
    (that expiry is tested in tests/tickets/test_presence.py)."""
    monkeypatch.setattr(live_contract, "TYPING_TTL_SECONDS", 120)
    monkeypatch.setitem(live_contract.PRESENCE_CONTRACT, "typing_idle", 120)


def _agent(workspace, queue, name):
    membership = make_member(workspace, Role.AGENT, display_name=name)
    assign_perm(QUEUE_PERMISSION, membership.user, queue)
    return membership


def test_two_agents_and_the_requester_on_one_ticket(
    live_asgi, new_page, sign_in, slow_typing_expiry, workspace, queue, requester
):
    ana = _agent(workspace, queue, "Ana Agent")
    ben = _agent(workspace, queue, "Ben Agent")
    ticket = test_live.in_thread(new_ticket, requester, queue, subject="VPN drops every hour")
    ticket_url = f"{live_asgi}/w/{workspace.slug}/tickets/{ticket.number}/"
    list_url = f"{live_asgi}/w/{workspace.slug}/tickets/?view=unsolved"

    # Ben has the list open in one tab and the ticket in another; the requester looks at it too.
    ben_list = new_page()
    sign_in(ben_list, live_asgi, ben.user.email, PASSWORD)
    ben_list.goto(list_url)
    expect(ben_list.locator("#live-indicator")).to_have_text("Live")
    ben_ticket = ben_list.context.new_page()
    ben_ticket.goto(ticket_url)
    expect(ben_ticket.locator("#live-indicator")).to_have_text("Live")

    customer = new_page()
    sign_in(customer, live_asgi, requester.user.email, PASSWORD)
    customer.goto(ticket_url)
    expect(customer.locator("#live-indicator")).to_have_text("Live")
    expect(customer.locator("#ticket-presence")).to_have_count(0)  # no presence region at all

    # Ana opens the ticket.
    ana_page = new_page()
    sign_in(ana_page, live_asgi, ana.user.email, PASSWORD)
    ana_page.goto(ticket_url)
    expect(ana_page.locator("#live-indicator")).to_have_text("Live")

    presence = ben_ticket.locator("#ticket-presence")
    expect(presence).to_have_attribute("aria-live", "polite")
    expect(presence).to_have_text("Ana Agent is viewing")
    row = ben_list.locator(f"#ticket-row-{ticket.number}")
    expect(row.locator(".presence-marker")).to_have_text("Ana Agent is viewing")
    expect(ben_list.locator("#list-presence")).to_have_text(f"#{ticket.number}: Ana Agent is viewing")
    # Ben's two tabs count once for Ana.
    expect(ana_page.locator("#ticket-presence")).to_have_text("Ben Agent is viewing")

    # Ana writes an internal note.
    ana_page.get_by_label("an internal note").check()
    ana_page.get_by_label("Your message").press_sequentially(SECRET[:12])
    expect(presence).to_have_text("Ana Agent is typing a note")
    expect(presence.locator("li")).to_have_attribute("data-state", "typing_note")
    ana_page.get_by_label("Your message").press_sequentially(SECRET[12:])
    expect(row.locator(".presence-marker")).to_have_text("Ana Agent is writing a note")
    screenshot(ben_ticket, "presence-ticket-typing-note")
    screenshot(ben_list, "presence-list-marker")
    ben_list.set_viewport_size({"width": 390, "height": 844})
    expect(row.locator(".presence-marker")).to_be_visible()
    screenshot(ben_list, "presence-list-marker-phone")
    ben_list.set_viewport_size({"width": 1280, "height": 900})
    # Which box, never what: the words Ana typed are nowhere on Ben's pages.
    assert SECRET[:12] not in ben_ticket.content()
    assert SECRET[:12] not in ben_list.content()

    # The requester: Ben's public reply arrives, and nothing of Ana before or with it.
    ben_ticket.get_by_label("Your message").fill("We are looking at the VPN logs now.")
    ben_ticket.get_by_role("button", name="Send public reply").click()
    expect(customer.locator("#message-list")).to_contain_text("We are looking at the VPN logs now.")
    expect(customer.get_by_text("Ana Agent")).to_have_count(0)
    assert not re.search(r"is (typing|viewing|replying|writing)", customer.content())
    screenshot(customer, "presence-requester-ticket")

    # Ben's page reloaded after his reply: it shows Ana (still typing her note) again.
    presence = ben_ticket.locator("#ticket-presence")
    expect(presence).to_have_text("Ana Agent is typing a note")

    # Ana sends her note and goes back to her list: the markers leave Ben's page and list.
    ana_page.get_by_role("button", name="Add internal note").click()
    expect(ana_page.locator("#message-list")).to_contain_text(str(SECRET))
    expect(ana_page.locator("#live-indicator")).to_have_text("Live")
    expect(presence).to_have_text("Ana Agent is viewing")
    ana_page.goto(list_url)
    expect(presence).to_be_empty()
    expect(row.locator(".presence-marker")).to_have_count(0)
    # Ana's list shows Ben on the ticket.
    ana_row = ana_page.locator(f"#ticket-row-{ticket.number}")
    expect(ana_row.locator(".presence-marker")).to_have_text("Ben Agent is viewing")
    expect(customer.locator("#message-list")).not_to_contain_text(str(SECRET))

    # Ben closes the ticket's tab: Ana's list forgets him too. (Nothing else announces presence
    # any more, so the pages still open close without work left for the server.)
    ben_ticket.close()
    expect(ana_row.locator(".presence-marker")).to_have_count(0)
    screenshot(ana_page, "presence-list-after-leaving")
