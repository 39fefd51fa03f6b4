"""An admin invites an agent with one queue; the agent joins from the emailed link in a fresh
browser and sees the tickets of that queue only."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_privacy_second_wave import _ensure_person_policies
from tests.factories import PASSWORD, TicketFactory

pytestmark = pytest.mark.e2e

INVITEE = "nina.agent@example.test"
INVITEE_PASSWORD = "a-long-unusual-passphrase"


def test_admin_invites_an_agent_who_joins_and_sees_only_the_granted_queue(
    live_asgi, new_page, sign_in, settings, workspace, admin, queue, other_queue, requester
):
    settings.SITE_URL = live_asgi
    # Factories, not ticket_create: its after-commit websocket broadcast cannot run in this
    # thread, where Playwright's sync API keeps an event loop.
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user, subject="Printer on fire")
    TicketFactory(workspace=workspace, queue=other_queue, requester=requester.user, subject="Double charge")
    _ensure_person_policies()

    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    page.get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Email address").fill(INVITEE)
    page.get_by_label("Role").select_option("agent")
    page.get_by_label("Support").check()
    page.get_by_role("button", name="Send invitation").click()

    expect(page.locator("ul.flashes")).to_contain_text(f"Invitation sent to {INVITEE}")
    pending = page.locator("section.invitations")
    expect(pending).to_contain_text(str(INVITEE))
    expect(pending).to_contain_text("Support")
    screenshot(page, "admin-members")

    [message] = [m for m in mail.outbox if INVITEE in m.to]
    link = re.search(r"http://\S+/invitations/[\w-]+/", message.body).group(0)
    assert link.startswith(live_asgi)

    invitee = new_page(width=390, height=844)  # a fresh context, at phone width
    invitee.goto(link)
    expect(invitee.get_by_role("heading", name=f"Join {workspace.name}")).to_be_visible()
    expect(invitee.locator(".facts")).to_contain_text("Support")
    screenshot(invitee, "invitation-page")
    invitee.get_by_label("Your name").fill("Nina Agent")
    invitee.get_by_label(re.compile(r"^Password(?! again)")).fill(INVITEE_PASSWORD)
    invitee.get_by_label("Password again").fill(INVITEE_PASSWORD)
    invitee.get_by_role("button", name="Create account and join").click()

    # Invited, they accept the terms and privacy policy first (privacy/account/policy_moments.py).
    expect(invitee.locator("ul.flashes")).to_contain_text(f"Welcome to {workspace.name}")
    expect(invitee.get_by_role("heading", name="Before you start")).to_be_visible()
    invitee.get_by_label("I have read and accept the terms of service and the privacy policy").check()
    invitee.get_by_role("button", name="Accept and continue").click()
    expect(invitee).to_have_url(re.compile(rf"/w/{workspace.slug}/tickets/$"))
    # They land on "My open" (nothing assigned yet); "All tickets" shows what their queue holds.
    invitee.get_by_role("link", name=re.compile(r"^All tickets")).click()
    tickets = invitee.locator("table.list")
    expect(tickets).to_contain_text("Printer on fire")
    expect(tickets).not_to_contain_text("Double charge")
    expect(invitee.get_by_role("link", name="Admin")).to_have_count(0)

    # The admin's members page now shows her as an agent of Support, and the link is spent.
    page.reload()
    expect(page.locator("table.members")).to_contain_text(str(INVITEE))
    expect(page.locator("section.invitations")).not_to_contain_text(str(INVITEE))
    invitee.goto(link)
    expect(invitee.get_by_role("alert")).to_contain_text("already been used")
