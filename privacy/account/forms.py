"""Forms of the account page. Error texts are module constants the tests import."""

from functools import lru_cache
from pathlib import Path
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from privacy.account.consents import PURPOSES
from privacy.account.erasure import CONFIRM_WORD
from privacy.account.models import EmailDelivery, PolicyKind

WRONG_PASSWORD = "That is not your current password."
CONFIRM_WORD_WRONG = f"Type {CONFIRM_WORD} in capital letters to confirm."
NAME_REQUIRED = "Enter the name people should see."

# Languages the interface may one day speak. Only those with a compiled translation of our own
# (locale/<code>/LC_MESSAGES/django.mo) are offered: a choice that changed nothing would be a
# setting that does nothing. Until translations land that is English alone.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("pt", "Português"),
]


def offered_languages() -> list[tuple[str, str]]:
    locale = Path(settings.BASE_DIR) / "locale"
    return [
        (code, name)
        for code, name in LANGUAGES
        if code == "en" or (locale / code / "LC_MESSAGES" / "django.mo").exists()
    ]


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [("UTC", "UTC")] + [(z, z.replace("_", " ")) for z in zones]


class ProfileForm(forms.Form):
    prefix = "profile"

    display_name = forms.CharField(
        label="Name",
        max_length=150,
        error_messages={"required": NAME_REQUIRED},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text="Shown to the people who work your tickets.",
    )
    language = forms.ChoiceField(
        label="Language", help_text="Other languages are offered here once the interface is translated."
    )
    time_zone = forms.ChoiceField(label="Time zone", help_text="Times on pages and in emails use this zone.")

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
        label="New email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send a link to the new address. Your address changes only when you open it.",
    )
    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class NotificationsForm(forms.Form):
    prefix = "notify"

    email_on_reply = forms.BooleanField(
        label="Email me when someone replies on my tickets",
        required=False,
        help_text="Requesters: replies from the team. Agents: replies from requesters on tickets "
        "assigned to you, or in your queues while nobody is assigned.",
    )
    email_on_assignment = forms.BooleanField(label="Email me when a ticket is assigned to me", required=False)
    email_weekly_summary = forms.BooleanField(
        label="Send me a weekly summary of my open tickets",
        required=False,
        help_text="Once a week (early Monday, UTC): your open tickets; for agents, the open and "
        "assigned counts of your queues and the ticket waiting longest.",
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
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.CharField(
        label=f"Type {CONFIRM_WORD} to confirm",
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
    kind = forms.ChoiceField(label="Policy", choices=PolicyKind.choices)
    version = forms.SlugField(
        label="Version", max_length=32, help_text="For example the date it takes effect: 2027-03-01."
    )
    summary = forms.CharField(label="Text", widget=forms.Textarea, help_text="The full text people read.")
    is_material = forms.BooleanField(
        label="Material change: people must read and acknowledge it",
        required=False,
        help_text="Leave unticked for wording fixes: people then only see a notice.",
    )
