"""An admin shortens the closed-ticket period (seeing what it would expire, then confirming) and
places a legal hold on a requester, which shows in the list and spares their tickets."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, TicketFactory
from tickets.models import Status

pytestmark = pytest.mark.e2e


def test_admin_shortens_retention_and_places_a_legal_hold(
    live_asgi, new_page, sign_in, workspace, admin, queue, requester
):
    now = timezone.now()
    for days in (120, 200, 400, 10):
        TicketFactory(
            workspace=workspace, queue=queue, requester=requester.user, subject=f"Closed {days} days ago",
            status=Status.CLOSED, closed_at=now - timedelta(days=days),
        )  # fmt: skip
    requester.user.last_login = now
    requester.user.save(update_fields=["last_login"])

    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{workspace.slug}/admin/retention/")
    expect(page.get_by_role("heading", name="Data retention")).to_be_visible()
    expect(page.locator(".retention-words")).to_contain_text("as long as necessary")
    screenshot(page, "retention-page")
    expect(page.locator("#account-kind-lockout_log")).to_contain_text("90 days")
    expect(page.get_by_label("List it for staff to review")).to_be_checked()

    page.get_by_label("Closed tickets: days").fill("100")
    page.get_by_role("button", name="Save retention settings").click()
    expect(page.get_by_role("heading", name="Confirm shorter retention")).to_be_visible()
    expect(page.locator(".expire-count")).to_have_text("3")
    screenshot(page, "retention-confirm")
    page.get_by_role("button", name="Yes, shorten and save").click()
    expect(page.locator("ul.flashes")).to_contain_text("Retention settings saved")
    expect(page.locator("#kind-tickets")).to_contain_text("100 days")

    page.get_by_role("link", name="Legal holds").click()
    page.get_by_role("link", name="Place a legal hold").click()
    page.get_by_label("A person").check()
    page.get_by_label("Person's email address").fill(requester.user.email)
    page.get_by_label("Reason").fill("Dispute 2031-04: preserve all correspondence with this customer.")
    page.get_by_role("button", name="Place hold").click()
    expect(page.locator("ul.flashes")).to_contain_text("Legal hold placed")
    expect(page.locator(".count")).to_contain_text("4 tickets")
    screenshot(page, "legal-hold-detail")
    page.get_by_role("link", name="All holds").click()
    expect(page.locator("table.holds")).to_contain_text("Dispute 2031-04")
    screenshot(page, "legal-hold-list")

    page.goto(f"{live_asgi}/w/{workspace.slug}/admin/retention/")
    expect(page.locator("#kind-tickets")).to_contain_text("3")  # kept by the hold
    phone = new_page(width=390, height=844)
    sign_in(phone, live_asgi, admin.user.email, PASSWORD)
    phone.goto(f"{live_asgi}/w/{workspace.slug}/admin/retention/")
    screenshot(phone, "retention-page-phone")
