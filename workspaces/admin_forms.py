"""Forms of the workspace admin pages and of the invitation page. They validate input only;
the services in ``workspaces.services`` decide and write."""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from workspaces.models import Role, User
from workspaces.restriction import REASON_MAX_LENGTH

PASSWORDS_DIFFER = _("The two passwords do not match.")
QUEUES_HELP = _("Agents see and work the tickets of these queues only. Admins see every queue.")


class QueueChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.name


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    # The role the page showed: a change decided on a stale role is refused (issue 17).
    seen_role = forms.ChoiceField(choices=Role.choices, widget=forms.HiddenInput)


class MemberQueuesForm(forms.Form):
    queues = QueueChoiceField(label=_("Queues"), queryset=None, required=False, help_text=QUEUES_HELP)

    def __init__(self, *args, queues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queues"].queryset = queues


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.AGENT,
        help_text=_("Admins manage the workspace; agents work tickets; requesters open tickets."),
    )
    queues = QueueChoiceField(
        label=_("Queues (agents only)"),
        queryset=None,
        required=False,
        help_text=_("The queues an invited agent can work from the start. You can change them later."),
    )

    def __init__(self, *args, queues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queues"].queryset = queues

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"])


class QueueForm(forms.Form):
    name = forms.CharField(label=_("Queue name"), max_length=80, strip=True)


class AcceptNewAccountForm(forms.Form):
    """Name and password for a person whose invitation is their first contact with the helpdesk."""

    display_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not a common password and not only digits."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", PASSWORDS_DIFFER)
        elif first:
            candidate = User(email=self.email, display_name=cleaned.get("display_name", ""))
            try:
                validate_password(first, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class RestrictForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Kept in the audit log, for example: the person contests their data's accuracy."),
    )
