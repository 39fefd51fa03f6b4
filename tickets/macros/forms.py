"""The macro form of the macros pages, and the reply box's "insert a macro" without JavaScript."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.macros.placeholders import PLACEHOLDERS, braced
from tickets.macros.services import TAG_MAX_LENGTH, TAGS_MAX, MacroValues
from tickets.models import MESSAGE_BODY_MAX_LENGTH, MessageKind, Priority, Status

SCOPE_PERSONAL = "personal"
SCOPE_SHARED = "shared"
TOO_MANY_TAGS = _("A macro can add at most %(max)s tags.")
TAG_TOO_LONG = _("A tag can be at most %(max)s characters long: “%(tag)s” is longer.")
FORM_OUT_OF_DATE = _("This form is out of date: reload the page and make your changes again.")


def placeholder_help() -> str:
    names = ", ".join(braced(name) for name in PLACEHOLDERS)
    return str(_("Markdown works. Placeholders filled in for each ticket: %(names)s.")) % {"names": names}


class TagsField(forms.CharField):
    """Tag names separated by commas; cleaned to a tuple without duplicates (case-insensitive)."""

    def clean(self, value):
        text = super().clean(value) or ""
        names, seen = [], set()
        for part in text.split(","):
            name = " ".join(part.split())
            if not name or name.lower() in seen:
                continue
            if len(name) > TAG_MAX_LENGTH:
                raise forms.ValidationError(TAG_TOO_LONG, params={"max": TAG_MAX_LENGTH, "tag": name[:60]})
            seen.add(name.lower())
            names.append(name)
        if len(names) > TAGS_MAX:
            raise forms.ValidationError(TOO_MANY_TAGS, params={"max": TAGS_MAX})
        return tuple(names)


class MacroForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Shown in the macro picker."))
    shortcut = forms.SlugField(
        label=_("Shortcut"),
        max_length=40,
        help_text=_(
            "Letters, digits, hyphens and underscores. Type ;shortcut in the reply box, then Tab or "
            "Enter, to insert the macro."
        ),
    )
    scope = forms.ChoiceField(
        label=_("Who can use it"),
        choices=[(SCOPE_PERSONAL, _("Only me")), (SCOPE_SHARED, _("Everyone on the team (shared)"))],
        initial=SCOPE_PERSONAL,
        required=False,  # personal unless said otherwise
        widget=forms.RadioSelect,
    )
    kind = forms.ChoiceField(
        label=_("Written as"),
        choices=MessageKind.choices,
        initial=MessageKind.REPLY,
        help_text=_("A note macro can only be sent as an internal note, never to the requester."),
    )
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 8}), max_length=MESSAGE_BODY_MAX_LENGTH
    )
    status = forms.ChoiceField(
        label=_("Set status when sent"), choices=[("", _("Leave as it is")), *Status.choices], required=False
    )
    priority = forms.ChoiceField(
        label=_("Set priority when sent"),
        choices=[("", _("Leave as it is")), *Priority.choices],
        required=False,
    )
    tags = TagsField(
        label=_("Add tags when sent"),
        required=False,
        max_length=600,
        help_text=_("Tag names separated by commas."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, may_share: bool, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["body"].help_text = placeholder_help()
        if editing or not may_share:
            # Who a macro belongs to is chosen once, when it is made.
            del self.fields["scope"]

    def clean(self):
        data = super().clean()
        if (self.editing and self.data.get("version") in (None, "")) or "version" in self.errors:
            raise forms.ValidationError(FORM_OUT_OF_DATE, code="out_of_date")
        return data

    def shared(self) -> bool:
        return self.cleaned_data.get("scope") == SCOPE_SHARED

    def values(self) -> MacroValues:
        data = self.cleaned_data
        return MacroValues(
            name=data["name"],
            shortcut=data["shortcut"],
            body=data["body"],
            kind=data["kind"],
            status=data.get("status") or "",
            priority=data.get("priority") or "",
            tags=data.get("tags") or (),
        )

    @staticmethod
    def initial_of(macro) -> dict:
        return {
            "name": macro.name,
            "shortcut": macro.shortcut,
            "kind": macro.kind,
            "body": macro.body,
            "status": macro.status,
            "priority": macro.priority,
            "tags": ", ".join(macro.tags or []),
            "version": macro.version,
        }
