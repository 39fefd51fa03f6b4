"""What every Jinja2 template may call besides Jinja2's own (helpdesk/jinja.py): the same
functions as the Django template filters and tags of helpdesk/templatetags."""

from django.template import defaultfilters
from django.template.loader import render_to_string
from django.utils.timezone import template_localtime

from helpdesk.templatetags.form_tags import form_fields, form_problems
from helpdesk.templatetags.number_tags import grouped
from helpdesk.templatetags.text_tags import inline_text_filter, strip_bidi_filter


def date(value, format_string=None):
    """Django's ``date`` filter, in the reader's zone as Django's engine shows a datetime."""
    return defaultfilters.date(template_localtime(value), format_string)


def django_template(template_name: str, **values):
    """A Django template (one the other pages include too) rendered with ``values``."""
    return render_to_string(template_name, values)


GLOBALS = {"form_fields": form_fields, "django_template": django_template}
FILTERS = {
    "date": date,
    "form_problems": form_problems,
    "grouped": grouped,
    "inline_text": inline_text_filter,
    "strip_bidi": strip_bidi_filter,
}
