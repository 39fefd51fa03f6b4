"""``{% load text_tags %}``: people's text shown inline (subjects, names) without bidi tricks."""

from django import template

from helpdesk.text import inline_text, strip_bidi

register = template.Library()


@register.filter(name="inline_text")
def inline_text_filter(value):
    """Escaped, bidirectional controls stripped, isolated in ``<bdi>`` (see helpdesk.text)."""
    return inline_text(value)


@register.filter(name="strip_bidi")
def strip_bidi_filter(value):
    """Bidirectional controls stripped, for places where ``<bdi>`` cannot go (``<title>``, an
    attribute) or where the element is already isolated (``<bdi id=...>``, a block)."""
    return strip_bidi("" if value is None else str(value))
