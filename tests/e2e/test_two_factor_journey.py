"""Two-factor sign-in in Chromium: an authenticator app set up by typing its key, then signing in
with a code; a passkey registered and used through Chrome's virtual authenticator (CDP).

WebAuthn needs a secure context: http://localhost is one (http://127.0.0.1 is not for every
browser), so these journeys use localhost and the relying party id "localhost"."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD
from tests.workspaces.two_factor_support import code_from_secret_text

pytestmark = pytest.mark.e2e


def _localhost(base_url: str) -> str:
    return base_url.replace("127.0.0.1", "localhost")


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def _password(page, base, email):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_totp_setup_then_sign_in_with_a_code(live_asgi, new_page, requester):
    base = _localhost(live_asgi)
    email = requester.user.email
    page = new_page()
    _password(page, base, email)
    expect(page.get_by_role("link", name="My account")).to_be_visible()

    page.goto(f"{base}/account/")
    page.get_by_role("link", name="Manage two-factor sign-in").click()
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    screenshot(page, "two-factor-totp-setup")
    page.get_by_label("Code from your app").fill(code_from_secret_text(secret))
    page.get_by_role("button", name="Confirm and turn on").click()

    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    screenshot(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("On: signing in asks for a second factor")).to_be_visible()
    _sign_out(page)

    _password(page, base, email)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".error")).to_contain_text("That code is not right")
    page.get_by_label("Code").fill(code_from_secret_text(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("link", name="My account")).to_be_visible()
    expect(page).not_to_have_url(re.compile(r"/two-factor/"))


def test_passkey_registration_then_sign_in_with_it(live_asgi, new_page, requester):
    base = _localhost(live_asgi)
    email = requester.user.email
    page = new_page()
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    _password(page, base, email)
    page.goto(f"{base}/account/two-factor/")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name of this passkey").fill("Virtual key")
    page.get_by_role("button", name="Create passkey").click()
    # The first factor comes with recovery codes.
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_label("Name").first).to_have_value("Virtual key")
    expect(page.get_by_text("1 registered")).to_be_visible()
    screenshot(page, "two-factor-manage-passkey")
    _sign_out(page)

    _password(page, base, email)
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    screenshot(page, "two-factor-verify")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("link", name="My account")).to_be_visible()
    page.goto(f"{base}/account/two-factor/")
    expect(page.get_by_text("last used")).to_be_visible()


def test_an_admin_requires_a_second_factor_and_an_agent_is_sent_to_set_one_up(
    live_asgi, new_page, workspace, admin, agent
):
    base = _localhost(live_asgi)
    page = new_page()
    _password(page, base, admin.user.email)
    page.goto(f"{base}/w/{workspace.slug}/admin/members/")
    page.get_by_role("link", name="Security").click()
    page.get_by_label("Admins and agents must sign in with a second factor").check()
    screenshot(page, "two-factor-admin-security")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("now need a second factor")

    other = new_page()
    _password(other, base, agent.user.email)
    other.goto(f"{base}/w/{workspace.slug}/tickets/")
    expect(other).to_have_url(re.compile(r"/account/two-factor/$"))
    expect(other.get_by_role("status")).to_contain_text(
        "asks its admins and agents to sign in with a second factor"
    )
    screenshot(other, "two-factor-required")
