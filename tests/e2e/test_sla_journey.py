"""Issue 13, service levels, in the browser: an admin sets a 1-hour first-response target (after a
mistyped one is explained), an agent sees the due times with a "Breached" marker on a ticket
opened days ago, sorts the list by due, and finds both targets on the ticket page; the requester
sees none of it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import new_ticket

pytestmark = pytest.mark.e2e


def test_admin_sets_a_target_and_the_agent_sees_due_times_and_the_breach(
    live_asgi, new_page, sign_in, workspace, queue, admin, agent, requester
):
    base = live_asgi
    old = off_loop(
        new_ticket, requester, queue, subject="Old printer jam", created_at=timezone.now() - timedelta(days=5)
    )
    fresh = off_loop(new_ticket, requester, queue, subject="New laptop request")

    page = new_page()
    sign_in(page, base, admin.user.email, PASSWORD)
    page.goto(f"{base}/w/{workspace.slug}/admin/members/")
    page.get_by_role("link", name="Service levels").click()
    expect(page.get_by_role("heading", name="Service levels", level=1)).to_be_visible()
    page.get_by_label("Normal: First response").fill("soon")
    page.get_by_role("button", name="Save service levels").click()
    expect(page.locator(".error-summary")).to_contain_text("Write a duration such as 1h")
    page.get_by_label("Normal: First response").fill("1h")
    page.get_by_label("Normal: Resolution").fill("24h")
    page.get_by_role("button", name="Save service levels").click()
    expect(page.get_by_text("Service levels saved")).to_be_visible()
    expect(page.get_by_label("Normal: First response")).to_have_value("1h")
    screenshot(page, "sla-admin")

    agent_page = new_page()
    sign_in(agent_page, base, agent.user.email, PASSWORD)
    agent_page.goto(f"{base}/w/{workspace.slug}/tickets/?view=all")
    expect(agent_page.get_by_role("columnheader", name="Due")).to_be_visible()
    old_row = agent_page.locator(f"#ticket-row-{old.number}")
    expect(old_row.locator(".sla-due")).to_contain_text("Breached")
    expect(agent_page.locator(f"#ticket-row-{fresh.number} .sla-due time")).to_be_visible()
    expect(agent_page.locator(f"#ticket-row-{fresh.number} .sla-due")).not_to_contain_text("Breached")
    agent_page.get_by_label("Sort by").select_option("due")
    agent_page.get_by_role("button", name="Apply").click()
    expect(agent_page.locator("#ticket-rows tr").first).to_have_id(f"ticket-row-{old.number}")
    expect(agent_page.get_by_text("most urgent first: only tickets")).to_be_visible()
    screenshot(agent_page, "sla-list-sorted-by-due")

    agent_page.locator(f"#ticket-row-{old.number} .col-subject a").click()
    facts = agent_page.locator("dl.facts")
    expect(facts).to_contain_text("First response")
    expect(facts.locator('[data-sla-kind="first_response"]')).to_contain_text("Breached")
    expect(facts.locator('[data-sla-kind="resolution"]')).to_be_visible()
    screenshot(agent_page, "sla-ticket-page")

    requester_page = new_page()
    sign_in(requester_page, base, requester.user.email, PASSWORD)
    requester_page.goto(f"{base}/w/{workspace.slug}/tickets/{old.number}/")
    expect(requester_page.locator("dl.facts")).not_to_contain_text("First response")
    requester_page.goto(f"{base}/w/{workspace.slug}/tickets/")
    expect(requester_page.locator(".sla-due")).to_have_count(0)


def test_mistakes_on_the_service_levels_page_are_explained_in_the_admins_language(
    live_asgi, new_page, sign_in, workspace, admin
):
    admin.user.language = "de"
    admin.user.save()
    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{workspace.slug}/admin/service-levels/")
    expect(page.get_by_role("heading", name="Service-Levels", level=1)).to_be_visible()
    page.get_by_label("Normal: Erste Antwort").fill("bald")
    page.get_by_label("Montag: schließt").fill("08:00")
    page.get_by_label("Feiertage").fill("2026-12-25\nWeihnachten")
    page.get_by_role("button", name="Service-Levels speichern").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Geben Sie eine Dauer wie 1h")
    expect(summary).to_contain_text("Die Schließzeit muss nach der Öffnungszeit liegen")
    expect(summary).to_contain_text("Zeile 2: „Weihnachten“ ist kein Datum")
    # What was typed stays in the boxes.
    expect(page.get_by_label("Normal: Erste Antwort")).to_have_value("bald")
    screenshot(page, "sla-admin-errors-de")
