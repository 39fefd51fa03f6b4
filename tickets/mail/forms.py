from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.mail.models import ImapSecurity, UnknownReply
from workspaces.models import Queue

SECRET_KEPT_HELP = _("A password is stored (encrypted); it is never shown. Leave empty to keep it.")
SECRET_NEW_HELP = _("Stored encrypted; never shown again after saving.")


class MailboxForm(forms.Form):
    address = forms.EmailField(
        label=_("Support address"), max_length=254, help_text=_("For example support@example.com.")
    )
    queue = forms.ModelChoiceField(
        label=_("New tickets go to"), queryset=Queue.objects.none(), empty_label=None
    )
    unknown_reply = forms.ChoiceField(
        label=_("A reply to a ticket from someone who is not one of its people"),
        choices=UnknownReply.choices,
        widget=forms.RadioSelect,
        initial=UnknownReply.NEW_TICKET,
    )
    is_active = forms.BooleanField(label=_("Mail to this address is taken in"), required=False, initial=True)
    imap_host = forms.CharField(
        label=_("IMAP server (optional)"),
        required=False,
        max_length=255,
        help_text=_("Leave empty when mail reaches the helpdesk by the ingest_email command."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    imap_port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    imap_security = forms.ChoiceField(label=_("Connection security"), choices=ImapSecurity.choices)
    imap_user = forms.CharField(
        label=_("IMAP user name"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    imap_secret = forms.CharField(
        label=_("IMAP password"),
        required=False,
        max_length=500,
        strip=False,
        # Never sent back to the browser, not even after a failed save.
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    imap_folder = forms.CharField(label=_("Folder"), max_length=255, initial="INBOX")

    def __init__(self, *args, workspace, has_secret: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.of_workspace(workspace.pk).order_by("name")
        self.fields["imap_secret"].help_text = SECRET_KEPT_HELP if has_secret else SECRET_NEW_HELP

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("imap_secret", None)
        data["address"] = data["address"].strip().lower()
        return data
