"""helpdesk/jinja.py: the Jinja2 pages (the ticket list) next to Django's engine. Their templates
parse, their texts are translated and extracted by ``make messages``, the page chrome both
engines render is the same markup, and a page has one CSRF input however many forms it has."""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template import engines
from django.utils import translation

from helpdesk.management.commands.makemessages import jinja_as_python
from tests.tickets.ticket_helpers import url

JINJA = Path(settings.BASE_DIR) / "templates" / "jinja2"
LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]


def jinja_templates() -> list[str]:
    return [str(path.relative_to(JINJA)) for path in sorted(JINJA.rglob("*.jinja"))]


def test_every_jinja_template_parses():
    assert "tickets/ticket_list.jinja" in jinja_templates()
    for name in jinja_templates():
        engines["jinja2"].get_template(name)


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_text_of_the_jinja_templates_is_in_the_catalog_translated(code):
    catalog = {entry.msgid: entry for entry in polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))}
    env = engines["jinja2"].env
    missing = []
    for name in jinja_templates():
        source = (JINJA / name).read_text(encoding="utf-8")
        for _line, _function, message in env.extract_translations(source):
            msgid = message if isinstance(message, str) else message[0]
            entry = catalog.get(msgid)
            if entry is None or not (entry.msgstr or entry.msgstr_plural):
                missing.append((name, msgid))
    assert missing == []


def test_make_messages_reads_a_jinja_template_s_calls_on_their_lines():
    source = (
        '<p>{{ _("Hello") }}</p>\n'
        "\n"
        '{{ _("Hi %(name)s", name=user.name) }} {{ ngettext("%(num)s ticket", "%(num)s tickets", n) }}\n'
    )
    assert jinja_as_python(source).splitlines() == [
        "gettext('Hello')",
        "",
        "gettext('Hi %(name)s'); ngettext('%(num)s ticket', '%(num)s tickets', n)",
    ]


def test_translated_texts_are_trusted_and_values_escaped_as_django_does():
    template = engines["jinja2"].from_string('{{ _("No tickets in “%(name)s” right now.", name=name) }}')
    with translation.override("de"):
        html = template.render({"name": "<b>x</b>"})
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html
    assert html != "No tickets in “&lt;b&gt;x&lt;/b&gt;” right now."  # in German


def test_kept_translations_follow_the_language_of_each_render():
    template = engines["jinja2"].from_string('{{ _("Send reply") }}|{{ gettext("Send reply") }}')
    shown = {}
    for code in ("en", "de", "en", "fr", "de"):
        with translation.override(code):
            shown.setdefault(code, set()).add(template.render({}))
            text = translation.gettext("Send reply")
            assert template.render({}) == f"{text}|{text}"
    assert all(len(texts) == 1 for texts in shown.values())
    assert len({text for texts in shown.values() for text in texts}) == 3  # three languages, three texts


def test_a_text_without_values_is_still_a_format_string_as_new_style_gettext_has_it():
    assert engines["jinja2"].from_string('{{ _("Done: 100%%") }}').render({}) == "Done: 100%"


def _chrome(html: str) -> str:
    """The top bar and footer of a page, with the per-page CSRF token and language path out."""
    top = re.search(r'<a class="skip-link".*?</header>', html, re.S)[0]
    footer = re.search(r'<footer class="footer container">.*?</footer>', html, re.S)[0]
    return re.sub(r'(name="csrfmiddlewaretoken" value|name="next" value)="[^"]*"', r'\1=""', top + footer)


def test_the_jinja_list_and_a_django_page_show_the_same_chrome(workspace, agent, login):
    client = login(agent)
    jinja_page = client.get(url(workspace)).content.decode()
    django_page = client.get(url(workspace, "new/")).content.decode()
    assert "Sign out" in _chrome(jinja_page) and workspace.name in _chrome(jinja_page)
    assert _chrome(jinja_page) == _chrome(django_page)


def test_a_jinja_page_has_one_csrf_token_for_its_forms(workspace, agent, login):
    html = login(agent).get(url(workspace)).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert len(tokens) >= 3  # sign out, save this view, the bulk bar
    assert len(set(tokens)) == 1
