"""A workspace's privacy settings on the admins' Security page: whether agents may redact, and
whether "Who saw my data" names individual agents rather than their roles."""

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from privacy.audit import events
from workspaces.models import Workspace

PRIVACY_FIELDS = ("agents_may_redact", "reveal_viewer_names")


class PrivacySettingsForm(forms.Form):
    privacy_settings = forms.CharField(widget=forms.HiddenInput, initial="1")
    agents_may_redact = forms.BooleanField(
        label=_("Agents may redact"),
        required=False,
        help_text=_("Admins can always redact part of a message or a file; tick to let agents do it too."),
    )
    reveal_viewer_names = forms.BooleanField(
        label=_("Name the people who read a person's data"),
        required=False,
        help_text=_(
            "On their account page, people see which roles read or changed their tickets; tick to "
            "show the agents' names as well."
        ),
    )


@transaction.atomic
def workspace_set_privacy_settings(*, workspace: Workspace, values: dict, actor, request=None) -> list[str]:
    """Apply the privacy settings; returns the names of those that changed, each audited
    ``settings.changed``."""
    locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
    changed = [name for name in PRIVACY_FIELDS if getattr(locked, name) != bool(values.get(name))]
    for name in changed:
        old = getattr(locked, name)
        setattr(locked, name, not old)
        events.privacy_setting_changed(
            workspace=locked, setting=name, old=old, new=not old, actor=actor, request=request
        )
    if changed:
        locked.save(update_fields=changed)
    return changed
