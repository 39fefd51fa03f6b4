"""``{% load number_tags %}``: counts as the reader's language writes them."""

from django import template
from django.utils import formats

register = template.Library()


@register.filter
def grouped(number) -> str:
    """A count with the reader's language's thousands separator ("1,129"; "1 129" in French)."""
    return formats.number_format(number, force_grouping=True)
