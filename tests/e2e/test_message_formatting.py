"""What a reader sees of a formatted message, a hostile one and a subject with an RLO (issue 12),
in a real browser: the formatting works, raw HTML is inert text, nothing runs, nothing reorders."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import new_ticket, reply
from tickets.models import Ticket

pytestmark = pytest.mark.e2e

FORMATTED = (
    "Steps:\n\n1. open **Settings**\n2. press `Reset`\n\n> quoted line\n\n"
    "| key | value |\n|---|---|\n| a | 1 |\n\nSee [the guide](https://example.com/guide)."
)
HOSTILE = (
    "<img src=x onerror=\"document.title='owned'\"> <script>document.title='owned'</script>\n\n"
    + "[" * 2000
    + '\n\n<img src="/&#10;/evil.test/x"> ![t](//evil.test/pixel.png) invoice_\u202efdp.exe'
)


def test_formatting_works_and_hostile_markup_is_inert(
    live_asgi, new_page, sign_in, workspace, queue, agent, requester
):
    def setup():
        ticket = new_ticket(requester, queue, subject="Printer", description=FORMATTED)
        reply(ticket, agent, body=HOSTILE)
        Ticket.objects.filter(pk=ticket.pk).update(subject="Invoice \u202efdp.exe")
        return ticket

    ticket = off_loop(setup)
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, live_asgi, requester.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/{ticket.number}/")
    first, second = page.locator(".message-body").all()
    expect(first.locator("ol li strong")).to_have_text("Settings")
    expect(first.locator("code")).to_have_text("Reset")
    expect(first.locator("blockquote")).to_contain_text("quoted line")
    expect(first.locator("table td").first).to_have_text("a")
    link = first.get_by_role("link", name="the guide")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(second).to_contain_text("<script>document.title='owned'</script>")
    expect(second).to_contain_text("invoice_[U+202E]fdp.exe")
    expect(second.locator("img")).to_have_count(0)  # the refused image shows its alt text
    expect(page.locator("#ticket-subject")).to_have_text("Invoice fdp.exe")
    assert "owned" not in page.title()
    assert not [url for url in requests if "evil.test" in url]
    screenshot(page, "message-formatting")
