"""The one way a view shows a service's refusal to the person.

Services refuse in two ways: Django's ``ValidationError`` (keyed by field when the problem belongs
to one input, as ``full_clean()`` raises it) and ``helpdesk.errors.UserFacingError`` (a sentence
for the person, not tied to an input). A view that re-renders a form hands the error to
``apply_service_errors``; a view that redirects shows ``service_error_message`` as a flash.
Either way the person reads the service's own words, in the place they belong.
"""

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError

from helpdesk.errors import UserFacingError


def apply_service_errors(
    form: forms.BaseForm,
    error: ValidationError | UserFacingError,
    *,
    fields: Mapping[str, str] | None = None,
) -> None:
    """Show ``error`` on a validated ``form``.

    A keyed error goes on the form's field of that name (after renaming it through ``fields``,
    for a model field the form spells differently); a key the form has no field for, an unkeyed
    ``ValidationError`` and a ``UserFacingError`` become non-field errors. Codes and params of
    each ``ValidationError`` are kept, so templates and tests see what the service raised.
    """
    if isinstance(error, UserFacingError):
        form.add_error(None, error.message)
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    renames = fields or {}
    for key, errors in error.error_dict.items():
        name = renames.get(key, key)
        form.add_error(name if name in form.fields else None, errors)


def service_error_message(error: ValidationError | UserFacingError) -> str:
    """The refusal as one line for a flash message or an error page."""
    if isinstance(error, UserFacingError):
        return error.message
    return " ".join(error.messages)
