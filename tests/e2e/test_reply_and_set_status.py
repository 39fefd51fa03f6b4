"""An agent answers and solves a ticket in one click ("Send and set Solved"); the requester is
emailed once, with the reply and the new status."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import new_ticket

pytestmark = pytest.mark.e2e


def test_an_agent_replies_and_solves_in_one_submit(
    live_asgi, new_page, sign_in, workspace, queue, agent, requester
):
    base = live_asgi
    ticket = off_loop(new_ticket, requester, queue, subject="Monitor flickers")
    mail.outbox.clear()
    page = new_page()
    sign_in(page, base, agent.user.email, PASSWORD)
    page.goto(f"{base}/w/{workspace.slug}/tickets/{ticket.number}/")
    page.get_by_label("Your message").fill("Replaced the cable; it should be fine now.")
    screenshot(page, "reply-send-and-set")
    page.get_by_role("button", name="Send and set Solved").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.number}/"))
    expect(page.locator("ul.flashes")).to_contain_text("the ticket is now Solved")
    expect(page.locator(".message-reply").last).to_contain_text("Replaced the cable")
    assert [m.to for m in mail.outbox] == [[requester.user.email]]
    assert "The ticket is solved." in mail.outbox[0].body
