"""Forms of the account page. Error texts are module constants the tests import."""

from functools import lru_cache
from zoneinfo import available_timezones

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from helpdesk.languages import offered_languages
from privacy.account.consents import PURPOSES
from privacy.account.erasure import CONFIRM_WORD
from privacy.account.models import EmailDelivery, PolicyKind

WRONG_PASSWORD = _("That is not your current password.")
CONFIRM_WORD_WRONG = format_lazy(_("Type {word} in capital letters to confirm."), word=CONFIRM_WORD)
NAME_REQUIRED = _("Enter the name people should see.")


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [("UTC", "UTC")] + [(z, z.replace("_", " ")) for z in zones]


class ProfileForm(forms.Form):
    prefix = "profile"

    display_name = forms.CharField(
        label=_("Name"),
        max_length=150,
        error_messages={"required": NAME_REQUIRED},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("Shown to the people who work your tickets."),
    )
    language = forms.ChoiceField(label=_("Language"), help_text=_("Pages and emails use this language."))
    time_zone = forms.ChoiceField(
        label=_("Time zone"), help_text=_("Times on pages and in emails use this zone.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = offered_languages()
        self.fields["time_zone"].choices = time_zone_choices()


class PasswordCheckMixin:
    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data.get("password") or ""
        if not self.user.check_password(password):
            raise forms.ValidationError(WRONG_PASSWORD, code="wrong_password")
        return password


class EmailChangeForm(PasswordCheckMixin, forms.Form):
    prefix = "email"

    new_email = forms.EmailField(
        label=_("New email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("We send a link to the new address. Your address changes only when you open it."),
    )
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class NotificationsForm(forms.Form):
    prefix = "notify"

    email_on_reply = forms.BooleanField(
        label=_("Email me when someone replies on my tickets"),
        required=False,
        help_text=_(
            "Requesters: replies from the team. Agents: replies from requesters on tickets "
            "assigned to you, or in your queues while nobody is assigned."
        ),
    )
    email_on_assignment = forms.BooleanField(
        label=_("Email me when a ticket is assigned to me"), required=False
    )
    email_weekly_summary = forms.BooleanField(
        label=_("Send me a weekly summary of my open tickets"),
        required=False,
        help_text=_(
            "Once a week (early Monday, UTC): your open tickets; for agents, the open and "
            "assigned counts of your queues and the ticket waiting longest."
        ),
    )
    email_on_mention = forms.BooleanField(
        label=gettext_lazy("Email me when someone mentions me in an internal note"),
        required=False,
        help_text=gettext_lazy(
            "Agents and admins: a colleague wrote @your name in a note on a ticket you work."
        ),
    )
    email_delivery = forms.ChoiceField(
        label=gettext_lazy("How ticket emails reach me"),
        choices=EmailDelivery.choices,
        widget=forms.RadioSelect,
        required=False,  # left out: unchanged
        help_text=gettext_lazy(
            "The hourly digest gathers replies, assignments, mentions and new tickets into one email "
            "an hour. Security and account emails are always sent at once."
        ),
    )


class ConsentsForm(forms.Form):
    prefix = "consent"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for purpose in PURPOSES.values():
            self.fields[purpose.key] = forms.BooleanField(
                label=purpose.label, help_text=purpose.description, required=False
            )


class DeleteAccountForm(PasswordCheckMixin, forms.Form):
    prefix = "delete"

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.CharField(
        label=format_lazy(_("Type {word} to confirm"), word=CONFIRM_WORD),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def clean_confirm(self):
        value = (self.cleaned_data.get("confirm") or "").strip()
        if value != CONFIRM_WORD:
            raise forms.ValidationError(CONFIRM_WORD_WRONG, code="confirm")
        return value


class PolicyPublishForm(forms.Form):
    kind = forms.ChoiceField(label=_("Policy"), choices=PolicyKind.choices)
    version = forms.SlugField(
        label=_("Version"), max_length=32, help_text=_("For example the date it takes effect: 2027-03-01.")
    )
    summary = forms.CharField(
        label=_("Text"), widget=forms.Textarea, help_text=_("The full text people read.")
    )
    is_material = forms.BooleanField(
        label=_("Material change: people must read and acknowledge it"),
        required=False,
        help_text=_("Leave unticked for wording fixes: people then only see a notice."),
    )
