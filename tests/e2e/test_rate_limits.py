import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_a_person_asking_too_often_for_a_reset_reads_when_to_try_again(
    live_asgi, new_page, settings, ratelimit_clock
):
    settings.SITE_URL = live_asgi
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "password_reset": {"address": (2, 3600), "ip": (20, 3600)},
    }
    mail.outbox = []
    page = new_page(width=390, height=844)

    for _ in range(2):
        page.goto(f"{live_asgi}/accounts/password/reset/")
        page.get_by_label("Email").fill("someone@example.test")
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(f"{live_asgi}/accounts/password/reset/")
    page.get_by_label("Email").fill("Someone@Example.test")
    page.get_by_role("button", name="Send the link").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Several password resets were asked for this address")
    expect(alert).to_contain_text("try again in 60 minutes")
    expect(page.get_by_label("Email")).to_have_value("Someone@Example.test")
    screenshot(page, "password-reset-rate-limited")
    assert mail.outbox == []  # no account uses the address: nothing was ever sent
