"""The accessibility check every journey runs (tests/e2e/accessibility.py) really fails a page
with a known violation, names the rule, the element and the address, and passes a clean one."""

import pytest
from playwright.sync_api import expect

from tests.e2e.accessibility import AccessibilityViolation
from tests.e2e.conftest import screenshot
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e

BROKEN = """<!doctype html><html lang="en"><head><title>Probe</title></head><body><main>
<h1>Probe</h1>
<details><summary id="switcher" aria-label="Switch workspace">Acme Support</summary></details>
<img id="logo" src="/static/none.png">
<a href="/probe/clean/">Onwards</a>
</main></body></html>"""
CLEAN = """<!doctype html><html lang="en"><head><title>Clean</title></head><body><main>
<h1>Clean</h1><p>Nothing to see.</p></main></body></html>"""


def html(body):
    return lambda route: route.fulfill(body=body, content_type="text/html")


def serve(page, base_url):
    page.route(f"{base_url}/probe/broken/", html(BROKEN))
    page.route(f"{base_url}/probe/clean/", html(CLEAN))


def test_a_page_with_violations_fails_before_the_next_action(live_asgi, new_page, accessibility_audit):
    page = new_page()
    serve(page, live_asgi)

    with pytest.raises(AccessibilityViolation) as failure:
        page.goto(f"{live_asgi}/probe/broken/")

    message = str(failure.value)
    assert f"on {live_asgi}/probe/broken/" in message
    assert "label-content-name-mismatch (serious)" in message and "#switcher" in message
    assert "image-alt (critical)" in message and "#logo" in message

    # Checked once per document: the test may go on acting on the page it was told about.
    page.get_by_role("link", name="Onwards").click()
    page.wait_for_url(f"{live_asgi}/probe/clean/")
    page.get_by_role("heading", name="Clean").click()
    assert accessibility_audit.checked_urls == [f"{live_asgi}/probe/broken/", f"{live_asgi}/probe/clean/"]


def test_what_scripts_change_on_a_page_is_checked_at_the_end_of_the_test(
    live_asgi, new_page, accessibility_audit
):
    page = new_page()
    serve(page, live_asgi)
    page.goto(f"{live_asgi}/probe/clean/")
    page.get_by_role("heading", name="Clean").click()
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x.png>')")

    with pytest.raises(AccessibilityViolation, match="image-alt"):
        accessibility_audit.finish([page.context])


def test_a_page_reached_by_a_click_is_checked_at_the_end_of_the_test(
    live_asgi, new_page, accessibility_audit
):
    page = new_page()
    serve(page, live_asgi)
    page.route(f"{live_asgi}/probe/start/", html(CLEAN.replace("<p>", '<p><a href="/probe/broken/">Go</a>')))
    page.goto(f"{live_asgi}/probe/start/")
    page.get_by_role("link", name="Go").click()
    page.wait_for_url(f"{live_asgi}/probe/broken/")

    with pytest.raises(AccessibilityViolation, match="image-alt"):
        accessibility_audit.finish([page.context])


def test_pages_of_other_origins_are_not_ours_to_check(live_asgi, new_page, accessibility_audit):
    page = new_page()
    page.set_content(BROKEN)
    page.get_by_role("heading", name="Probe").click()
    assert accessibility_audit.checked_urls == []


def test_the_workspace_switcher_is_named_by_what_it_shows(
    live_asgi, new_page, sign_in, agent, accessibility_audit
):
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    page.locator(".switcher summary").click()
    expect(page.locator(".switcher-menu")).to_be_visible()

    # Speech users say what they see ("click Acme"); screen readers also hear what it is for.
    expect(page.locator(".switcher")).to_match_aria_snapshot(
        f"- group:\n  - text: /^{agent.workspace.name} Agent ?, switch workspace$/"
    )
    screenshot(page, "workspace-switcher-open")
    accessibility_audit.finish([page.context])  # with the menu open
