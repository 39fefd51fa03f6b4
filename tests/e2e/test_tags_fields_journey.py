"""Tags and custom fields in the browser (issue 13): the admin defines a dropdown field visible
to requesters and a personal text field for staff; an agent tags a ticket through the
autocomplete (keyboard only) and fills in both fields; the list filtered by the tag shows that
ticket with its chips; the requester sees the dropdown's value and nothing else of it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import new_ticket
from tickets.tags import ticket_set_tags

pytestmark = pytest.mark.e2e


def test_admin_defines_fields_agent_tags_and_fills_them_requester_sees_only_hers(
    live_asgi, new_page, sign_in, workspace, queue, admin, agent, requester
):
    ticket = off_loop(new_ticket, requester, queue, subject="Paper jam on the 3rd floor")
    other = off_loop(new_ticket, requester, queue, subject="Toner is low")
    off_loop(ticket_set_tags, ticket=other, add=["billing"], remove=[], actor=agent.user)
    slug = workspace.slug

    # The admin defines the two fields.
    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{slug}/admin/fields/")
    page.get_by_label("Label").fill("Product")
    page.get_by_label("Kind").select_option("dropdown")
    page.get_by_label("Options (dropdown only)").fill("Printer\nScanner")
    page.get_by_label("Visible to requesters").check()
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_text("Field “Product” added.")).to_be_visible()
    page.get_by_label("Label").fill("Phone number")
    page.get_by_label("Kind").select_option("text")
    page.get_by_label("May hold personal data").check()
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_text("Field “Phone number” added.")).to_be_visible()
    expect(page.locator("table.field-list tbody tr")).to_have_count(2)
    screenshot(page, "tags-fields-admin")
    page.get_by_role("link", name="Change Product").click()
    expect(page.get_by_role("heading", name="Field “Product”")).to_be_visible()
    page.get_by_label("Options (dropdown only)").fill("Printer\nScanner\nFax")
    screenshot(page, "tags-fields-admin-edit")
    page.get_by_role("button", name="Save field").click()
    expect(page.get_by_text("Field “Product” saved.")).to_be_visible()
    expect(page.locator("table.field-list")).to_contain_text("Printer, Scanner, Fax")

    # The agent tags the ticket from the keyboard with the autocomplete, and fills the fields.
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{slug}/tickets/{ticket.number}/")
    box = page.get_by_role("combobox", name="Edit tags")
    box.click()
    page.keyboard.type("bil")
    listbox = page.get_by_role("listbox", name="Tag suggestions")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(listbox.get_by_role("option", name="billing")).to_have_attribute("aria-selected", "true")
    screenshot(page, "tags-autocomplete")
    page.keyboard.press("Enter")
    expect(box).to_have_value("billing, ")
    expect(listbox).to_be_hidden()
    page.keyboard.type("VIP")
    page.get_by_role("button", name="Save tags").click()
    expect(page.get_by_text("Tags saved.")).to_be_visible()
    chips = page.get_by_role("list", name="Tags of this ticket")
    expect(chips.get_by_role("listitem")).to_have_text(["billing", "vip"])

    page.get_by_label("Product", exact=True).select_option("Printer")
    page.get_by_label("Phone number").fill("+49 30 123456")
    page.get_by_role("button", name="Save fields").click()
    expect(page.get_by_text("Fields saved.")).to_be_visible()
    expect(page.get_by_label("Phone number")).to_have_value("+49 30 123456")
    screenshot(page, "tags-fields-ticket-staff")

    # The list filtered by tag: only the tagged ticket, with its chips.
    page.goto(f"{live_asgi}/w/{slug}/tickets/?view=all")
    page.get_by_label("Tag", exact=True).fill("vip")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"tag=vip"))
    rows = page.locator("#ticket-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Paper jam on the 3rd floor")
    expect(rows.first.locator(".tag-chip")).to_have_text(["billing", "vip"])
    screenshot(page, "tags-list-filter")

    # The requester sees the field visible to her, and neither the tags nor the personal field.
    page = new_page()
    sign_in(page, live_asgi, requester.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{slug}/tickets/{ticket.number}/")
    details = page.locator("#fields")
    expect(details).to_contain_text("Product")
    expect(details).to_contain_text("Printer")
    body = page.locator("body")
    expect(body).not_to_contain_text("Phone number")
    expect(body).not_to_contain_text("+49 30 123456")
    expect(body).not_to_contain_text("vip")
    screenshot(page, "tags-fields-ticket-requester")
    page.goto(f"{live_asgi}/w/{slug}/tickets/new/")
    expect(page.get_by_label("Product")).to_be_visible()
    expect(page.get_by_label("Phone number")).to_have_count(0)
