"""Showing tags and custom field values (issue 13)."""

import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

from tickets.custom_fields import TRUE
from tickets.models import FieldKind

register = template.Library()


@register.simple_tag
def field_value(shown) -> str:
    """A stored value as a person reads it: "Yes" for a ticked checkbox, a date in the active
    language's format, a number with its decimals. Escaped by the template like any string."""
    kind, value = shown.field.kind, shown.value
    if kind == FieldKind.CHECKBOX:
        return _("Yes") if value == TRUE else _("No")
    if kind == FieldKind.DATE:
        try:
            return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
        except ValueError:
            return value
    if kind == FieldKind.NUMBER:
        try:
            return formats.number_format(Decimal(value), use_l10n=True)
        except InvalidOperation:
            return value
    return value
