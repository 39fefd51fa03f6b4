"""``{% load form_tags %}``: the error summary at the top of a form that came back with errors
(WCAG 3.3.1, the GOV.UK error-summary pattern): one line per problem, linked to its field."""

from dataclasses import dataclass

from django import template

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
