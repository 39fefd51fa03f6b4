"""``{% load form_tags %}``: a form's fields (``form_fields``), and the error summary at the top of
a form that came back with errors (WCAG 3.3.1, the GOV.UK error-summary pattern): one line per
problem, linked to its field."""

from dataclasses import dataclass

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@dataclass(frozen=True)
class Problem:
    message: str
    # The id of the field to jump to; empty for an error of the whole form (or of a field the
    # person cannot see), which is listed without a link.
    target: str = ""
    label: str = ""


@register.filter
def form_problems(form) -> list[Problem]:
    """Every error of ``form`` in the order the fields appear, the form's own errors first."""
    if form is None or not getattr(form, "is_bound", False) or not form.errors:
        return []
    problems = [Problem(str(message)) for message in form.non_field_errors()]
    for field in form:
        if not field.errors:
            continue
        target = "" if field.is_hidden else (field.id_for_label or field.auto_id or "")
        label = "" if field.is_hidden else str(field.label or "")
        problems += [Problem(str(message), target, label) for message in field.errors]
    return problems


@register.simple_tag
def form_fields(form):
    """A form's fields with labels, help text and error text tied to the input
    (``templates/form_fields.html``), written in Python: as a template loop it was a fifth of a
    ticket page's rendering (three forms, 7 ms a view). A form that came back with errors starts
    with the error summary; Django marks each invalid input aria-invalid and points its
    aria-describedby at the one ``<id>_error`` element written here."""
    parts = []
    if form_problems(form):
        parts.append(render_to_string("form_error_summary.html", {"form": form}))
    parts += [str(field) for field in form.hidden_fields()]
    for field in form.visible_fields():
        parts.append(_field_html(field))
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 - each part escaped where it is made


def _field_html(field) -> str:
    errors = field.errors
    checkbox = field.widget_type == "checkbox"
    classes = "field" + (" field-invalid" if errors else "") + (" field-checkbox" if checkbox else "")
    if checkbox:
        body = format_html('{} <label for="{}">{}</label>', field, field.id_for_label, field.label)
    elif field.field.required:
        body = format_html(
            '<label for="{}">{} <span class="required" aria-hidden="true">*</span></label>\n    {}',
            field.id_for_label,
            field.label,
            field,
        )
    else:
        body = format_html('<label for="{}">{}</label>\n    {}', field.id_for_label, field.label, field)
    help_html = ""
    if field.help_text:
        # Help texts are the developers' (form classes, Django's password validators); one that
        # holds data (the sign-up policies' titles) is built with format_html, escaping it.
        help_text = mark_safe(field.help_text)  # noqa: S308  # nosec B308 B703 - see above
        help_html = format_html('<p class="help" id="{}_helptext">{}</p>', field.auto_id, help_text)
    error_html = ""
    if errors:
        joined = format_html_join(" ", "{}", ((error,) for error in errors))
        error_html = format_html('<p class="error" id="{}_error">{}</p>', field.auto_id, joined)
    return format_html('<div class="{}">\n    {}{}{}\n  </div>\n', classes, body, help_html, error_html)
