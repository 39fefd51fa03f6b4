"""Two real browsers of one person: the phone sees the laptop on the account page, signs it out,
and the laptop's next page is the sign-in page."""

import pytest
from playwright.sync_api import expect

from privacy.account.session_views import SESSION_SIGNED_OUT
from tests.e2e.conftest import ARTIFACTS, screenshot
from tests.factories import PASSWORD
from workspaces.sessions.models import UserSession

pytestmark = pytest.mark.e2e

PHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def phone_page(chromium, accessibility_audit):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE_AGENT)
    context.set_default_timeout(10_000)
    yield context.new_page()
    try:
        accessibility_audit.finish([context])
    finally:
        context.close()


def test_a_session_signed_out_from_another_browser_must_sign_in_again(
    live_asgi, new_page, phone_page, sign_in, requester
):
    user = requester.user
    laptop = new_page(width=1280)
    sign_in(laptop, live_asgi, user.email, PASSWORD)
    sign_in(phone_page, live_asgi, user.email, PASSWORD)

    phone_page.goto(f"{live_asgi}/account/#sessions")
    sessions = phone_page.locator("#sessions .session-item")
    expect(sessions).to_have_count(2)
    this_device = phone_page.locator("#sessions .session-current")
    expect(this_device).to_contain_text("Safari on iPhone")
    expect(this_device).to_contain_text("This device")
    expect(this_device).to_contain_text("127.0.0.x")
    laptop_item = phone_page.locator("#sessions .session-item:not(.session-current)")
    expect(laptop_item).to_contain_text("Headless Chrome")
    expect(laptop_item).to_contain_text("on Linux")
    expect(laptop_item).not_to_contain_text("This device")
    phone_page.locator("#sessions").scroll_into_view_if_needed()
    screenshot(phone_page, "account-sessions-390")
    phone_page.locator("#sessions").screenshot(path=f"{ARTIFACTS}/account-sessions-390-section.png")

    laptop.goto(f"{live_asgi}/account/#sessions")
    expect(laptop.locator("#sessions .session-current")).to_contain_text("Headless Chrome")
    screenshot(laptop, "account-sessions-1280")
    laptop.locator("#sessions").screenshot(path=f"{ARTIFACTS}/account-sessions-1280-section.png")

    laptop_item.get_by_role("button", name="Sign out").click()
    expect(phone_page.locator(".flashes")).to_contain_text(str(SESSION_SIGNED_OUT))
    expect(phone_page.locator("#sessions .session-item")).to_have_count(1)
    assert UserSession.objects.filter(user=user).count() == 1

    laptop.goto(f"{live_asgi}/account/")
    expect(laptop).to_have_url(f"{live_asgi}/accounts/login/?next=/account/")
    expect(laptop.get_by_role("button", name="Sign in")).to_be_visible()

    # The phone stays signed in.
    phone_page.goto(f"{live_asgi}/account/")
    expect(phone_page.get_by_role("heading", name="My account", exact=True)).to_be_visible()
