"""An agent ticks rows of the list and changes them at once (the bulk action bar), then merges two
duplicate tickets and finds a note about it on both."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket
from tickets.models import Status, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


@pytest.fixture
def desk(live_asgi, new_page, sign_in, workspace, queue, requester):
    agent = agent_of(workspace, queue, display_name="Bea Bulk")
    tickets = [off_loop(new_ticket, requester, queue, subject=f"Printer outage {n}") for n in range(4)]
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    return page, agent, tickets, f"{live_asgi}/w/{workspace.slug}/tickets/"


def _status(ticket):
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


def test_the_agent_ticks_three_rows_sets_them_pending_and_reads_the_report(desk):
    page, _agent, tickets, list_url = desk
    page.goto(f"{list_url}?view=all")
    bar = page.locator("#bulk-form")
    expect(bar).to_be_hidden()  # nothing ticked yet
    chosen = tickets[:3]
    page.get_by_label(f"Select #{chosen[0].number}").check()
    expect(bar).to_be_visible()
    expect(page.locator("#bulk-count")).to_have_text("1 ticket selected.")
    page.get_by_label(f"Select #{chosen[1].number}").check()
    # x ticks the focused row (j/k move the focus).
    page.locator(f"#ticket-row-{chosen[2].number} .col-subject a").focus()
    page.keyboard.press("x")
    expect(page.get_by_label(f"Select #{chosen[2].number}")).to_be_checked()
    expect(page.locator("#bulk-count")).to_have_text("3 tickets selected.")
    page.get_by_label("Change", exact=True).select_option(label="Pending")
    screenshot(page, "bulk-bar-three-selected")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_url("**/tickets/?view=all")
    expect(page.get_by_text("3 tickets updated.")).to_be_visible()
    for ticket in chosen:
        expect(page.locator(f"#ticket-row-{ticket.number} .status")).to_have_text("Pending")
    expect(page.locator(f"#ticket-row-{tickets[3].number} .status")).to_have_text("New")
    screenshot(page, "bulk-report")
    assert [_status(t) for t in chosen] == [Status.PENDING] * 3


def test_select_all_then_one_closed_ticket_is_reported_and_the_rest_change(desk):
    from tickets.services import ticket_set_status

    page, agent, tickets, list_url = desk
    off_loop(ticket_set_status, ticket=tickets[0], status=Status.CLOSED, actor=agent.user)
    page.goto(f"{list_url}?view=all")
    page.get_by_label("Select all tickets on this page").check()
    expect(page.locator("#bulk-count")).to_have_text("4 tickets selected.")
    page.get_by_label("Change", exact=True).select_option(label="Urgent")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_url("**/tickets/?view=all")
    report = page.get_by_text("3 tickets updated. 1 could not be changed:")
    expect(report).to_be_visible()
    expect(report).to_contain_text(f"#{tickets[0].number} is Closed")


def test_two_tickets_are_merged_and_both_carry_a_note(desk):
    page, _agent, tickets, list_url = desk
    duplicate, original = tickets[0], tickets[1]
    page.goto(f"{list_url}?view=all")
    page.get_by_label(f"Select #{duplicate.number}").check()
    page.get_by_label(f"Select #{original.number}").check()
    page.get_by_label("Change", exact=True).select_option(label="Merge two tickets into one…")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_url("**/tickets/merge/**")
    expect(page.get_by_role("heading", name="Merge tickets")).to_be_visible()
    page.get_by_label(f"Merge #{duplicate.number} into #{original.number}").check()
    screenshot(page, "merge-confirm")
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_url(f"**/tickets/{original.number}/")
    expect(
        page.get_by_text(f"#{duplicate.number} was merged into #{original.number} and closed.")
    ).to_be_visible()
    expect(page.locator(".message").filter(has_text="was merged into this ticket")).to_be_visible()
    screenshot(page, "merge-target")
    page.get_by_role("link", name=f"#{duplicate.number} Printer outage 0").first.click()
    page.wait_for_url(f"**/tickets/{duplicate.number}/")
    expect(page.locator("#merged-into")).to_contain_text(f"This ticket was merged into #{original.number}")
    expect(page.locator(".message-note").filter(has_text="Merged into")).to_be_visible()
    expect(
        page.locator(".message-reply").filter(has_text="This request was merged into request")
    ).to_be_visible()
    expect(page.locator("#ticket-status")).to_have_text("Closed")
    screenshot(page, "merge-source")
