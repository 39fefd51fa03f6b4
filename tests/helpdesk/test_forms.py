"""``apply_service_errors`` and ``service_error_message``: a service's refusal, shown where it belongs."""

from django import forms
from django.core.exceptions import ValidationError

from helpdesk.errors import UserFacingError
from helpdesk.forms import apply_service_errors, service_error_message

NAME_TAKEN = "That name is already taken."
TOO_LATE = "The end date must lie in the future."
NOT_YOURS = "This link was sent to someone else."


class _Form(forms.Form):
    name = forms.CharField()
    ends_on = forms.DateField(required=False)


def _valid_form():
    form = _Form({"name": "Support", "ends_on": "2030-01-01"})
    assert form.is_valid()
    return form


def test_a_keyed_error_lands_on_its_field_and_leaves_cleaned_data():
    form = _valid_form()
    apply_service_errors(form, ValidationError({"name": ValidationError(NAME_TAKEN, code="unique")}))
    assert form.errors == {"name": [NAME_TAKEN]}
    assert form.has_error("name", code="unique")
    assert "name" not in form.cleaned_data
    assert not form.is_valid()


def test_a_key_the_form_lacks_becomes_a_non_field_error():
    form = _valid_form()
    apply_service_errors(form, ValidationError({"workspace": NAME_TAKEN, "__all__": TOO_LATE}))
    assert form.non_field_errors() == [NAME_TAKEN, TOO_LATE]
    assert set(form.errors) == {"__all__"}


def test_fields_renames_a_model_field_to_the_form_field():
    form = _valid_form()
    apply_service_errors(form, ValidationError({"ends_at": TOO_LATE}), fields={"ends_at": "ends_on"})
    assert form.errors == {"ends_on": [TOO_LATE]}


def test_an_unkeyed_error_is_a_non_field_error_with_every_message():
    form = _valid_form()
    apply_service_errors(form, ValidationError([NAME_TAKEN, ValidationError(TOO_LATE, code="late")]))
    assert form.non_field_errors() == [NAME_TAKEN, TOO_LATE]
    assert form.has_error("__all__", code="late")


def test_a_user_facing_error_is_a_non_field_error_in_its_own_words():
    form = _valid_form()

    class LinkError(UserFacingError):
        pass

    apply_service_errors(form, LinkError(NOT_YOURS))
    assert form.non_field_errors() == [NOT_YOURS]
    assert form.cleaned_data["name"] == "Support"


def test_service_error_message_joins_every_message():
    assert service_error_message(ValidationError([NAME_TAKEN, TOO_LATE])) == f"{NAME_TAKEN} {TOO_LATE}"
    assert service_error_message(ValidationError({"name": NAME_TAKEN, "ends_at": TOO_LATE})) == (
        f"{NAME_TAKEN} {TOO_LATE}"
    )
    assert service_error_message(ValidationError(NAME_TAKEN)) == NAME_TAKEN
    assert service_error_message(UserFacingError(NOT_YOURS)) == NOT_YOURS
