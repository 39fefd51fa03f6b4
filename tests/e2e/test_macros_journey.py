"""Macros in the browser: an admin makes a shared macro (a wrong placeholder is refused first), an
agent makes a personal one, then answers a ticket with both, from the picker and with
";shortcut" + Tab; the send sets the ticket Pending, and the requester sees it in their list."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import new_ticket
from tickets.macros.services import MacroValues, macro_create
from workspaces.models import Role

pytestmark = pytest.mark.e2e


def test_an_agent_answers_with_macros_and_the_ticket_becomes_pending(
    live_asgi, new_page, sign_in, workspace, queue, admin, agent, requester
):
    base = live_asgi
    ticket = off_loop(new_ticket, requester, queue, subject="Printer jams")
    first_name = requester.user.display_name.split()[0]

    # An admin writes a shared macro; a misspelt placeholder is refused with the valid ones.
    boss = new_page()
    sign_in(boss, base, admin.user.email, PASSWORD)
    boss.goto(f"{base}/w/{workspace.slug}/macros/")
    boss.get_by_role("link", name="New shared macro").click()
    boss.get_by_label("Name").fill("Greeting")
    boss.get_by_label("Shortcut").fill("hello")
    boss.get_by_label("Text").fill("Hello {{ requester.firstname }},")
    boss.get_by_role("button", name="Create macro").click()
    expect(boss.locator(".error-summary, .form-errors").first).to_contain_text("Unknown placeholder")
    expect(boss.get_by_text("{{ requester.first_name }}, {{ requester.name }}").first).to_be_visible()
    screenshot(boss, "macros-form-error")
    boss.get_by_label("Text").fill("Hello {{ requester.first_name }},")
    boss.get_by_role("button", name="Create macro").click()
    expect(boss.locator("ul.flashes")).to_contain_text("Macro “Greeting” was created.")
    expect(boss.locator("#shared-heading + p + .table-wrap")).to_contain_text(";hello")

    # The agent makes a personal macro that sets the ticket Pending when sent.
    page = new_page()
    sign_in(page, base, agent.user.email, PASSWORD)
    page.goto(f"{base}/w/{workspace.slug}/macros/new/")
    page.get_by_label("Name").fill("Waiting for you")
    page.get_by_label("Shortcut").fill("wait")
    page.get_by_label("Text").fill("We wait for your answer on #{{ ticket.number }}. {{ agent.first_name }}")
    page.get_by_label("Set status when sent").select_option("pending")
    page.get_by_label("Set priority when sent").select_option("high")
    page.get_by_role("button", name="Create macro").click()
    expect(page.locator("ul.flashes")).to_contain_text("Macro “Waiting for you” was created.")
    screenshot(page, "macros-list")

    # The requester has the ticket open meanwhile: the change reaches them live.
    customer = new_page()
    sign_in(customer, base, requester.user.email, PASSWORD)
    customer.goto(f"{base}/w/{workspace.slug}/tickets/{ticket.number}/")
    expect(customer.locator("#live-indicator")).to_have_text("Live")
    expect(customer.locator("#macro-composer")).to_have_count(0)

    # On the ticket: the picker (type to filter, Enter), then ";wait" + Tab in the box.
    page.goto(f"{base}/w/{workspace.slug}/tickets/{ticket.number}/")
    box = page.get_by_label("Your message")
    expect(page.get_by_label("Macro", exact=True)).to_be_hidden()  # the no-JS select gave way
    page.get_by_role("button", name="Insert macro").click()
    filter_box = page.get_by_role("combobox", name="Find a macro")
    expect(filter_box).to_be_focused()
    expect(page.locator("#macro-listbox").get_by_role("option")).to_have_count(2)
    filter_box.fill("greet")
    expect(page.locator("#macro-listbox").get_by_role("option")).to_have_count(1)
    screenshot(page, "macros-picker")
    filter_box.press("Enter")
    expect(box).to_have_value(f"Hello {first_name},")
    expect(box).to_be_focused()
    box.press("End")
    box.type("\nThanks for the photo. ;wait")
    box.press("Tab")
    expected = f"Hello {first_name},\nThanks for the photo. We wait for your answer on #{ticket.number}."
    expect(box).to_have_value(re.compile(re.escape(expected)))
    expect(page.locator("#macro-chosen")).to_contain_text("Macro “Waiting for you” inserted.")
    expect(page.locator("#macro-chosen")).to_contain_text("When sent, sets status Pending; priority High.")
    screenshot(page, "macros-inserted")
    page.get_by_role("button", name="Send public reply").click()
    expect(page.locator("ul.flashes")).to_contain_text("the ticket is now Pending")
    expect(page.locator("ul.flashes")).to_contain_text("Macro “Waiting for you” applied")
    expect(page.locator("#ticket-status")).to_have_text("Pending")
    expect(page.locator("#ticket-priority")).to_have_text("High")

    # The requester sees the new status live, the reply, and the ticket Pending in their list.
    expect(customer.locator("#ticket-status")).to_have_text("Pending")
    expect(customer.locator(".message-reply").last).to_contain_text(f"Hello {first_name},")
    customer.goto(f"{base}/w/{workspace.slug}/tickets/")
    row = customer.locator("tr", has_text="Printer jams")
    expect(row).to_contain_text("Pending")


def test_without_the_script_a_macro_is_picked_from_a_select_and_inserted_by_a_round_trip(
    live_asgi, new_page, sign_in, workspace, queue, agent, requester
):
    base = live_asgi
    ticket = off_loop(new_ticket, requester, queue, subject="No scripts here")
    off_loop(
        macro_create,
        workspace=workspace,
        owner=agent.user,
        values=MacroValues(
            name="Solved", shortcut="solved", body="Fixed, {{ requester.first_name }}.", status="solved"
        ),
        actor=agent.user,
    )
    page = new_page()
    # The page as a browser without JavaScript gets it (macros.js never runs; the axe check
    # still does, which a context with JavaScript turned off would not allow).
    page.route("**/static/js/macros.js", lambda route: route.abort())
    sign_in(page, base, agent.user.email, PASSWORD)
    page.goto(f"{base}/w/{workspace.slug}/tickets/{ticket.number}/")
    expect(page.get_by_role("button", name="Insert macro")).to_be_hidden()
    page.get_by_label("Your message").fill("Replaced the toner.")
    page.get_by_label("Macro", exact=True).select_option(label="Solved (;solved)")
    page.get_by_role("button", name="Insert", exact=True).click()
    first_name = requester.user.display_name.split()[0]
    expect(page.get_by_label("Your message")).to_have_value(f"Replaced the toner.\n\nFixed, {first_name}.")
    expect(page.locator("#macro-chosen")).to_contain_text("When sent, sets status Solved.")
    screenshot(page, "macros-no-javascript")
    page.get_by_role("button", name="Send public reply").click()
    expect(page.locator("ul.flashes")).to_contain_text("the ticket is now Solved")
    expect(page.locator(".message-reply").last).to_contain_text(f"Fixed, {first_name}.")


def test_two_admins_edit_one_shared_macro_the_stale_save_is_refused_not_lost(
    live_asgi, new_page, sign_in, workspace, admin
):
    base = live_asgi
    other = off_loop(make_member, workspace, Role.ADMIN, display_name="Bo Admin")
    macro = off_loop(
        macro_create,
        workspace=workspace,
        owner=None,
        values=MacroValues(name="Refund", shortcut="refund", body="Your refund is on its way."),
        actor=admin.user,
    )
    edit_url = f"{base}/w/{workspace.slug}/macros/{macro.pk}/"
    ann, bo = new_page(), new_page()
    sign_in(ann, base, admin.user.email, PASSWORD)
    sign_in(bo, base, other.user.email, PASSWORD)
    ann.goto(edit_url)
    bo.goto(edit_url)
    bo.get_by_label("Text").fill("Your refund was sent today.")
    bo.get_by_role("button", name="Save macro").click()
    expect(bo.locator("ul.flashes")).to_contain_text("Macro “Refund” was saved.")
    ann.get_by_label("Text").fill("Refunds take 5 days.")
    ann.get_by_role("button", name="Save macro").click()
    expect(ann.locator(".error-summary")).to_contain_text("Bo Admin changed this macro since you opened it")
    expect(ann.get_by_label("Text")).to_have_value("Refunds take 5 days.")
    expect(ann.locator(".macro-current")).to_contain_text("Your refund was sent today.")
    screenshot(ann, "macros-stale-edit")
    ann.get_by_role("button", name="Save macro").click()  # on purpose, having seen Bo's text
    expect(ann.locator("ul.flashes")).to_contain_text("Macro “Refund” was saved.")
    ann.get_by_role("link", name="Delete Refund").click()
    screenshot(ann, "macros-delete")
    ann.get_by_role("button", name="Delete macro").click()
    expect(ann.locator("ul.flashes")).to_contain_text("Macro “Refund” was deleted.")
