"""Live updates in two browsers: a requester opens a ticket, the agent's list shows it without a
reload; the agent replies, writes a note and changes the status; the requester's open page
shows the replies and the status live, and never the note. And live.js follows the websocket
contract the page hands it, whatever the names and codes in it."""

import html
import json
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD
from tests.tickets.test_live import (  # noqa: F401
    _close_server_connections,
)
from tickets.live_contract import (
    ATTR_CLOSE,
    ATTR_FRAMES,
    CLOSE_ACTIONS,
    TICKET,
    TICKET_LIST,
    Close,
    CloseAction,
    Frame,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


def test_requester_and_agent_see_each_other_live(
    live_asgi, new_page, sign_in, workspace, queue, other_queue, agent, requester
):
    subject = "Printer on the third floor is on fire"
    marker = f"NOTE-MARKER-{uuid.uuid4().hex[:12]}"

    agent_page = new_page()
    sign_in(agent_page, live_asgi, agent.user.email, PASSWORD)
    agent_page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/?view=unsolved")
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


# live.js and the contract ------------------------------------------------------------------------

# Replaces the browser's WebSocket before any page script runs: the test plays the server. The
# count of sockets opened is mirrored in an attribute, so a test waits for it without evaluating
# a string (the page's CSP forbids eval, which wait_for_function would need).
FAKE_WEBSOCKET = """
window.fakeSockets = [];
window.WebSocket = function (url) {
  this.url = url;
  window.fakeSockets.push(this);
  document.documentElement.setAttribute("data-fake-sockets", String(window.fakeSockets.length));
};
window.WebSocket.prototype.close = function () {};
window.WebSocket.prototype.send = function () {};
"""
LAST_SOCKET = "window.fakeSockets[window.fakeSockets.length - 1]"
RENAMED_CODE_BASE = 4900


def renamed_contract(page_html: str, close_codes: dict[str, str]) -> str:
    """The page with every wire type renamed (``renamed.<type>``) and every close code moved to
    4900 and up (the new code of each old one goes into ``close_codes``)."""

    def rewrite(attribute, change):
        def replace(match):
            value = change(json.loads(html.unescape(match[1])))
            return f'{attribute}="{html.escape(json.dumps(value))}"'

        return lambda text: re.sub(rf'{attribute}="([^"]*)"', replace, text)

    def frames(value):
        return {name: f"renamed.{wire}" for name, wire in value.items()}

    def close(value):
        for offset, code in enumerate(sorted(value)):
            close_codes[code] = str(RENAMED_CODE_BASE + offset)
        return {close_codes[code]: action for code, action in value.items()}

    page_html = rewrite(ATTR_FRAMES, frames)(page_html)
    return rewrite(ATTR_CLOSE, close)(page_html)


@pytest.fixture
def contract_page(live_asgi, new_page, sign_in, workspace, agent):
    """A signed-in agent's page whose websocket is played by the test, with the contract in its
    HTML renamed; returns (page, close codes old -> new)."""
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    page.add_init_script(FAKE_WEBSOCKET)
    close_codes: dict[str, str] = {}

    def rename(route):
        response = route.fetch()
        route.fulfill(response=response, body=renamed_contract(response.text(), close_codes))

    page.route(re.compile(rf"/w/{workspace.slug}/tickets/(\d+/)?(\?.*)?$"), rename)
    yield page, close_codes
    # A handler left on the page would fetch through a disposed context during a later test.
    page.unroute_all(behavior="ignoreErrors")


def socket_opens(page, count: int, url: str) -> None:
    expect(page.locator("html")).to_have_attribute("data-fake-sockets", str(count))
    assert page.evaluate(f"{LAST_SOCKET}.url").endswith(url)
    page.evaluate(f"{LAST_SOCKET}.onopen({{}})")
    expect(page.locator("#live-indicator")).to_have_text("Live")


def deliver(page, frame: dict) -> None:
    page.evaluate(f"frame => {LAST_SOCKET}.onmessage({{data: JSON.stringify(frame)}})", frame)


def close_with(page, code) -> None:
    page.evaluate(f"code => {LAST_SOCKET}.onclose({{code: code}})", int(code))


def test_live_js_follows_the_names_and_codes_the_ticket_page_hands_it(
    contract_page, live_asgi, workspace, queue, requester
):
    from tests.factories import TicketFactory

    ticket = TicketFactory(workspace=workspace, queue=queue, requester=requester.user, number=4)
    page, close_codes = contract_page
    page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/{ticket.number}/")
    socket_opens(page, 1, TICKET.url(slug=workspace.slug, number=ticket.number))

    # A frame under its usual wire name is not one of this page's any more: ignored.
    def message(number, text):
        return f'<article id="message-{number}" class="message">{text}</article>'

    deliver(page, {"type": Frame.MESSAGE.value, "id": 901, "html": message(901, "usual name")})
    deliver(page, {"type": f"renamed.{Frame.MESSAGE}", "id": 902, "html": message(902, "renamed")})
    expect(page.locator("#message-902")).to_have_text("renamed")
    expect(page.locator("#message-901")).to_have_count(0)  # handled in order, so it was dropped
    renamed_ticket = {"type": f"renamed.{Frame.TICKET}", "id": ticket.number, "subject": ticket.subject}
    deliver(page, {**renamed_ticket, "status": "pending", "status_label": "Pending"})
    expect(page.locator("#ticket-status")).to_have_text("Pending")

    # The renamed "not found" code ends live updates.
    close_with(page, close_codes[str(Close.NOT_FOUND.value)])
    expect(page.locator("#live-indicator")).to_have_text("Live updates stopped")


def test_live_js_follows_the_names_and_codes_the_ticket_list_hands_it(contract_page, live_asgi, workspace):
    page, close_codes = contract_page
    page.goto(f"{live_asgi}/w/{workspace.slug}/tickets/?view=all")
    url = TICKET_LIST.url(slug=workspace.slug)
    socket_opens(page, 1, url)

    def row(number, text):
        return f'<tr id="ticket-row-{number}"><td>{text}</td></tr>'

    deliver(page, {"type": f"renamed.{Frame.ROW}", "id": 77, "html": row(77, "first row")})
    expect(page.locator("#ticket-row-77")).to_have_text("first row")
    deliver(page, {"type": Frame.ROW_REMOVED.value, "id": 77})  # the usual name: ignored
    deliver(page, {"type": f"renamed.{Frame.ROW}", "id": 78, "html": row(78, "second row")})
    expect(page.locator("#ticket-row-78")).to_have_text("second row")
    expect(page.locator("#ticket-row-77")).to_have_count(1)
    deliver(page, {"type": f"renamed.{Frame.ROW_REMOVED}", "id": 77})
    expect(page.locator("#ticket-row-77")).to_have_count(0)

    # The usual "forbidden" code means nothing to this page: like a dropped network, it
    # reconnects; the renamed one ends live updates.
    assert {CLOSE_ACTIONS[Close(int(code))] for code in close_codes} == set(CloseAction)
    close_with(page, Close.FORBIDDEN.value)
    expect(page.locator("#live-indicator")).to_have_text("Reconnecting…")
    socket_opens(page, 2, url)
    close_with(page, close_codes[str(Close.FORBIDDEN.value)])
    expect(page.locator("#live-indicator")).to_have_text("Live updates stopped")
