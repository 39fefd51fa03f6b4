"""An agent searches a word in more tickets than a page holds: the newest matches are listed
first and the count line follows once the page has loaded (static/js/search_count.js); the
next page goes on with older matches."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, bulk_copies, new_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


def test_the_newest_matches_come_first_and_their_count_follows(
    live_asgi, new_page, sign_in, workspace, queue, requester
):
    agent = agent_of(workspace, queue, display_name="Sam Searcher")
    first = off_loop(new_ticket, requester, queue, subject="Printer jammed 0")
    # 54 more, numbered 100000 on: the last is the newest.
    off_loop(bulk_copies, first, 54, subject=lambda n: f"Printer jammed {n + 1}")
    off_loop(new_ticket, requester, queue, subject="Password reset")

    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/?q=printer")
    rows = page.locator("tr.ticket-row")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Printer jammed 54")
    expect(page.locator("p.search-summary")).to_have_text("55 tickets match “printer”.")
    screenshot(page, "search-count-after-load")

    page.get_by_role("link", name="Next").first.click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("Printer jammed 0")
    expect(page.locator("p.search-summary")).to_have_text("55 tickets match “printer”.")
