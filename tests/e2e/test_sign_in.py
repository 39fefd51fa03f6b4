import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot

pytestmark = pytest.mark.e2e


def test_demo_agent_signs_in_and_sees_their_workspace(live_asgi, new_page, sign_in, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    off_loop(call_command, "seed_demo", password="demo-password", verbosity=0)
    settings.DEBUG = False
    page = new_page()

    sign_in(page, live_asgi, "agent@acme.test", "demo-password")

    expect(page).to_have_url(re.compile(r"/w/acme/tickets/$"))
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(page.locator(".switcher summary")).to_contain_text("Acme Corporation")
    # The agent works the Support queue only; Billing tickets stay out of sight.
    expect(page.locator("table.list")).to_contain_text("Support")
    expect(page.locator("table.list")).not_to_contain_text("Billing")
    screenshot(page, "agent-ticket-list")


def test_wrong_password_is_refused_with_a_clear_message(live_asgi, new_page, sign_in, admin):
    page = new_page()
    sign_in(page, live_asgi, admin.user.email, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("do not match an active account")
