"""Single sign-on in a real browser against a real OpenID Connect provider (tests/oidc_provider):
an admin sets it up on the workspace's admin page; a member then signs in from the sign-in page
through the provider's own login and consent pages and lands in the workspace as themselves;
a newcomer with a verified address gets a requester account."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_member
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD, TicketFactory
from tests.workspaces.sso_support import provider_person
from workspaces.models import Membership, Role, User

pytestmark = pytest.mark.e2e


def test_admin_sets_up_sso_and_people_sign_in_through_the_provider(
    live_asgi, new_page, sign_in, settings, workspace, admin, queue, oidc_provider
):
    settings.SSO_ALLOW_HTTP = True  # the test provider speaks plain http on loopback
    registration = oidc_provider.add_client(
        redirect_uris=[f"{live_asgi}/accounts/sso/acme/callback/"], require_consent=True
    )
    ann = make_member(workspace, Role.REQUESTER, email="ann@acme.test", display_name="Ann Example")
    TicketFactory(workspace=workspace, queue=queue, requester=ann.user, subject="Laptop will not boot")
    ann_login = provider_person(oidc_provider, "ann@acme.test")
    newcomer_login = provider_person(oidc_provider, "newcomer@acme.test")
    unverified_login = provider_person(oidc_provider, "unsure@acme.test", verified=False)

    # The admin enters the provider on the workspace's admin page.
    page = new_page()
    sign_in(page, live_asgi, admin.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/acme/admin/")
    page.get_by_role("link", name="Single sign-on").click()
    expect(page.get_by_role("heading", name="Single sign-on", exact=True)).to_be_visible()
    expect(page.locator("aside")).to_contain_text(f"{live_asgi}/accounts/sso/acme/callback/")
    page.get_by_label("Single sign-on is on").check()
    page.get_by_label("Issuer or discovery address").fill(oidc_provider.issuer)
    page.get_by_label("Client ID").fill(registration.client_id)
    page.get_by_label("Client secret").fill(registration.client_secret)
    page.get_by_label("Create a requester account").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("ul.flashes")).to_contain_text("Single sign-on settings saved.")
    expect(page.get_by_label("Client secret")).to_have_value("")
    assert registration.client_secret not in page.content()
    screenshot(page, "sso-admin-settings")

    # Ann, in a fresh browser: sign-in page, single sign-on, the provider's pages, and back.
    page = new_page()
    page.goto(f"{live_asgi}/accounts/login/")
    page.get_by_role("link", name="Sign in with single sign-on").click()
    page.get_by_label("Workspace address").fill("acme")
    screenshot(page, "sso-workspace-address")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(oidc_provider.base_url)}/login/"))
    page.get_by_label("Username").fill(ann_login[0])
    page.get_by_label("Password").fill(ann_login[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Request for Permission")).to_be_visible()
    page.get_by_role("button", name="Authorize").click()

    expect(page).to_have_url(re.compile(r"/w/acme/tickets/$"))
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    # Requesters see their own tickets only: Ann's ticket says this session is Ann's.
    expect(page.locator("table.list")).to_contain_text("Laptop will not boot")
    expect(page.locator(".switcher summary")).to_contain_text("Acme")
    expect(page.locator(".switcher summary")).to_contain_text("Requester")
    screenshot(page, "sso-signed-in")

    # A newcomer with a verified address: a requester account is made on the way in.
    page = new_page()
    page.goto(f"{live_asgi}/accounts/sso/acme/login/")
    page.get_by_label("Username").fill(newcomer_login[0])
    page.get_by_label("Password").fill(newcomer_login[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Authorize").click()
    expect(page).to_have_url(re.compile(r"/w/acme/tickets/$"))
    expect(page.locator("ul.flashes")).to_contain_text("Your account was created from your single sign-on")
    newcomer = User.objects.get(email="newcomer@acme.test")
    assert Membership.objects.get(user=newcomer).role == Role.REQUESTER
    expect(page.locator("table.list")).not_to_contain_text("Laptop will not boot")

    # An address the provider never verified: refused, with the reason and two ways on.
    page = new_page()
    page.goto(f"{live_asgi}/accounts/sso/acme/login/")
    page.get_by_label("Username").fill(unverified_login[0])
    page.get_by_label("Password").fill(unverified_login[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="You were not signed in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("has not verified the email address unsure@acme.test")
    expect(page.get_by_role("link", name="Sign in with a password")).to_be_visible()
    screenshot(page, "sso-refused-unverified")
    assert not User.objects.filter(email="unsure@acme.test").exists()
