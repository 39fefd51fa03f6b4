"""Errors where the eye is (the error summary takes the focus after a refused form) and drafts
that survive a reload, a refused send and nothing else (a successful send, a sign-out)."""

import re

import pytest
from guardian.shortcuts import assign_perm, remove_perm
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import new_ticket
from workspaces.models import QUEUE_PERMISSION

pytestmark = pytest.mark.e2e

DRAFT = "Restart the router, then tell us what the status light shows."


def _draft_key(membership, ticket):
    return f"helpdesk-draft:{membership.user.pk}:{ticket.workspace.slug}:{ticket.number}:reply"


def _stored(page, key):
    return page.evaluate("key => window.localStorage.getItem(key)", key)


def _focused(page):
    """What has the focus, and whether its top edge is inside the viewport."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const top = el.getBoundingClientRect().top;
            // Scrolled to the top edge, layout may leave it a fraction of a pixel above.
            return {id: el.id, cls: el.className, inView: top > -1 && top < window.innerHeight};
        }"""
    )


@pytest.fixture
def open_ticket(workspace, queue, requester):
    return off_loop(new_ticket, requester, queue, subject="Internet is down")


def _ticket_page(page, base, ticket):
    page.goto(f"{base}/w/{ticket.workspace.slug}/tickets/{ticket.number}/")
    expect(page.locator("#ticket-subject")).to_have_text(ticket.subject)


def test_a_refused_reply_focuses_the_error_summary_at_the_form(
    live_asgi, new_page, sign_in, agent, open_ticket
):
    # A short window: the reply box sits below the conversation, out of view at first.
    page = new_page(width=1000, height=600)
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    _ticket_page(page, live_asgi, open_ticket)
    page.get_by_role("button", name="Send public reply").click()

    summary = page.locator(".reply-form [data-error-summary]")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link")).to_have_text(re.compile(r"Your message: This field is required"))
    focused = _focused(page)
    assert "error-summary" in focused["cls"] and focused["inView"], focused
    box = page.get_by_label("Your message")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_attribute("aria-describedby", re.compile(r"\bid_body_error\b"))
    expect(page.locator("#id_body_error")).to_have_text("This field is required.")
    screenshot(page, "reply-error-summary")

    # The summary's link takes the person to the field itself.
    summary.get_by_role("link").click()
    focused = _focused(page)
    assert focused["id"] == "id_body" and focused["inView"], focused


def test_a_form_with_several_problems_counts_them_and_links_each(live_asgi, new_page, sign_in, requester):
    page = new_page()
    sign_in(page, live_asgi, requester.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{requester.workspace.slug}/tickets/new/")
    page.get_by_role("button", name="Open ticket").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text(re.compile(r"There are \d+ problems"))
    links = summary.get_by_role("link")
    assert links.count() >= 2
    assert "error-summary" in _focused(page)["cls"]
    invalid = page.locator('[aria-invalid="true"]')
    assert invalid.count() == links.count()
    screenshot(page, "new-ticket-error-summary")


def test_a_draft_survives_a_reload_and_goes_after_a_successful_send(
    live_asgi, new_page, sign_in, agent, open_ticket
):
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    _ticket_page(page, live_asgi, open_ticket)
    key = _draft_key(agent, open_ticket)
    page.get_by_label("Your message").fill(DRAFT)
    page.wait_for_function("key => window.localStorage.getItem(key) !== null", arg=key)

    page.reload()
    expect(page.get_by_label("Your message")).to_have_value(DRAFT)
    expect(page.locator(".draft-note")).to_contain_text("restored")
    screenshot(page, "reply-draft-restored")

    page.get_by_role("button", name="Send public reply").click()
    expect(page.locator("ul.flashes")).to_contain_text("Your reply was posted")
    expect(page.locator("#message-list")).to_contain_text("Restart the router")
    assert _stored(page, key) is None
    page.reload()
    expect(page.get_by_label("Your message")).to_have_value("")
    expect(page.locator(".draft-note")).to_have_count(0)


def test_a_send_refused_after_access_was_lost_keeps_the_draft(
    live_asgi, new_page, sign_in, agent, queue, open_ticket
):
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    _ticket_page(page, live_asgi, open_ticket)
    key = _draft_key(agent, open_ticket)
    page.get_by_label("Your message").fill(DRAFT)

    # The agent loses the queue between typing and sending: the send is refused with a 404.
    off_loop(remove_perm, QUEUE_PERMISSION, agent.user, queue)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Send public reply").click()
    assert posted.value.status == 404
    expect(page.get_by_role("heading", name="Your message was not sent")).to_be_visible()
    expect(page.get_by_label("Your message (not sent)")).to_have_value(DRAFT)
    assert _stored(page, key) == DRAFT

    # Access comes back: the ticket page offers the text again.
    off_loop(assign_perm, QUEUE_PERMISSION, agent.user, queue)
    _ticket_page(page, live_asgi, open_ticket)
    expect(page.get_by_label("Your message")).to_have_value(DRAFT)


def test_a_refused_attachment_keeps_the_text_and_the_draft(
    live_asgi, new_page, sign_in, agent, open_ticket, tmp_path
):
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    _ticket_page(page, live_asgi, open_ticket)
    key = _draft_key(agent, open_ticket)
    page.get_by_label("Your message").fill(DRAFT)
    refused = tmp_path / "run.exe"
    refused.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    page.locator("input[type=file]").set_input_files(str(refused))
    page.get_by_role("button", name="Send public reply").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    expect(page.get_by_label("Your message")).to_have_value(DRAFT)
    assert "error-summary" in _focused(page)["cls"]
    assert _stored(page, key) == DRAFT


def test_signing_out_clears_every_draft(live_asgi, new_page, sign_in, agent, open_ticket):
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    _ticket_page(page, live_asgi, open_ticket)
    page.get_by_label("Your message").fill(DRAFT)
    page.wait_for_function(
        "key => window.localStorage.getItem(key) !== null", arg=_draft_key(agent, open_ticket)
    )
    # Typed just before signing out: the pending save must not write the draft back.
    page.get_by_label("Your message").type(" And the cable.")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/|/$"))
    page.wait_for_load_state("load")
    left = page.evaluate(
        "() => Object.keys(window.localStorage).filter(k => k.startsWith('helpdesk-draft:'))"
    )
    assert left == []


def test_a_new_tickets_description_is_kept_until_the_ticket_is_opened(
    live_asgi, new_page, sign_in, requester, queue
):
    page = new_page()
    sign_in(page, live_asgi, requester.user.email, PASSWORD)
    page.goto(f"{live_asgi}/w/{requester.workspace.slug}/tickets/new/")
    key = f"helpdesk-draft:{requester.user.pk}:{requester.workspace.slug}:new-ticket"
    page.get_by_label("Description").fill(DRAFT)
    page.wait_for_function("key => window.localStorage.getItem(key) !== null", arg=key)
    page.reload()
    expect(page.get_by_label("Description")).to_have_value(DRAFT)

    # Refused (no subject): the text stays in the box and in the draft.
    page.get_by_role("button", name="Open ticket").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value(DRAFT)
    assert _stored(page, key) == DRAFT

    page.get_by_label("Subject").fill("Router")
    page.get_by_label("Queue").select_option(label=queue.name)
    page.get_by_role("button", name="Open ticket").click()
    expect(page).to_have_url(re.compile(r"/tickets/\d+/$"))
    assert _stored(page, key) is None
