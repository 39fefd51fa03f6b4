"""``{% load fragment_tags %}``: fragments that are the same on every page in a language.

The texts the scripts show (``script_texts.html``, on every page) and the keyboard shortcuts
dialog are nothing but translations: a few dozen ``{% translate %}`` nodes, each a lookup through
the active language, on every view. ``{% language_fragment %}`` renders such a template once per
process, language and arguments, and gives the same text after that.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import get_language

register = template.Library()

_rendered: dict = {}


@register.simple_tag
def language_fragment(template_name: str, **values):
    """``template_name`` rendered with ``values`` alone: no request, no user, no page context.
    Only for a template whose output depends on nothing else than the language (with DEBUG on,
    rendered each time, so an edited template shows at once)."""
    key = (template_name, get_language(), tuple(sorted(values.items())))
    rendered = None if settings.DEBUG else _rendered.get(key)
    if rendered is None:
        rendered = _rendered[key] = render_to_string(template_name, values)
    return rendered
