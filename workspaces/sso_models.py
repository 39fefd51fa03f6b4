"""The single sign-on (OpenID Connect) settings of a workspace. Imported by
``workspaces.models`` so Django finds the model; code imports it from here."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkspaceSSO(models.Model):
    """One identity provider per workspace. The client secret is kept encrypted
    (``workspaces.sso_secrets``) and never shown again after it is saved."""

    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE, related_name="sso")
    enabled = models.BooleanField(default=False)
    # The provider's discovery document (``.../.well-known/openid-configuration``).
    discovery_url = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    client_secret_encrypted = models.TextField()
    allow_jit = models.BooleanField(
        default=False, help_text=_("Create a requester account for a verified address that has none.")
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "workspace single sign-on"

    def __str__(self):
        return f"Single sign-on of {self.workspace_id}"
