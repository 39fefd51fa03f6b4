"""Jinja2 for the two most opened pages (the ticket list and the ticket page), next to Django's
engine for the rest.

Django's template engine costs a few microseconds per node, tag and variable; on the ticket list
(agents' landing page, filters, search, requesters' "my tickets") its template took 2.8 of the
page's 9 ms at 10k tickets. Through Jinja2, which compiles a template to Python, the same markup
takes about 2.2 ms: what is left is mostly the Python it calls (rows, form widgets, translations).
Pages keep Django's engine unless their time says otherwise; ``templates/jinja2/chrome/*.jinja``
hold the page chrome (top bar, notices, footer) that both engines' base templates render, so it
is written once.

What holds on both sides:

- Autoescaping is on. Translated text works as Django's ``{% translate %}`` and
  ``{% blocktranslate %}``: the catalog's text is trusted markup, the values put in are escaped
  (Jinja's "new style" gettext: ``_("… %(name)s …", name=value)``).
- ``url()`` reverses through the same per-process cache as Django's ``{% url %}`` here
  (helpdesk/templatetags/url_tags.py).
- The test client sees the template and its context (``response.context``), as it does for
  Django's engine: ``template_rendered`` is sent once the test machinery is loaded (Django
  instruments its own engine only under tests too).
- ``make messages`` extracts the ``.jinja`` templates' texts too (helpdesk/management/commands/
  makemessages.py).
"""

import sys
from importlib import import_module

import jinja2
from django.core.signals import setting_changed
from django.template.backends import jinja2 as django_jinja2
from django.template.backends.utils import csrf_input, csrf_token_lazy
from django.templatetags.static import static
from django.utils import translation
from django.utils.translation import get_language
from markupsafe import Markup

from helpdesk.templatetags.fragment_tags import language_fragment
from helpdesk.templatetags.url_tags import kept_url


@jinja2.pass_context
def _url(context, view_name, *args, **kwargs) -> str:
    return kept_url(context.get("request"), view_name, *args, **kwargs)


# {language: {message: translation}}: a page asks for about 200 texts, each through three Jinja
# calls and Django's catalog lookups; the text a language gives a message does not change while
# the process runs (only a changed setting, in tests, reloads the catalogs).
_translated: dict[str | None, dict[str, str]] = {}
_TEXTS_KEPT = 5000  # per language: a template translating a value, not a literal, cannot grow it without end


def _forget_translations(*, setting, **kwargs):
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"):
        _translated.clear()


setting_changed.connect(_forget_translations, dispatch_uid="helpdesk.jinja.translations")


def _gettext_in(language: str | None):
    """Jinja's "new style" gettext (catalog text trusted, values escaped, always %-formatted) in
    ``language``, in one call and with the language's texts kept."""
    texts = _translated.setdefault(language, {})

    def gettext(message, **variables):
        text = texts.get(message)
        if text is None:
            text = translation.gettext(message)
            if len(texts) < _TEXTS_KEPT:
                texts[message] = text
        # The catalog's text is the page's markup, as Jinja's own gettext and Django's
        # {% translate %} have it; ``%`` escapes every value put in.
        return Markup(text) % variables  # noqa: S704  # nosec B704

    return gettext


@jinja2.pass_context
def _gettext(context, message, **variables):
    """``_gettext_in`` of the active language: a template rendered without ``Template.render``
    (a macro imported without context)."""
    return _gettext_in(get_language())(message, **variables)


def environment(*, helpers=(), **options) -> jinja2.Environment:
    """``helpers``: modules whose ``GLOBALS`` and ``FILTERS`` the templates may call (settings
    ``TEMPLATES``), e.g. an app's functions behind its Django template tags."""
    # A name a page does not have is empty, as in Django's engine, even followed by an attribute
    # ("user.is_authenticated" on a page rendered without a request).
    options["undefined"] = jinja2.ChainableUndefined
    options.pop("autoescape", None)  # always on, whatever a setting says
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(translation.gettext, translation.ngettext, newstyle=True)
    env.globals.update(gettext=_gettext, _=_gettext)
    env.globals.update(
        url=_url,
        static=static,
        get_language=get_language,
        language_fragment=language_fragment,
    )
    for path in helpers:
        module = import_module(path)
        env.globals.update(module.GLOBALS)
        env.filters.update(module.FILTERS)
    return env


class CsrfInput:
    """The CSRF token's hidden input, made when first printed and then reused: Django's lazy
    ``csrf_input`` masks the token anew on every print, and a page has up to four forms."""

    def __init__(self, request):
        self.request = request
        self.html = None

    def __html__(self) -> str:
        if self.html is None:
            self.html = csrf_input(self.request)
        return self.html

    __str__ = __html__


class Template(django_jinja2.Template):
    def render(self, context=None, request=None):
        """As Django's backend renders, with the CSRF input made once per page."""
        context = {} if context is None else context
        # The page's language, looked up once rather than for each of its ~200 texts.
        context["_"] = context["gettext"] = _gettext_in(get_language())
        if request is not None:
            context["request"] = request
            context["csrf_input"] = CsrfInput(request)
            context["csrf_token"] = csrf_token_lazy(request)
            for context_processor in self.backend.template_context_processors:
                context.update(context_processor(request))
        rendered = self.template.render(context)
        signals = sys.modules.get("django.test.signals")
        if signals is not None:
            # With the context the template saw, the context processors' values included.
            signals.template_rendered.send(sender=self, template=self, context=context)
        return rendered


class Jinja2(django_jinja2.Jinja2):
    def get_template(self, template_name):
        return Template(super().get_template(template_name).template, self)

    def from_string(self, template_code):
        return Template(self.env.from_string(template_code), self)
