"""Account self-service in Chromium: sign in, correct the name, request an export and download
it, request deletion, cancel it by signing in again, request it again."""

import json
import zipfile

import pytest
from playwright.sync_api import expect

from privacy.account.backends import DELETION_CANCELLED
from privacy.account.models import ErasureRequest, ErasureState
from privacy.account.views import PROFILE_SAVED
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e


def delete_account(page, base_url):
    page.goto(f"{base_url}/account/#delete")
    page.locator("#id_delete-password").fill(PASSWORD)
    page.locator("#id_delete-confirm").fill("DELETE")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Your account is being deleted")).to_be_visible()


def test_account_journey(live_asgi, new_page, sign_in, requester, settings, tmp_path):
    settings.ACCOUNT_ERASURE_GRACE_DAYS = 14
    user = requester.user
    page = new_page()
    sign_in(page, live_asgi, user.email, PASSWORD)

    page.goto(f"{live_asgi}/account/")
    expect(page.get_by_role("heading", name="My account", exact=True)).to_be_visible()
    page.locator("#id_profile-display_name").fill("Grace Hopper")
    page.locator("#id_profile-time_zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator(".flashes")).to_contain_text(str(PROFILE_SAVED))
    expect(page.locator(".account-sub")).to_contain_text("Grace Hopper")

    page.get_by_role("button", name="Request an export").click()
    expect(page.locator(".flashes")).to_contain_text("ready to download")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download", exact=True).first.click()
    path = tmp_path / "export.zip"
    download_info.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data.json"))
        assert "summary.html" in archive.namelist()
    assert data["profile"]["display_name"] == "Grace Hopper"
    assert data["profile"]["time_zone"] == "Europe/Berlin"
    screenshot(page, "account-page")

    delete_account(page, live_asgi)
    page.goto(f"{live_asgi}/account/")
    expect(page).to_have_url(f"{live_asgi}/accounts/login/?next=/account/")  # signed out

    sign_in(page, live_asgi, user.email, PASSWORD)
    expect(page.locator(".flashes")).to_contain_text(str(DELETION_CANCELLED))
    assert ErasureRequest.objects.get(user=user).state == ErasureState.CANCELLED

    delete_account(page, live_asgi)
    states = sorted(ErasureRequest.objects.filter(user=user).values_list("state", flat=True))
    assert states == [ErasureState.CANCELLED, ErasureState.SCHEDULED]
    screenshot(page, "account-deleted")


def test_account_page_at_phone_width(live_asgi, new_page, sign_in, requester):
    page = new_page(width=390, height=844)
    sign_in(page, live_asgi, requester.user.email, PASSWORD)
    page.goto(f"{live_asgi}/account/")
    expect(page.get_by_role("button", name="Delete my account")).to_be_visible()
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
        .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    screenshot(page, "account-page-phone")
