"""An anonymous visitor asks a workspace for help on its public Get help form, confirms the
address from the email, and sees their ticket (README "A way in for requesters")."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, QueueFactory, WorkspaceFactory
from tickets.models import Ticket
from workspaces.models import Intake, Role, Workspace

pytestmark = pytest.mark.e2e

CONFIRM_RE = re.compile(r"(http://\S+/accounts/signup/confirm/[^/\s]+/)")
NEW_PASSWORD = "violet-harbour-lamp-58"


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
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    page.locator("input[name=accept_policies]").check()
    page.locator("input[name=age_confirmed]").check()
    screenshot(page, "get-help-form")
    page.get_by_role("button", name="Send request").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert not Ticket.objects.exists()
    (confirm_url,) = CONFIRM_RE.findall(mail.outbox[0].body)

    page.goto(confirm_url)
    page.get_by_label("Your password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    # One workspace: home goes straight to it, where the requester's ticket is listed.
    expect(page.locator("main")).to_contain_text("The printer is on fire")
    screenshot(page, "get-help-confirmed")
    page.get_by_role("link", name=re.compile("The printer is on fire")).first.click()
    expect(page.locator("main")).to_contain_text("Smoke comes out of tray 2.")
    screenshot(page, "get-help-ticket")
    ticket = Ticket.objects.get()
    assert ticket.requester.email == "robin@example.test"


def test_an_admin_opens_the_get_help_link(live_asgi, new_page, sign_in):
    workspace = WorkspaceFactory(slug="acme", name="Acme")
    QueueFactory(workspace=workspace, name="Support")
    admin = make_member(workspace, Role.ADMIN)
    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)

    page.goto(f"{live_asgi}/w/acme/admin/requesters/")
    page.get_by_label("Anyone, through a public Get help form").check()
    page.get_by_label("Only these email domains (optional)").fill("example.com")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".flash-success")).to_contain_text("Saved")
    expect(page.locator("#help-link")).to_contain_text("/help/acme/")
    screenshot(page, "get-help-admin")
    workspace = Workspace.objects.get(pk=workspace.pk)
    assert (workspace.intake, workspace.intake_domains) == (Intake.PUBLIC, "example.com")
