"""An anonymous visitor asks a workspace for help on its public Get help form, confirms the
address from the email, and sees their ticket (README "A way in for requesters")."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import QueueFactory, WorkspaceFactory
from tickets.models import Ticket
from workspaces.models import Intake

pytestmark = pytest.mark.e2e

CONFIRM_RE = re.compile(r"(http://\S+/accounts/signup/confirm/[^/\s]+/)")
PASSWORD = "violet-harbour-lamp-58"


@pytest.fixture
def policies(transactional_db):
    importlib.import_module("privacy.migrations.0003_initial_policies").publish(django_apps, None)


def test_a_visitor_gets_help_confirms_and_sees_the_ticket(live_asgi, new_page, settings, policies):
    settings.SITE_URL = live_asgi
    mail.outbox = []
    workspace = WorkspaceFactory(slug="acme", name="Acme", intake=Intake.PUBLIC)
    QueueFactory(workspace=workspace, name="Support")
    page = new_page(width=390, height=844)  # a phone

    page.goto(f"{live_asgi}/help/acme/")
    expect(page.get_by_role("heading", name="Get help from Acme")).to_be_visible()
    page.get_by_label("Your name").fill("Robin Requester")
    page.get_by_label("Email").fill("robin@example.test")
    page.get_by_label("Subject").fill("The printer is on fire")
    page.get_by_label("How can we help?").fill("Smoke comes out of tray 2.")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("input[name=accept_policies]").check()
    screenshot(page, "get-help-form")
    page.get_by_role("button", name="Send request").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert not Ticket.objects.exists()
    (confirm_url,) = CONFIRM_RE.findall(mail.outbox[0].body)

    page.goto(confirm_url)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    # One workspace: home goes straight to it, where the requester's ticket is listed.
    expect(page.locator("main")).to_contain_text("The printer is on fire")
    screenshot(page, "get-help-confirmed")
    page.get_by_role("link", name=re.compile("The printer is on fire")).first.click()
    expect(page.locator("main")).to_contain_text("Smoke comes out of tray 2.")
    screenshot(page, "get-help-ticket")
    ticket = Ticket.objects.get()
    assert ticket.requester.email == "robin@example.test"
