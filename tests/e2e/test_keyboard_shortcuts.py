"""An agent works the queue from the keyboard: j/k and o on the list, r/n/a/s on the ticket,
/ to search, ? for the list of keys; nothing fires while typing, and the keys can be turned off."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


@pytest.fixture
def desk(live_asgi, new_page, sign_in, workspace, queue, requester):
    agent = agent_of(workspace, queue, display_name="Kim Keys")
    tickets = [off_loop(new_ticket, requester, queue, subject=f"Keyboard ticket {n}") for n in range(3)]
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    return page, agent, tickets, f"{live_asgi}/w/{workspace.slug}/tickets/"


def test_j_k_and_o_walk_the_list_and_open_a_ticket(desk):
    page, _agent, tickets, list_url = desk
    page.goto(f"{list_url}?view=all")
    page.keyboard.press("j")
    newest_first = sorted(tickets, key=lambda t: t.number, reverse=True)
    expect(page.locator("tr.ticket-row.is-current")).to_have_attribute(
        "data-number", str(newest_first[0].number)
    )
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("tr.ticket-row.is-current")).to_have_attribute(
        "data-number", str(newest_first[1].number)
    )
    page.keyboard.press("o")
    page.wait_for_url(f"**/tickets/{newest_first[1].number}/")


def test_slash_searches_and_letters_typed_in_the_box_are_text(desk):
    page, _agent, _tickets, list_url = desk
    page.goto(list_url)
    page.keyboard.press("/")
    search = page.locator("input[name=q]")
    expect(search).to_be_focused()
    page.keyboard.type("jko?")
    expect(search).to_have_value("jko?")
    expect(page.locator("tr.ticket-row.is-current")).to_have_count(0)
    expect(page.locator("#shortcuts-help")).not_to_be_visible()


def test_question_mark_lists_the_keys_and_they_can_be_turned_off(desk):
    page, _agent, _tickets, list_url = desk
    page.goto(f"{list_url}?view=all")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next / previous ticket in the list")
    screenshot(page, "keyboard-shortcuts-help")
    dialog.get_by_label("Single-key shortcuts on").uncheck()
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    page.keyboard.press("j")
    expect(page.locator("tr.ticket-row.is-current")).to_have_count(0)
    page.reload()  # the choice is kept in this browser
    page.keyboard.press("j")
    expect(page.locator("tr.ticket-row.is-current")).to_have_count(0)


def test_on_a_ticket_n_writes_a_note_sent_with_ctrl_enter_and_a_assigns_to_me(desk):
    page, agent, tickets, list_url = desk
    ticket = tickets[0]
    page.goto(f"{list_url}{ticket.number}/")
    expect(page.locator("#live-indicator")).to_have_text("Live")
    page.keyboard.press("n")
    box = page.locator("form.reply-form textarea")
    expect(box).to_be_focused()
    page.keyboard.type("Checked the logs, nothing odd")  # letters here are text, not shortcuts
    expect(box).to_have_value("Checked the logs, nothing odd")
    page.keyboard.press("Control+Enter")
    note = page.locator("article.message-note", has_text="Checked the logs, nothing odd")
    expect(note).to_be_visible()
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("a")
    expect(page.locator("#ticket-assignee")).to_have_text("Kim Keys")
    assert off_loop(lambda: Ticket.objects.get(pk=ticket.pk).assignee_id) == agent.user_id
    page.keyboard.press("s")
    expect(page.locator("#properties-form select[name=status]")).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("r")
    expect(box).to_be_focused()
