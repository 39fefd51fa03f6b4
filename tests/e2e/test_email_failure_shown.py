"""An agent answers a ticket whose requester's mail server refuses the email: the reply is
saved, and the agent sees on the ticket that the email did not arrive (the requester never
sees that panel)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import new_ticket
from tickets.mail.models import Mailbox

pytestmark = pytest.mark.e2e


def test_an_agent_sees_that_the_requester_did_not_get_the_reply(
    live_asgi, new_page, sign_in, smtp_server, workspace, queue, agent, requester
):
    base = live_asgi
    Mailbox.objects.create(workspace=workspace, address="support@acme.test", queue=queue)
    ticket = off_loop(new_ticket, requester, queue, subject="Monitor flickers")
    smtp_server.answer("RCPT", "550 5.1.1 Mailbox unavailable")
    page = new_page()
    sign_in(page, base, agent.user.email, PASSWORD)
    page.goto(f"{base}/w/{workspace.slug}/tickets/{ticket.number}/")
    page.get_by_label("Your message").fill("Replaced the cable.")
    page.get_by_role("button", name="Send public reply").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.number}/"))
    expect(page.locator(".message-reply").last).to_contain_text("Replaced the cable")
    panel = page.get_by_role("region", name="Emails not delivered")
    expect(panel).to_contain_text(f"Email to {requester.user.display_name} failed")
    expect(panel).to_contain_text("the mail server refused it (550)")
    screenshot(page, "email-failure-staff")
    assert smtp_server.to(requester.user.email) == []

    other = new_page()
    sign_in(other, base, requester.user.email, PASSWORD)
    other.goto(f"{base}/w/{workspace.slug}/tickets/{ticket.number}/")
    expect(other.locator(".message-reply").last).to_contain_text("Replaced the cable")
    expect(other.get_by_text("Emails not delivered")).to_have_count(0)
