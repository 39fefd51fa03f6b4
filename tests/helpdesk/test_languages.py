"""The interface in the reader's language: pages (saved language, switcher cookie, browser),
emails in the recipient's language, live fragments in the viewer's, dates in the language."""

import io
import json
import re
import zipfile
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from helpdesk.languages import offered_languages
from helpdesk.timezones import override_for
from privacy.account.export import write_archive
from privacy.account.forms import ProfileForm
from privacy.audit import actions
from privacy.audit.models import AuditEvent
from tests.tickets.ticket_helpers import new_ticket, reply

# 13:00 UTC in winter is 14:00 in Paris (CET, UTC+1).
WINTER_NOON = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _english_after_each_test():
    yield
    # No test may leave another language active for the next one.
    assert translation.get_language() in (None, settings.LANGUAGE_CODE)


def _speak(membership, language, zone=""):
    membership.user.language = language
    membership.user.time_zone = zone
    membership.user.save(update_fields=["language", "time_zone"])


def test_exactly_the_translated_languages_are_offered_each_named_in_itself():
    assert offered_languages() == (
        ("en", "English"),
        ("de", "Deutsch"),
        ("es", "Español"),
        ("fr", "Français"),
    )
    assert ProfileForm().fields["language"].choices == list(offered_languages())


def test_a_german_users_ticket_list_is_in_german(login, ticket, requester, agent):
    _speak(agent, "de")
    page = login(agent).get(f"/w/{ticket.workspace.slug}/tickets/")
    html = page.content.decode()
    assert page.headers["Content-Language"] == "de"
    assert '<html lang="de">' in html
    assert "Tickets suchen und filtern" in html
    assert "Neues Ticket" in html
    assert "Abmelden" in html
    assert ">Neu<" in html  # the ticket's status
    assert "Search and filter tickets" not in html


def test_a_saved_language_beats_the_cookie_and_the_browser(login, client, requester):
    _speak(requester, "fr")
    login(requester)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    html = client.get("/account/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mon compte" in html and '<html lang="fr">' in html


def test_a_visitor_gets_the_browsers_language_when_offered_else_english(client, db):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5").content.decode()
    assert "Iniciar sesión" in html and '<html lang="es">' in html
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="it,nl;q=0.8").content.decode()
    assert "Sign in" in html and '<html lang="en">' in html


def test_the_switcher_changes_the_language_for_a_signed_out_visitor(client, db):
    page = client.get("/accounts/login/")
    html = page.content.decode()
    # Every language, named in itself and marked with its own language, in a CSRF-protected POST form.
    for code, name in (("de", "Deutsch"), ("fr", "Français"), ("es", "Español"), ("en", "English")):
        assert f'value="{code}" lang="{code}"' in html and f">{name}</button>" in html
    assert 'action="/language/"' in html and "csrfmiddlewaretoken" in html

    answer = client.post("/language/", {"language": "de", "next": "/accounts/login/"})
    assert answer.status_code == 302 and answer.url == "/accounts/login/"
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="de">' in html and "Passwort vergessen?" in html
    assert 'value="de" lang="de" class="link-button" aria-current="true"' in html


def test_the_switcher_never_sends_anyone_to_another_site(client, db):
    answer = client.post("/language/", {"language": "fr", "next": "https://evil.example/"})
    assert answer.status_code == 302 and answer.url == "/"
    answer = client.post("/language/", {"language": "xx", "next": "/accounts/login/"})
    assert settings.LANGUAGE_COOKIE_NAME not in answer.cookies  # an unknown language changes nothing


def test_a_signed_in_persons_choice_is_saved_to_their_profile_and_audited(login, client, requester):
    login(requester)
    client.post("/language/", {"language": "es", "next": "/account/"})
    requester.user.refresh_from_db()
    assert requester.user.language == "es"
    event = AuditEvent.objects.filter(action=actions.ACCOUNT_UPDATED, actor=requester.user).latest("pk")
    assert event.detail == {"fields": ["language"]}
    # The next page, and the profile form, follow the saved choice (the cookie is gone now).
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    html = client.get("/account/").content.decode()
    assert "Mi cuenta" in html and '<option value="es" selected>Español</option>' in html


def test_dates_are_written_in_the_readers_language(login, requester):
    requester.user.date_joined = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    requester.user.save(update_fields=["date_joined"])
    for language, month in (("de", "Dez"), ("fr", "Déc"), ("es", "Dic"), ("en", "Dec")):
        _speak(requester, language)
        html = login(requester).get("/account/").content.decode()
        assert f"2 {month} 2026" in html, language


def test_notification_emails_are_in_each_recipients_language(
    queue, agent, requester, after_commit, mailoutbox
):
    _speak(requester, "fr")
    _speak(agent, "en")
    with after_commit():
        ticket = new_ticket(requester, queue, subject="Imprimante en panne")
    (to_agent,) = [m for m in mailoutbox if m.to == [agent.user.email]]
    assert to_agent.subject.startswith("[#1] New ticket: ")
    assert "A new ticket arrived in the Support queue" in to_agent.body
    assert '<html lang="en">' in to_agent.alternatives[0][0]

    mailoutbox.clear()
    with after_commit():
        reply(ticket, agent, body="We are on it.")
    (to_requester,) = mailoutbox
    html = to_requester.alternatives[0][0]
    assert to_requester.subject == f"Re: [#{ticket.number}] Imprimante en panne"  # "Re:" stays, for threading
    assert "a répondu au ticket n° " in to_requester.body and "Lisez la conversation" in to_requester.body
    assert '<html lang="fr">' in html and "a répondu au ticket n°" in html and "We are on it." in html
    assert "replied on ticket" not in to_requester.body + html
    assert " at " not in to_requester.body  # the date is in the sentence's language too


def test_a_live_fragment_is_rendered_in_the_viewers_language(ticket, agent):
    _speak(agent, "fr")
    with override_for(agent.user):
        row = render_to_string("tickets/_ticket_row.html", {"ticket": ticket, "membership": agent})
    assert "Nouveau" in row and ">New<" not in row
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_the_exports_readable_summary_is_in_the_persons_language_and_zone(requester):
    _speak(requester, "fr", zone="Europe/Paris")
    requester.user.date_joined = WINTER_NOON
    requester.user.save(update_fields=["date_joined"])
    archive = io.BytesIO()
    write_archive(requester.user, archive)
    with zipfile.ZipFile(archive) as opened:
        summary = opened.read("summary.html").decode()
        data = opened.read("data.json").decode()
    assert '<html lang="fr">' in summary and "Vos données Helpdesk" in summary
    assert "<th>Membre depuis</th><td>15 Jan 2026, 14:00 CET</td>" in summary
    assert "2026-01-15T13:00:00+00:00" in data  # the machine-readable file keeps UTC


def test_the_scripts_texts_are_json_in_the_pages_language(client, db):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    block = re.search(r'<script type="application/json" id="script-texts">(.*?)</script>', html, re.S)
    texts = json.loads(block.group(1))
    assert texts["live.live"] == "En direct"
    assert texts["drafts.restored"] == "Votre texte non envoyé a été restauré."
    assert texts["attachments.too_large"] == (
        "« {name} » est trop volumineux ({size}). Chaque fichier peut faire au plus {limit}."
    )
