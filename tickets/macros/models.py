"""Macros (canned replies): text an agent inserts into the reply box, with placeholders filled in
for the ticket at hand, optionally setting the ticket's status and priority (and adding tags) when
the message is sent. Personal macros belong to one staff member; shared ones (no owner) to the
workspace, managed by its admins."""

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import BODY_TOO_LONG, MESSAGE_BODY_MAX_LENGTH, MessageKind, Priority, Status
from workspaces.models import Workspace


class MacroQuerySet(models.QuerySet):
    def usable_by(self, membership):
        """The macros ``membership`` may see and insert: the workspace's shared ones and their
        own. Nobody but staff: requesters never see a macro."""
        if not membership.is_staff:
            return self.none()
        return self.filter(workspace_id=membership.workspace_id).filter(
            Q(owner__isnull=True) | Q(owner_id=membership.user_id)
        )


class Macro(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    # None: shared with the workspace (admins manage it). Otherwise only this person sees it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="macros"
    )
    name = models.CharField(max_length=100)
    # Typed as ";shortcut" in the reply box. Unique per scope: the workspace's shared macros, and
    # each person's own; a personal one wins over a shared one of the same shortcut.
    shortcut = models.SlugField(max_length=40)
    body = models.TextField(validators=[MaxLengthValidator(MESSAGE_BODY_MAX_LENGTH, message=BODY_TOO_LONG)])
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.REPLY)
    # Applied when the message is sent (empty: left as it is).
    status = models.CharField(max_length=16, choices=Status.choices, blank=True, default="")
    priority = models.CharField(max_length=16, choices=Priority.choices, blank=True, default="")
    # Names of tags to add when the message is sent (tags are a feature of their own).
    tags = models.JSONField(default=list, blank=True)
    # Bumped by every save: an edit made against an older version is refused, never lost.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = MacroQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "shortcut"],
                condition=Q(owner__isnull=True),
                name="macro_shared_shortcut_unique",
            ),
            models.UniqueConstraint(
                fields=["workspace", "owner", "shortcut"],
                condition=Q(owner__isnull=False),
                name="macro_personal_shortcut_unique",
            ),
        ]
        ordering = ["name", "id"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self):
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None

    def is_usable_by(self, membership) -> bool:
        """``MacroQuerySet.usable_by`` for a macro already read: staff, and shared or their own."""
        return (
            membership.is_staff
            and membership.workspace_id == self.workspace_id
            and (self.owner_id is None or self.owner_id == membership.user_id)
        )
