"""The catalogs are complete and compiled, and no template shows words outside a translation tag.

A string added later without a translation (or a template sentence not marked for translation)
fails here, so the interface cannot drift back into half English. README "Languages".
"""

import gettext
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.helpdesk.template_text import templates_with_untranslated_text, untranslated

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
# %(name)s, {name}, and the tags a translation must keep.
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}|</?[a-z]+[^>]*>")


def _catalog(code: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(code):
    catalog = _catalog(code)
    assert len(catalog) > 900
    assert catalog.untranslated_entries() == []
    assert catalog.fuzzy_entries() == []
    assert [e.msgid for e in catalog.obsolete_entries()] == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_translations_keep_every_placeholder_and_tag(code):
    broken = []
    for entry in _catalog(code):
        pairs = (
            [(entry.msgid, entry.msgstr)]
            if not entry.msgid_plural
            else [(entry.msgid if i == 0 else entry.msgid_plural, s) for i, s in entry.msgstr_plural.items()]
        )
        for source, text in pairs:
            if sorted(set(PLACEHOLDER.findall(source))) != sorted(set(PLACEHOLDER.findall(text))):
                broken.append(source)
    assert broken == []


# Inbound mail threads a reply by the "[#n]" of its subject (tickets/mail/threading.py), and mail
# clients group on "Re:": a translation keeps both where the English has them.
SUBJECT_MARKERS = re.compile(r"^(Re: )?\[#%\(number\)s\]")


@pytest.mark.parametrize("code", LANGUAGES)
def test_email_subjects_keep_their_ticket_marker(code):
    subjects = [e for e in _catalog(code) if SUBJECT_MARKERS.match(e.msgid)]
    assert len(subjects) >= 6
    assert [
        e.msgid
        for e in subjects
        if SUBJECT_MARKERS.match(e.msgid)[0] != (SUBJECT_MARKERS.match(e.msgstr) or [""])[0]
    ] == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_compiled_catalog_matches_its_source(code):
    """django.mo is what Django reads: it must say exactly what django.po says (run `make messages`)."""
    with open(LOCALE / code / "LC_MESSAGES" / "django.mo", "rb") as compiled:
        mo = gettext.GNUTranslations(compiled)
    for entry in _catalog(code):
        if entry.msgid_plural:
            for n, text in (
                (1, entry.msgstr_plural[0]),
                (5, entry.msgstr_plural[len(entry.msgstr_plural) - 1]),
            ):
                assert mo.ngettext(entry.msgid, entry.msgid_plural, n) == text, entry.msgid
        elif entry.msgctxt:
            assert mo.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        else:
            assert mo.gettext(entry.msgid) == entry.msgstr, entry.msgid


def test_no_template_shows_words_outside_a_translation_tag():
    # Django's and, in templates/jinja2, Jinja2's (helpdesk/jinja.py).
    assert templates_with_untranslated_text(Path(settings.BASE_DIR) / "templates") == {}


def test_the_checker_finds_unmarked_text_attributes_and_fallbacks():
    assert untranslated("<p>Hello</p>") == ["Hello"]
    assert untranslated('<button aria-label="Close">×</button>') == ['aria-label="Close"']
    assert untranslated('{% include "x.html" with label="Save it" %}') == ['label="Save it"']
    assert untranslated('{{ name|default:"Someone" }}') == ['default:"Someone"']
    # Marked text, code, CSS classes and comments pass.
    assert untranslated('<p>{% translate "Hello" %}</p><a title="{% translate "Go" %}">·</a>') == []
    assert untranslated("{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}{# Note #}") == []
    assert untranslated("{% block main_class %}narrow{% endblock %}<script>var a = 'x';</script>") == []
