"""Forms of the data-subject-request pages: they validate input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.requests.models import DETAILS_MAX_LENGTH, RESPONSE_MAX_LENGTH, RequestKind, RequestStatus


class ConsoleRequestForm(forms.Form):
    """An admin records a request received by email, phone or letter."""

    email = forms.EmailField(label=_("The person's email address"))
    kind = forms.ChoiceField(label=_("What they ask"), choices=RequestKind.choices)
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AccountRequestForm(forms.Form):
    """A person files a request with one of their workspaces."""

    workspace = forms.ChoiceField(label=_("Workspace"))
    kind = forms.ChoiceField(label=_("What you ask"), choices=RequestKind.choices)
    details = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        max_length=DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Objecting withdraws your consent to product update emails and user research at once."),
    )

    def __init__(self, *args, workspaces, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspaces = {str(w.pk): w for w in workspaces}
        self.fields["workspace"].choices = [(str(w.pk), w.name) for w in workspaces]

    def clean_workspace(self):
        return self.workspaces[self.cleaned_data["workspace"]]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=RequestStatus.choices)
    response = forms.CharField(
        label=_("Answer to the person"),
        required=False,
        max_length=RESPONSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to them on their account page with the status."),
    )


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I understand: their tickets here are anonymized, their words redacted, their files "
            "deleted and they leave this workspace."
        ),
    )
