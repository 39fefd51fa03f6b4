"""The sign-up form (an address, a password and the acceptance of the current policies) and the
confirmation form (the password chosen at sign-up)."""

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.single_line import validate_single_line
from workspaces.models import User

TERMS_REQUIRED = _("Accept the terms of service and the privacy policy to create an account.")
AGE_REQUIRED = _(
    "Confirm that you are at least 16 years old. The Helpdesk is not meant for children; if you are "
    "younger, ask a parent or your school to contact the organisation for you."
)
PASSWORDS_DIFFER = _("The two passwords differ. Type the same password twice.")
SIGNUP_LIMIT_ADDRESS = _(
    "We already sent several emails to this address in the last hour. Look for them in your "
    "inbox and spam folder, or try again {wait}."
)
SIGNUP_LIMIT_IP = _("Too many sign-ups came from your network address. Try again {wait}.")
POLICIES_CHANGED = _(
    "The terms of service or the privacy policy changed while you were signing up. "
    "Read the current versions, then accept them again."
)


class SignupForm(forms.Form):
    """A requester's sign-up. Whether the address already has an account is never checked here:
    the answer must be the same either way."""

    display_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send a confirmation link to this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("At least 8 characters, not a common password, not only digits, not like your name."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_policies = forms.BooleanField(
        label=_("I accept the terms of service and the privacy policy"),
        required=True,
        error_messages={"required": TERMS_REQUIRED},
    )
    age_confirmed = forms.BooleanField(
        label=_("I am at least 16 years old"),
        required=True,
        error_messages={"required": AGE_REQUIRED},
        help_text=_("The Helpdesk is not meant for children. Your confirmation is kept with your consents."),
    )
    # The policy versions the person was shown, so a version published meanwhile is not
    # accepted unseen.
    policies_shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, policies, **kwargs):
        super().__init__(*args, **kwargs)
        self.policies = policies
        # The sentences are translated whole, links included, so each language can order them;
        # format_html still escapes every value put into them.
        self.fields["accept_policies"].label = format_html(
            gettext(
                'I accept the <a href="{terms_url}" target="_blank" rel="noopener">terms of service</a> '
                'and the <a href="{privacy_url}" target="_blank" rel="noopener">privacy policy</a>'
            ),
            terms_url=reverse("policy", args=["terms"]),
            privacy_url=reverse("policy", args=["privacy"]),
        )
        self.fields["accept_policies"].help_text = format_html(
            gettext("Terms of service version {terms_version}, privacy policy version {privacy_version}."),
            terms_version=policies.terms.version,
            privacy_version=policies.privacy.version,
        )
        self.initial["policies_shown"] = self._policy_key(policies.ids)

    @staticmethod
    def _policy_key(ids) -> str:
        return ",".join(str(i) for i in ids)

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        current = self._policy_key(self.policies.ids)
        if cleaned.get("policies_shown") != current:
            # Show the current versions from now on; the person must tick the box again.
            data = self.data.copy()
            data["policies_shown"] = current
            data.pop("accept_policies", None)
            self.data = data
            self.add_error(None, POLICIES_CHANGED)
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", PASSWORDS_DIFFER)
        elif password1:
            candidate = User(email=cleaned.get("email") or "", display_name=cleaned.get("display_name") or "")
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignupConfirmForm(forms.Form):
    """The password chosen at sign-up: the link proves the mailbox, this proves the password is
    the clicker's own (someone else may have signed up with the address first)."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        help_text=_("The password you chose when you signed up."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class HelpRequestForm(SignupForm):
    """The public Get help form: a sign-up plus the request, held until the address is confirmed."""

    subject = forms.CharField(label=_("Subject"), max_length=200, validators=[validate_single_line])
    description = forms.CharField(
        label=_("How can we help?"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000
    )

    field_order = [
        "display_name",
        "email",
        "subject",
        "description",
        "password1",
        "password2",
        "accept_policies",
        "age_confirmed",
        "policies_shown",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = gettext(
            "For your new account, where you follow the answers. {requirements}"
        ).format(requirements=self.fields["password1"].help_text)
