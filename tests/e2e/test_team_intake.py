"""Issue "Agents work a ticket together", part 5 (a way in), with three people: the admin opens
the workspace's public Get help form to one email domain; a visitor of another domain is told
which domain is accepted, a visitor of that domain files a request and confirms it from the
emailed link, and the ticket appears in the agent's open list without a reload. And an agent
opens a ticket for a caller who is not a member: the caller gets a link, chooses a password and
sees the ticket as theirs."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD
from tickets.models import Ticket
from workspaces.models import Intake, Role, Workspace

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]

CONFIRM_RE = re.compile(r"(http://\S+/accounts/signup/confirm/[^/\s]+/)")
INVITATION_RE = re.compile(r"(http://\S+/invitations/[\w-]+/)")
VISITOR_PASSWORD = "violet-harbour-lamp-58"
CALLER_PASSWORD = "amber-kettle-window-31"


@pytest.fixture
def policies(transactional_db):
    importlib.import_module("privacy.migrations.0003_initial_policies").publish(django_apps, None)


def _signed_in(new_page, sign_in, base, membership, path, **size):
    page = new_page(**size)
    sign_in(page, base, membership.user.email, PASSWORD)
    page.goto(f"{base}{path}")
    return page


def _fill_help_form(page, *, email, subject, description):
    page.get_by_label("Your name").fill("Robin Visitor")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("How can we help?").fill(description)
    page.locator("#id_password1").fill(VISITOR_PASSWORD)
    page.locator("#id_password2").fill(VISITOR_PASSWORD)
    page.locator("input[name=accept_policies]").check()
    page.locator("input[name=age_confirmed]").check()
    page.get_by_role("button", name="Send request").click()


def test_an_admin_opens_get_help_to_a_domain_and_a_visitors_request_reaches_the_agent_live(
    live_asgi, new_page, sign_in, settings, policies, workspace, queue, agent
):
    base = live_asgi
    settings.SITE_URL = base
    mail.outbox.clear()
    admin = make_member(workspace, Role.ADMIN, display_name="Ada Admin")

    # Before the admin opens it, the link answers "not found" to a visitor.
    visitor = new_page(width=390, height=844)  # a phone
    response = visitor.goto(f"{base}/help/{workspace.slug}/")
    assert response.status == 404

    # The agent watches the ticket list, empty for now.
    agent_page = _signed_in(new_page, sign_in, base, agent, f"/w/{workspace.slug}/tickets/?view=unassigned")
    expect(agent_page.locator("#live-indicator")).to_have_text("Live")
    expect(agent_page.locator("[data-live-empty]")).to_be_visible()
    agent_page.evaluate("window.noReload = true")

    admin_page = _signed_in(new_page, sign_in, base, admin, f"/w/{workspace.slug}/admin/requesters/")
    admin_page.get_by_label("Anyone, through a public Get help form").check()
    admin_page.get_by_label("Only these email domains (optional)").fill("example.com")
    admin_page.get_by_role("button", name="Save").click()
    expect(admin_page.locator(".flash-success")).to_contain_text("Saved")
    expect(admin_page.locator("#help-link")).to_have_text(f"{base}/help/{workspace.slug}/")
    assert Workspace.objects.get(pk=workspace.pk).intake == Intake.PUBLIC

    # A visitor of another domain is told which one the workspace accepts; nothing is sent.
    visitor.goto(f"{base}/help/{workspace.slug}/")
    expect(visitor.get_by_role("heading", name=f"Get help from {workspace.name}")).to_be_visible()
    _fill_help_form(
        visitor,
        email="robin@elsewhere.test",
        subject="Badge does not open the door",
        description="Since today.",
    )
    expect(visitor.locator("[data-error-summary]")).to_contain_text(
        "This workspace accepts requests only from addresses at example.com."
    )
    expect(visitor.get_by_label("How can we help?")).to_have_value("Since today.")
    assert mail.outbox == []

    # With an address of that domain the request goes out, held until the address is confirmed.
    visitor.get_by_label("Email").fill("robin@example.com")
    visitor.locator("#id_password1").fill(VISITOR_PASSWORD)
    visitor.locator("#id_password2").fill(VISITOR_PASSWORD)
    visitor.get_by_role("button", name="Send request").click()
    expect(visitor.get_by_role("heading", name="Check your email")).to_be_visible()
    assert not Ticket.objects.exists()
    expect(agent_page.locator("#ticket-rows tr")).to_have_count(0)
    (confirmation,) = [m for m in mail.outbox if m.to == ["robin@example.com"]]
    (confirm_url,) = CONFIRM_RE.findall(confirmation.body)
    mail.outbox.clear()

    visitor.goto(confirm_url)
    visitor.get_by_label("Your password").fill(VISITOR_PASSWORD)
    visitor.get_by_role("button", name="Confirm").click()
    expect(visitor.locator("main")).to_contain_text("Badge does not open the door")
    screenshot(visitor, "team-intake-visitor-confirmed")

    # The agent's open list shows the new ticket without a reload, and the agent is emailed.
    row = agent_page.locator("#ticket-rows tr", has_text="Badge does not open the door")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Robin Visitor")
    expect(agent_page.locator("[data-live-empty]")).to_be_hidden()
    assert agent_page.evaluate("window.noReload") is True
    screenshot(agent_page, "team-intake-agent-list-live")
    ticket = Ticket.objects.get()
    assert (ticket.queue_id, ticket.requester.email) == (queue.pk, "robin@example.com")
    assert any(m.to == [agent.user.email] and f"#{ticket.number}" in m.subject for m in mail.outbox)

    # The visitor opens their ticket; the agent answers it from the list, and the visitor's
    # open page shows the answer live.
    visitor.get_by_role("link", name=re.compile("Badge does not open the door")).first.click()
    expect(visitor.locator("#live-indicator")).to_have_text("Live")
    row.get_by_role("link", name="Badge does not open the door").click()
    agent_page.get_by_label("Your message").fill("Your badge is re-enabled; try the door again.")
    agent_page.get_by_role("button", name="Send public reply").click()
    expect(agent_page.locator(".flash-success")).to_contain_text("Your reply was posted.")
    expect(visitor.locator("#message-list")).to_contain_text("Your badge is re-enabled")
    expect(visitor.locator("#ticket-status")).to_have_text("Open")


def test_an_agent_opens_a_ticket_for_a_caller_who_then_signs_in_and_sees_it(
    live_asgi, new_page, sign_in, settings, policies, workspace, queue, agent
):
    base = live_asgi
    settings.SITE_URL = base
    mail.outbox.clear()
    caller_email = "sam.caller@example.org"

    agent_page = _signed_in(new_page, sign_in, base, agent, f"/w/{workspace.slug}/tickets/new/")
    agent_page.get_by_label("Requester's email").fill(caller_email)
    agent_page.get_by_label("Subject").fill("Phone: laptop will not start")
    agent_page.get_by_label("Queue").select_option(label=queue.name)
    agent_page.get_by_label("Description").fill("Sam called: the laptop beeps three times and stays dark.")
    # Without the box an unknown address is refused, so a typo emails nobody.
    agent_page.get_by_role("button", name="Open ticket").click()
    expect(agent_page.locator("[data-error-summary]")).to_contain_text("No member of this workspace")
    expect(agent_page.get_by_label("Description")).to_have_value(
        "Sam called: the laptop beeps three times and stays dark."
    )
    assert mail.outbox == [] and not Ticket.objects.exists()

    agent_page.get_by_label("Not a member yet? Invite them as a requester").check()
    agent_page.get_by_role("button", name="Open ticket").click()
    expect(agent_page.locator("ul.flashes")).to_contain_text(
        f"{caller_email} is now a requester here and was emailed an invitation to follow the ticket."
    )
    expect(agent_page.locator("#ticket-subject")).to_have_text("Phone: laptop will not start")
    screenshot(agent_page, "team-intake-ticket-for-caller")

    (invitation,) = [m for m in mail.outbox if m.to == [caller_email]]
    (link,) = INVITATION_RE.findall(invitation.body)
    caller = new_page(width=390, height=844)
    caller.goto(link)
    expect(caller.get_by_role("heading", name=f"Join {workspace.name}")).to_be_visible()
    caller.get_by_label("Your name").fill("Sam Caller")
    caller.get_by_label(re.compile(r"^Password(?! again)")).fill(CALLER_PASSWORD)
    caller.get_by_label("Password again").fill(CALLER_PASSWORD)
    screenshot(caller, "team-intake-caller-join")
    caller.get_by_role("button", name="Create account and join").click()
    # Invited people accept the terms and privacy policy before their first use.
    expect(caller.get_by_role("heading", name="Before you start")).to_be_visible()
    caller.get_by_label("I have read and accept the terms of service and the privacy policy").check()
    caller.get_by_role("button", name="Accept and continue").click()

    expect(caller.locator("main")).to_contain_text("Phone: laptop will not start")
    caller.get_by_role("link", name=re.compile("Phone: laptop will not start")).first.click()
    expect(caller.locator("#message-list")).to_contain_text("the laptop beeps three times")
    expect(caller.locator("#live-indicator")).to_have_text("Live")
    screenshot(caller, "team-intake-caller-ticket")

    # The agent's answer reaches the caller's open page live.
    agent_page.get_by_label("Your message").fill("Hold the power button for 30 seconds, then try again.")
    agent_page.get_by_role("button", name="Send public reply").click()
    expect(agent_page.locator(".flash-success")).to_contain_text("Your reply was posted.")
    expect(caller.locator("#message-list")).to_contain_text("Hold the power button")
    ticket = Ticket.objects.get()
    assert ticket.requester.email == caller_email and ticket.requester.display_name == "Sam Caller"
