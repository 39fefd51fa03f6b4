"""Forms of two-factor sign-in. They validate input only; services decide and write."""

from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )


class SetupCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


class PasskeyAssertionForm(forms.Form):
    credential = forms.CharField(widget=forms.HiddenInput, max_length=20_000)


class ReauthForm(forms.Form):
    secret = forms.CharField(
        label=_("Your password, or a current code from your authenticator app"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasskeyAddForm(forms.Form):
    name = forms.CharField(
        label=_("Name of this passkey"),
        max_length=60,
        initial="My passkey",
        help_text=_("So you can tell your passkeys apart, for example “Work laptop”."),
    )
    credential = forms.CharField(widget=forms.HiddenInput, max_length=20_000, required=False)


class PasskeyNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)


class RequirementForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Admins and agents must sign in with a second factor"),
        required=False,
        help_text=_(
            "Staff without an authenticator app or passkey are sent to set one up when they "
            "open this workspace. Requesters are not affected."
        ),
    )
