"""Switching the interface's language with the footer's switcher, by keyboard, signed out and in."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import off_loop, screenshot

pytestmark = pytest.mark.e2e


def test_a_visitor_switches_to_german_and_a_signed_in_agent_to_french(live_asgi, new_page, sign_in, settings):
    page = new_page()
    page.goto(f"{live_asgi}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Keyboard only: the language buttons are ordinary buttons in the footer's form.
    deutsch = page.get_by_role("button", name="Deutsch")
    expect(deutsch).to_have_attribute("lang", "de")
    deutsch.focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    expect(page.get_by_role("button", name="Deutsch")).to_have_attribute("aria-current", "true")

    # A form that comes back with an error says so in German too.
    page.get_by_label("E-Mail").fill("nobody@example.test")
    page.get_by_label("Passwort").fill("not-the-password")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("alert")).to_contain_text("passen zu keinem aktiven Konto")
    screenshot(page, "language-de-sign-in-error")

    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    off_loop(call_command, "seed_demo", password="demo-password", verbosity=0)
    settings.DEBUG = False
    agent = new_page(width=390, height=844)  # a phone: the longest words must still fit
    sign_in(agent, live_asgi, "agent@acme.test", "demo-password")
    agent.get_by_role("button", name="Français").click()
    agent.wait_for_load_state("networkidle")
    expect(agent.locator("html")).to_have_attribute("lang", "fr")
    expect(agent.get_by_role("heading", name="Tickets")).to_be_visible()
    expect(agent.get_by_role("link", name="Nouveau ticket")).to_be_visible()
    screenshot(agent, "language-fr-ticket-list-phone")

    # Saved to the profile: the account page offers it and says so in French.
    agent.goto(f"{live_asgi}/account/")
    expect(agent.get_by_role("heading", name="Mon compte", exact=True)).to_be_visible()
    expect(agent.locator("#id_profile-language")).to_have_value("fr")
    agent.locator("#id_profile-display_name").fill("")
    agent.get_by_role("button", name="Enregistrer le profil").click()
    agent.wait_for_load_state("networkidle")
    expect(agent.locator(".error-summary")).to_contain_text("Il y a un problème")
    screenshot(agent, "language-fr-profile-error-phone")

    # Back to German on a phone: the ticket page's long words (Warteschlange, Bearbeiter) still fit.
    agent.get_by_role("button", name="Deutsch").click()
    agent.wait_for_load_state("networkidle")
    agent.goto(f"{live_asgi}/w/acme/tickets/")
    agent.locator("table.list a[href*='/tickets/']").first.click()
    agent.wait_for_load_state("networkidle")
    expect(agent.locator("html")).to_have_attribute("lang", "de")
    expect(agent.get_by_role("complementary", name="Ticketdetails")).to_be_visible()
    screenshot(agent, "language-de-ticket-phone")
