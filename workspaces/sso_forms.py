"""Forms of single sign-on: the admins' settings page and the "which workspace?" question on the
way in. They validate input only; ``workspaces.sso`` decides and writes."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

SLUG = re.compile(r"[-a-z0-9_]{1,50}")
SLUG_UNKNOWN = _(
    "No workspace with this address uses single sign-on. Check the address with your workspace admin."
)

SECRET_KEPT_HELP = _(
    "A secret is stored (encrypted); it is never shown. Leave empty to keep it, or enter a new one."
)
SECRET_NEW_HELP = _(
    "Given by the provider when you registered the helpdesk. Stored encrypted; never shown again."
)


class SSOSettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Single sign-on is on"), required=False)
    discovery_url = forms.CharField(
        label=_("Issuer or discovery address"),
        max_length=450,
        help_text=(
            "The provider's issuer, such as https://login.example.com/realms/acme, or its "
            "discovery document ending in /.well-known/openid-configuration."
        ),
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}),
    )
    client_id = forms.CharField(
        label=_("Client ID"), max_length=255, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        strip=True,
        max_length=500,
        # Never sent back to the browser, not even after a failed save.
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    allow_jit = forms.BooleanField(
        label=_("Create a requester account for a verified address that has no account yet"),
        required=False,
    )

    def __init__(self, *args, has_secret: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_secret"].help_text = SECRET_KEPT_HELP if has_secret else SECRET_NEW_HELP

    def clean_discovery_url(self):
        # A well-formed address; whether plain http is allowed is the service's rule.
        return forms.URLField(assume_scheme="https").clean(self.cleaned_data["discovery_url"].strip())


class SSOWorkspaceForm(forms.Form):
    workspace = forms.CharField(
        label=_("Workspace address"),
        max_length=300,
        help_text=_("The part after /w/ in your workspace's links, such as “acme”, or a whole link."),
        widget=forms.TextInput(
            attrs={"autocomplete": "organization", "spellcheck": "false", "autofocus": True}
        ),
    )

    def clean_workspace(self):
        value = self.cleaned_data["workspace"].strip()
        # A pasted link (https://help.example.com/w/acme/tickets/) names its workspace after /w/.
        match = re.search(r"/w/([^/?#]+)", value)
        slug = (match.group(1) if match else value).lower()
        if not SLUG.fullmatch(slug):
            raise forms.ValidationError(SLUG_UNKNOWN)
        return slug
