"""A help request typed on a workspace's public Get help form by someone not yet confirmed.

It is held here, not opened as a ticket, until the sender confirms their address: agents never
see words from an address nobody proved, and an unconfirmed sign-up that is purged takes its held
requests with it (``on_delete=CASCADE``).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from helpdesk.single_line import validate_single_line


class HelpRequest(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=200, validators=[validate_single_line])
    description = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Held help request {self.pk} for {self.workspace_id}"
