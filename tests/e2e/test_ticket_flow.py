"""A requester opens a ticket; an agent answers publicly and adds an internal note; the
requester sees the answer and never the note. (Reloading here; the live version of this journey,
without reloads, is tests/e2e/test_live*.py by the websocket work.)"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

NOTE_MARKER = "NOTE-ONLY-FOR-STAFF-7c1e"


def test_requester_and_agent_work_a_ticket(live_asgi, new_page, sign_in, workspace, queue, agent, requester):
    base = live_asgi
    # The requester opens a ticket.
    asker = new_page()
    sign_in(asker, base, requester.user.email, PASSWORD)
    asker.goto(f"{base}/w/{workspace.slug}/tickets/")
    expect(asker.get_by_role("heading", name="My tickets")).to_be_visible()
    asker.get_by_role("link", name="New ticket").click()
    asker.get_by_label("Subject").fill("VPN drops every ten minutes")
    asker.get_by_label("Queue").select_option(label=queue.name)
    asker.get_by_label("Priority").select_option("high")
    asker.get_by_label("Description").fill(
        "Since Monday the **VPN** disconnects.\n\n- laptop: X1\n- office: Berlin"
    )
    asker.get_by_role("button", name="Open ticket").click()
    expect(asker).to_have_url(re.compile(r"/w/acme/tickets/1/$"))
    expect(asker.locator("#ticket-subject")).to_have_text("VPN drops every ten minutes")
    expect(asker.locator(".message-body strong")).to_have_text("VPN")

    # The agent finds it in the list and opens it.
    worker = new_page()
    sign_in(worker, base, agent.user.email, PASSWORD)
    worker.goto(f"{base}/w/{workspace.slug}/tickets/?view=unassigned")
    row = worker.locator("#ticket-row-1")
    expect(row).to_contain_text("VPN drops every ten minutes")
    expect(row).to_contain_text("High")
    screenshot(worker, "tickets-list-agent")
    row.get_by_role("link", name="VPN drops every ten minutes").click()
    expect(worker).to_have_url(re.compile(r"/w/acme/tickets/1/$"))

    # A public reply, then an internal note: the button pressed decides which one it becomes.
    worker.get_by_label("Your message").fill("Thanks! Please update the client to 5.2 and tell us.")
    worker.get_by_role("button", name="Send public reply").click()
    expect(worker.locator("ul.flashes")).to_contain_text("Your reply was posted")
    worker.get_by_label("Your message").fill(f"Known issue with the Berlin gateway. {NOTE_MARKER}")
    worker.get_by_role("button", name="Add internal note").click()
    expect(worker.locator("ul.flashes")).to_contain_text("internal note was added")
    note = worker.locator(".message-note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text(str(NOTE_MARKER))
    expect(note).to_contain_text("Internal note")
    expect(worker.locator(".message-reply")).to_have_count(2)
    # The agent assigns the ticket to themselves and sets it to pending.
    worker.get_by_label("Assignee").select_option(label=f"{agent.user.display_name} ({agent.user.email})")
    worker.get_by_label("Status").select_option("pending")
    worker.get_by_role("button", name="Save changes").click()
    expect(worker.locator("#ticket-assignee")).to_have_text(agent.user.display_name)
    expect(worker.locator("#ticket-status")).to_have_text("Pending")
    screenshot(worker, "ticket-page-agent")

    # The requester reloads: the reply is there, the note is not (not even its marker).
    asker.reload()
    expect(asker.locator(".message")).to_have_count(2)
    expect(asker.locator("#message-list")).to_contain_text("update the client to 5.2")
    expect(asker.locator("body")).not_to_contain_text(str(NOTE_MARKER))
    expect(asker.locator(".message-note")).to_have_count(0)
    expect(asker.locator("#ticket-status")).to_have_text("Pending")
    screenshot(asker, "ticket-page-requester")

    # The requester answers: the pending ticket opens again; then they close it themselves.
    asker.get_by_label("Your message").fill("Updated, it works now.")
    asker.get_by_role("button", name="Send reply").click()
    expect(asker.locator("#ticket-status")).to_have_text("Open")
    asker.get_by_role("button", name="Close this ticket").click()
    expect(asker.locator("#ticket-status")).to_have_text("Closed")
    expect(asker.get_by_text("Replying opens it again")).to_be_visible()

    # Phone width: the requester's list still reads well.
    phone = new_page(width=390, height=844)
    sign_in(phone, base, requester.user.email, PASSWORD)
    phone.goto(f"{base}/w/{workspace.slug}/tickets/")
    expect(phone.locator("#ticket-row-1")).to_contain_text("Closed")
    expect(phone.locator("body")).not_to_contain_text(str(NOTE_MARKER))
    screenshot(phone, "tickets-list-requester-phone")
