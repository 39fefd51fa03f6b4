"""@mentions with three people in three browsers: agent Alex types "@Da" in the reply box, picks
Dana from the autocomplete with the keyboard and adds an internal note; Dana, whose ticket page
is open, sees the note arrive live with her mention highlighted and has an email; the requester,
whose page is open too, sees no note and gets no email. And the digest choice on /account/."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from privacy.account.models import NotificationPreferences
from tests.e2e.conftest import ARTIFACTS, off_loop, screenshot
from tests.factories import PASSWORD
from tests.tickets.ticket_helpers import agent_of, new_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fresh_channel_layer")]


def open_ticket(page, base, workspace, ticket):
    page.goto(f"{base}/w/{workspace.slug}/tickets/{ticket.number}/")
    expect(page.locator("#live-indicator")).to_have_text("Live")


def test_an_agent_mentions_dana_in_a_note(live_asgi, new_page, sign_in, workspace, queue, agent, requester):
    agent.user.display_name = "Alex Krycek"
    agent.user.save()
    dana = agent_of(workspace, queue, display_name="Dana Scully")
    ticket = off_loop(new_ticket, requester, queue, subject="Lights flicker in room 42")
    mail.outbox = []

    dana_page = new_page()
    sign_in(dana_page, live_asgi, dana.user.email, PASSWORD)
    open_ticket(dana_page, live_asgi, workspace, ticket)
    requester_page = new_page()
    sign_in(requester_page, live_asgi, requester.user.email, PASSWORD)
    open_ticket(requester_page, live_asgi, workspace, ticket)
    expect(requester_page.locator("#mention-listbox")).to_have_count(0)
    refused = requester_page.request.get(
        f"{live_asgi}/w/{workspace.slug}/tickets/{ticket.number}/mentions/?q=Da"
    )
    assert refused.status == 404

    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    open_ticket(page, live_asgi, workspace, ticket)
    box = page.get_by_label("Your message")
    box.click()
    page.keyboard.type("Could you check the wiring, @")
    listbox = page.get_by_role("listbox", name="People to mention")
    option = listbox.get_by_role("option", name=re.compile("Dana Scully"))
    alex = listbox.get_by_role("option", name=re.compile("Alex Krycek"))
    expect(listbox.get_by_role("option")).to_have_count(2)  # the staff of the ticket's queue
    expect(alex).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    expect(alex).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    expect(alex).to_have_attribute("aria-selected", "true")
    page.keyboard.type("Da")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(option).to_be_visible()
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", f"mention-option-{dana.user.pk}")
    expect(page.locator("#mention-status")).to_contain_text("Suggestions: 1.")
    screenshot(page, "mention-autocomplete")

    # Escape closes the list; typing on opens it again; Enter picks.
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    page.keyboard.type("n")
    expect(option).to_be_visible()
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(f"Could you check the wiring, @[Dana Scully](user:{dana.user.pk}) ")
    expect(box).to_be_focused()
    page.keyboard.type("before Friday?")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".flashes")).to_contain_text("Your internal note was added")
    mention = page.locator("#message-list a.mention", has_text="@Dana Scully")
    expect(mention).to_be_visible()
    expect(mention).not_to_have_class(re.compile(r"\bmention-me\b"))  # Alex's page: not his mention

    # Dana: the note arrives without a reload, her mention marked as hers.
    own = dana_page.locator("#message-list .message-note a.mention.mention-me")
    expect(own).to_be_visible()
    expect(own).to_contain_text("@Dana Scully")
    expect(dana_page.locator("#message-list")).to_contain_text("before Friday?")
    screenshot(dana_page, "mention-dana-live")

    # The email went to Dana alone (the note was saved and committed before the page answered).
    assert [m.to for m in mail.outbox] == [[dana.user.email]]
    [email] = mail.outbox
    assert "Alex Krycek mentioned you" in email.subject and "Lights flicker in room 42" in email.subject
    assert "before Friday?" in email.body

    # The requester's open page never shows the note.
    requester_page.reload()
    expect(requester_page.locator("#message-list .message")).to_have_count(1)
    assert "before Friday?" not in requester_page.content()
    assert "Dana Scully" not in requester_page.content()


def test_choosing_the_hourly_digest_on_the_account_page(live_asgi, new_page, sign_in, agent):
    page = new_page()
    sign_in(page, live_asgi, agent.user.email, PASSWORD)
    page.goto(f"{live_asgi}/account/#notifications")
    group = page.get_by_role("group", name="How ticket emails reach me")
    expect(group.get_by_role("radio", name="An email for each event")).to_be_checked()
    expect(page.get_by_label("Email me when someone mentions me in an internal note")).to_be_checked()
    group.get_by_role("radio", name="One hourly digest").check()
    page.get_by_label("Email me when someone mentions me in an internal note").uncheck()
    page.get_by_role("button", name="Save notifications").click()
    expect(page.locator(".flashes")).to_contain_text("Your notification choices were saved.")
    group = page.get_by_role("group", name="How ticket emails reach me")
    expect(group.get_by_role("radio", name="One hourly digest")).to_be_checked()
    screenshot(page, "account-notification-digest")
    page.locator("#notifications").screenshot(path=f"{ARTIFACTS}/account-notification-digest-section.png")
    prefs = off_loop(NotificationPreferences.objects.get, user=agent.user)
    assert prefs.email_delivery == "hourly" and prefs.email_on_mention is False
