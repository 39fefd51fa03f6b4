"""Forms for tags and custom fields (issue 13): the ticket page's tags box and fields form, the
custom fields asked on a requester's new ticket, and the admins' field definitions."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tickets.custom_fields import MAX_OPTIONS, OPTIONS_NEEDED, OPTIONS_TOO_MANY, clean_value, value_for_form
from tickets.models import CUSTOM_FIELD_LABEL_MAX_LENGTH, CUSTOM_FIELD_VALUE_MAX_LENGTH, FieldKind
from tickets.tags import split_tag_list

SHOWN_TO_REQUESTER = _("Shown to the requester")
MAY_BE_PERSONAL = _("May hold personal data")
TAGS_HELP = _("Separate tags with commas, for example: billing, vip. Remove a tag by deleting it here.")


def suggest_attrs(url: str, *, multiple: bool) -> dict:
    """The attributes static/js/tags.js turns into a combobox (its texts translated here)."""
    attrs = {
        "autocomplete": "off",
        "data-tag-suggest": url,
        "data-tag-list-label": _("Tag suggestions"),
        "data-tag-found": _("{n} suggestions. Up and down to choose, Enter to pick."),
        "data-tag-picked": _("{name} added."),
    }
    if multiple:
        attrs["data-tag-multiple"] = "true"
    return attrs


class TicketTagsForm(forms.Form):
    """The tags of a ticket as comma-separated text (what the page shows without JavaScript;
    static/js/tags.js adds suggestions). ``seen`` is the list the form showed, so only what the
    person changed is applied."""

    tags = forms.CharField(label=_("Edit tags"), required=False, max_length=2000, help_text=TAGS_HELP)
    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args, suggest_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].widget.attrs.update(suggest_attrs(suggest_url, multiple=True))

    def clean_tags(self):
        try:
            return split_tag_list(self.cleaned_data["tags"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None

    def clean_seen(self):
        try:
            return split_tag_list(self.cleaned_data["seen"])
        except ValidationError:
            return []


# Custom field values ------------------------------------------------------------------------


def field_name(field) -> str:
    return f"cf_{field.pk}"


def form_field_for(field, *, enforce_required: bool = True, staff_notes: bool = True) -> forms.Field:
    """The Django form field that asks ``field``'s value (validation by kind; the service
    checks again with ``clean_value``)."""
    required = field.required and enforce_required
    # Staff see who else sees the value and whether it may be personal (translated texts only:
    # form_fields.html shows help text unescaped, so an admin's words never go here).
    notes = []
    if staff_notes and field.visible_to_requesters:
        notes.append(str(SHOWN_TO_REQUESTER))
    if staff_notes and field.personal:
        notes.append(str(MAY_BE_PERSONAL))
    common = {"label": field.label, "required": required, "help_text": " · ".join(notes)}
    if field.kind == FieldKind.NUMBER:
        return forms.DecimalField(max_digits=24, decimal_places=9, **common)
    if field.kind == FieldKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if field.kind == FieldKind.DROPDOWN:
        choices = [("", _("Choose…")), *((o, o) for o in field.options)]
        return forms.ChoiceField(choices=choices, **common)
    if field.kind == FieldKind.CHECKBOX:
        return forms.BooleanField(**common)
    return forms.CharField(max_length=CUSTOM_FIELD_VALUE_MAX_LENGTH, **common)


def add_value_fields(
    form: forms.Form, fields, *, values=None, before: str | None = None, staff_notes: bool = True
) -> None:
    """Add a form field for each custom field (named ``cf_<id>``), with ``values`` (``{field id:
    stored text}``) as initial values; inserted before the field named ``before`` if given.
    ``staff_notes``: say under each field whether requesters see it and whether it may be
    personal (off on a requester's form)."""
    values = values or {}
    for field in fields:
        form.fields[field_name(field)] = form_field_for(field, staff_notes=staff_notes)
        stored = values.get(field.pk, "")
        if stored:
            form.initial[field_name(field)] = value_for_form(field, stored)
    if before and before in form.fields:
        others = [n for n in form.fields if not n.startswith("cf_")]
        cut = others.index(before)
        form.order_fields([*others[:cut], *(field_name(f) for f in fields), *others[cut:]])


def posted_values(form: forms.Form, fields) -> dict:
    """``{field id: cleaned value}`` of the custom fields of a valid form."""
    return {field.pk: form.cleaned_data.get(field_name(field)) for field in fields}


class TicketFieldsForm(forms.Form):
    """Staff: the values of the workspace's active custom fields on one ticket."""

    def __init__(self, *args, fields, values=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_fields = list(fields)
        add_value_fields(self, self.custom_fields, values=values)

    def clean(self):
        data = super().clean()
        for field in self.custom_fields:
            name = field_name(field)
            if name in data:
                try:
                    clean_value(field, data[name])
                except ValidationError as error:
                    self.add_error(name, error.messages)
        return data


# Field definitions (admins) -----------------------------------------------------------------


class CustomFieldForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=CUSTOM_FIELD_LABEL_MAX_LENGTH)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=FieldKind.choices,
        help_text=_("Cannot be changed once the field exists."),
    )
    options = forms.CharField(
        label=_("Options (dropdown only)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One option per line, in the order they are offered."),
    )
    required = forms.BooleanField(
        label=_("Required"),
        required=False,
        help_text=_(
            "Staff must fill it in when they save a ticket's fields; requesters too when they open a "
            "ticket, if it is visible to them. A required checkbox must be ticked."
        ),
    )
    visible_to_requesters = forms.BooleanField(
        label=_("Visible to requesters"),
        required=False,
        help_text=_("Requesters see its value on their tickets and are asked for it when they open one."),
    )
    personal = forms.BooleanField(
        label=_("May hold personal data"),
        required=False,
        help_text=_(
            "Its values are exported with the requester's data and erased when the ticket is "
            "anonymized or the requester deletes their account."
        ),
    )
    position = forms.IntegerField(
        label=_("Order"),
        min_value=0,
        max_value=10_000,
        required=False,
        help_text=_("Lower numbers come first."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The kind is fixed: stored values were validated for it.
            del self.fields["kind"]

    def clean(self):
        data = super().clean()
        kind = data.get("kind") or self.initial.get("kind")
        options = [o.strip() for o in (data.get("options") or "").splitlines() if o.strip()]
        if kind == FieldKind.DROPDOWN and not options:
            self.add_error("options", OPTIONS_NEEDED)
        if len(options) > MAX_OPTIONS:
            self.add_error("options", OPTIONS_TOO_MANY.format(limit=MAX_OPTIONS))
        return data
