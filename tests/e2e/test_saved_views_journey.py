"""An agent filters the list, saves it as a view, comes back to it after a reload; an admin
shares one of theirs and another agent finds it next to the built-in views."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, member, new_ticket
from workspaces.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


def test_save_a_view_reload_use_it_and_an_admin_shares_one(
    live_asgi, new_page, sign_in, workspace, queue, requester
):
    agent = agent_of(workspace, queue, display_name="Sam Saver")
    other = agent_of(workspace, queue, display_name="Oli Other")
    admin = member(workspace, Role.ADMIN, display_name="Ada Admin")
    off_loop(new_ticket, requester, queue, subject="Database down", priority="urgent")
    off_loop(new_ticket, requester, queue, subject="Invoice copy", priority="low")
    list_url = f"{live_asgi}/w/{workspace.slug}/tickets/"

    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    page.goto(f"{list_url}?view=all")
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tr.ticket-row")).to_have_count(1)
    page.get_by_text("Save this view").click()
    page.get_by_label("View name").fill("Fires")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("status").filter(has_text="The view “Fires” was saved")).to_be_visible()
    views = page.get_by_role("navigation", name="Views")
    expect(views.get_by_role("link", name="Fires 1")).to_have_attribute("aria-current", "page")
    screenshot(page, "saved-view-list")

    page.goto(list_url)
    page.reload()
    expect(page.locator("tr.ticket-row")).to_have_count(0)  # "My open": nothing assigned yet
    views.get_by_role("link", name="Fires 1").click()
    expect(page.locator("tr.ticket-row")).to_have_count(1)
    expect(page.locator("tr.ticket-row")).to_contain_text("Database down")

    # The other agent does not see Sam's view.
    other_page = new_page()
    sign_in(other_page, live_asgi, other.user.email, PASSWORD)
    other_page.goto(list_url)
    other_views = other_page.get_by_role("navigation", name="Views")
    expect(other_views).not_to_contain_text("Fires")

    # The admin saves "Low priority" and shares it with the workspace.
    admin_page = new_page()
    sign_in(admin_page, live_asgi, admin.user.email, PASSWORD)
    admin_page.goto(f"{list_url}?priority=low")
    admin_page.get_by_text("Save this view").click()
    admin_page.get_by_label("View name").fill("Low priority")
    admin_page.get_by_role("button", name="Save view").click()
    admin_page.get_by_role("link", name="Manage views").click()
    admin_page.get_by_role("button", name="Share with the workspace Low priority").click()
    expect(admin_page.get_by_text("“Low priority” is now shared")).to_be_visible()
    expect(admin_page.locator("table.saved-views")).to_contain_text("Everyone (shared)")
    screenshot(admin_page, "saved-views-manage")

    other_page.reload()
    shared = other_views.get_by_role("link", name="Low priority")
    expect(shared).to_contain_text("1")
    shared.click()
    expect(other_page.locator("tr.ticket-row")).to_have_count(1)
    expect(other_page.locator("tr.ticket-row")).to_contain_text("Invoice copy")
    other_page.get_by_role("link", name="Manage views").click()
    expect(other_page.get_by_text("Shared by an admin")).to_be_visible()
    expect(other_page.get_by_role("button", name="Delete Low priority")).to_have_count(0)


def test_a_saved_search_shows_its_count_once_the_page_has_loaded(
    live_asgi, new_page, sign_in, workspace, queue, requester
):
    # The list page is built without running saved searches; static/js/view_counts.js fetches
    # their counts from the counts endpoint right after the page loads.
    agent = agent_of(workspace, queue, display_name="Sam Searcher")
    off_loop(new_ticket, requester, queue, subject="Printer jammed again")
    off_loop(new_ticket, requester, queue, subject="Printer out of toner")
    off_loop(new_ticket, requester, queue, subject="Password reset")
    list_url = f"{live_asgi}/w/{workspace.slug}/tickets/"

    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    page.goto(f"{list_url}?q=printer")
    expect(page.locator("tr.ticket-row")).to_have_count(2)
    # A search's page is built without any view's count; they arrive once it has loaded.
    search_views = page.get_by_role("navigation", name="Views")
    expect(search_views.get_by_role("link", name="All tickets 3")).to_be_visible()
    expect(search_views.get_by_role("link", name="Unassigned 3")).to_be_visible()
    screenshot(page, "search-view-counts-after-load")
    page.get_by_text("Save this view").click()
    page.get_by_label("View name").fill("Printers")
    page.get_by_role("button", name="Save view").click()
    page.goto(list_url)
    views = page.get_by_role("navigation", name="Views")
    expect(views.get_by_role("link", name="Printers 2")).to_be_visible()
