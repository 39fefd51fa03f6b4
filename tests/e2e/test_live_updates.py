"""Live updates in two browsers: a requester opens a ticket, the agent's list shows it without a
reload; the agent replies, writes a note and changes the status; the requester's open page
shows the replies and the status live, and never the note."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD
from tests.tickets.test_live import (  # noqa: F401
    _close_server_connections,
    _flush_redis_layer,
    _fresh_layers,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _fresh_channel_layer(settings):
    _fresh_layers(settings, forced_redis=False)
    yield
    _flush_redis_layer()


def test_requester_and_agent_see_each_other_live(
    live_asgi, new_page, sign_in, workspace, queue, other_queue, agent, requester
):
    subject = "Printer on the third floor is on fire"
    marker = f"NOTE-MARKER-{uuid.uuid4().hex[:12]}"

    agent_page = new_page()
    sign_in(agent_page, live_asgi, agent.user.email, PASSWORD)
    agent_page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/")
    expect(agent_page.locator("#live-indicator")).to_have_text("Live")
    expect(agent_page.locator("[data-live-empty]")).to_be_visible()

    requester_page = new_page()
    sign_in(requester_page, live_asgi, requester.user.email, PASSWORD)
    requester_page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/new/")
    requester_page.get_by_label("Subject").fill(subject)
    requester_page.get_by_label("Queue").select_option(label=queue.name)
    requester_page.get_by_label("Description").fill("Smoke everywhere, please send help.")
    requester_page.get_by_role("button", name="Open ticket").click()
    expect(requester_page).to_have_url(re.compile(rf"/w/{workspace.slug}/tickets/\d+/$"))
    expect(requester_page.locator("#live-indicator")).to_have_text("Live")
    requester_page.evaluate("window.liveTestMarker = 'no reload'")

    # The agent's list shows the new ticket without a reload.
    row = agent_page.locator("#ticket-rows tr", has_text=subject)
    expect(row).to_be_visible()
    expect(agent_page.locator("[data-live-empty]")).to_be_hidden()
    screenshot(agent_page, "live-agent-list-new-ticket")

    row.get_by_role("link", name=subject).click()
    expect(agent_page.locator("#live-indicator")).to_have_text("Live")

    def agent_posts(text, button):
        agent_page.get_by_label("Your message").fill(text)
        agent_page.get_by_role("button", name=button).click()
        expect(agent_page.locator("#message-list")).to_contain_text(text)

    agent_posts("We are on our way with an extinguisher.", "Send public reply")
    expect(requester_page.locator("#message-list")).to_contain_text("We are on our way with an extinguisher.")

    agent_posts(f"Internal: {marker} call facilities first", "Add internal note")
    agent_posts("Fire is out. Anything else?", "Send public reply")
    expect(requester_page.locator("#message-list")).to_contain_text("Fire is out. Anything else?")

    # The status change reaches the requester's header live too.
    agent_page.locator(".properties-form select[name=status]").select_option(label="Pending")
    agent_page.get_by_role("button", name="Save changes").click()
    expect(requester_page.locator("#ticket-status")).to_have_text("Pending")
    expect(requester_page.locator("#ticket-status")).to_have_class(re.compile(r"\bstatus-pending\b"))

    # Everything arrived over the websocket: the page never reloaded, the note never came.
    assert requester_page.evaluate("window.liveTestMarker") == "no reload"
    assert marker not in requester_page.content()
    expect(requester_page.locator("#message-list .message")).to_have_count(3)
    expect(agent_page.locator("#message-list")).to_contain_text(marker)
    screenshot(requester_page, "live-requester-ticket")
    screenshot(agent_page, "live-agent-ticket")


def test_live_indicator_at_phone_width(live_asgi, new_page, sign_in, workspace, queue, requester):
    from tests.factories import TicketFactory

    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=1)
    page = new_page(width=390, height=844)
    sign_in(page, live_asgi, requester.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/")
    expect(page.locator("#live-indicator")).to_have_text("Live")
    expect(page.locator("#ticket-rows")).to_contain_text(ticket.subject)
    screenshot(page, "live-requester-list-phone")
