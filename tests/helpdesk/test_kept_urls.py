"""``{% url %}`` (helpdesk/templatetags/url_tags.py, a template builtin) and ``{% static %}``
(helpdesk/static_storage.py) keep what they computed per process; what they answer is what
Django's own would."""

import pytest
from django.template import engines
from django.urls import NoReverseMatch, reverse
from whitenoise.storage import CompressedManifestStaticFilesStorage

from helpdesk.static_storage import StaticFiles
from helpdesk.templatetags.url_tags import _reverse


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def test_a_url_is_reversed_once_and_then_kept():
    _reverse.cache_clear()
    source = '{% url "ticket_detail" slug number %}'
    first = render(source, slug="acme", number=12)
    assert first == reverse("ticket_detail", args=["acme", 12])
    assert render(source, slug="acme", number=12) == first
    assert _reverse.cache_info().hits == 1
    assert render(source, slug="acme", number=13) == reverse("ticket_detail", args=["acme", 13])
    assert _reverse.cache_info().misses == 2


class Named:
    """Not text: what it makes of itself could change, as a model instance's could."""

    def __str__(self):
        return "acme"


def test_an_argument_that_is_not_text_or_a_number_is_reversed_every_time():
    _reverse.cache_clear()
    assert render('{% url "ticket_detail" slug 3 %}', slug=Named()) == reverse(
        "ticket_detail", args=["acme", 3]
    )
    assert _reverse.cache_info().currsize == 0


def test_as_variable_and_errors_are_django_s():
    assert render('{% url "account" as link %}[{{ link }}]') == f"[{reverse('account')}]"
    assert render('{% url "no-such-view" as link %}[{{ link }}]') == "[]"
    with pytest.raises(NoReverseMatch):
        render('{% url "no-such-view" %}')


def test_a_static_url_is_looked_up_once(monkeypatch):
    looked_up = []

    def parent_url(self, name, force=False):
        looked_up.append(name)
        if name == "missing.css":
            raise ValueError("Missing staticfiles manifest entry")
        return f"/static/{name}.abc123"

    monkeypatch.setattr(CompressedManifestStaticFilesStorage, "url", parent_url)
    storage = StaticFiles()
    assert storage.url("css/app.css") == storage.url("css/app.css") == "/static/css/app.css.abc123"
    assert looked_up == ["css/app.css"]
    for _ in range(2):
        with pytest.raises(ValueError, match="manifest"):
            storage.url("missing.css")
    assert looked_up == ["css/app.css", "missing.css", "missing.css"]
