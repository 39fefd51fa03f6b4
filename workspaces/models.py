from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from helpdesk.single_line import validate_single_line
from helpdesk.text import strip_bidi

# The object permission an agent holds on each queue they work (django-guardian).
QUEUE_PERMISSION = "work_queue"
WORKSPACE_SLUG_TAKEN = _("That address is already taken; choose another.")


class UserManager(BaseUserManager):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email):
        # The whole address is compared case-insensitively, so it is stored in one case.
        return (email or "").strip().lower()

    def get_by_natural_key(self, username):
        return self.get(email__iexact=self.normalize_email(username))

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_confirmed_at", timezone.now())
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Email is the login; there is no username."""

    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField("name", max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Empty while a self-service sign-up waits for its confirmation link.
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=16, default="en", blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.display_name or self.email

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)
        # A name is shown inline next to other people's text: no bidi control may reorder it.
        self.display_name = strip_bidi(self.display_name)

    def get_full_name(self):
        return self.display_name or self.email

    def get_short_name(self):
        return self.display_name or self.email.split("@")[0]

    @property
    def is_pending_signup(self) -> bool:
        """A self-service sign-up whose address nobody has confirmed yet: whoever typed its
        password has not proved they own the address, so that password is not trusted."""
        return self.email_confirmed_at is None and self.last_login is None and not self.is_active


class Intake(models.TextChoices):
    """Who may open tickets in a workspace without an invitation (README "A way in for requesters")."""

    INVITED = "invited", _("Invited people only")
    SIGNUP = "signup", _("Anyone who signs up")
    PUBLIC = "public", _("Anyone, through a public Get help form")


class Workspace(models.Model):
    """The tenant. Nothing crosses a workspace boundary."""

    # Shown in page titles and email subjects: one line, never a control character.
    name = models.CharField(max_length=120, validators=[validate_single_line])
    # Stored in lower case (``clean``); the constraint below keeps /w/ACME/ from ever naming a
    # second workspace beside /w/acme/, whatever path writes the row.
    slug = models.SlugField(max_length=50, unique=True, error_messages={"unique": WORKSPACE_SLUG_TAKEN})
    created_at = models.DateTimeField(default=timezone.now)
    # The last ticket number handed out; bumped under a row lock by ticket_create.
    last_ticket_number = models.PositiveIntegerField(default=0)
    # Admins and agents must sign in with a second factor to work here (README "Two-factor sign-in").
    require_two_factor = models.BooleanField(default=False)
    # Who may become a requester without an invitation; only through the Get help link /help/<slug>/.
    intake = models.CharField(max_length=16, choices=Intake.choices, default=Intake.INVITED)
    # Space-separated email domains; when set, only addresses of these domains get in that way.
    intake_domains = models.CharField(max_length=500, blank=True, default="")
    # Agents (not only admins) may redact part of a message or a whole attachment.
    agents_may_redact = models.BooleanField(default=False)
    # "Who saw my data" on /account/ names the individual agents, not only their roles.
    reveal_viewer_names = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("slug"),
                name="workspace_slug_ci_unique",
                violation_error_message=WORKSPACE_SLUG_TAKEN,
            ),
        ]
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        self.name = (self.name or "").strip()
        self.slug = (self.slug or "").strip().lower()


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    AGENT = "agent", _("Agent")
    REQUESTER = "requester", _("Requester")


class MembershipQuerySet(models.QuerySet):
    def of_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def admins(self):
        return self.filter(role=Role.ADMIN)

    def staff(self):
        return self.filter(role__in=[Role.ADMIN, Role.AGENT])


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # Restriction of processing (GDPR art. 18), set and released by an admin: the person's data
    # here is kept but frozen (no emails, no edits, no new work, hidden from lists but to admins).
    restricted_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique"),
        ]
        indexes = [
            # Every list, count and search leaves out the tickets of people whose processing is
            # restricted: a handful of rows among all the workspace's members. Without it each
            # page scanned every membership (125,000 in the 1M-ticket bench) once per count.
            models.Index(
                fields=["workspace", "user"],
                condition=models.Q(restricted_at__isnull=False),
                name="membership_restricted",
            ),
            # The workspace's staff (assignee choices, filters) among all its requesters.
            models.Index(fields=["workspace", "role"], name="membership_ws_role"),
        ]
        ordering = ["workspace__name"]

    def __str__(self):
        return f"{self.user} in {self.workspace} as {self.role}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_agent(self) -> bool:
        return self.role == Role.AGENT

    @property
    def is_staff(self) -> bool:
        """Admins and agents: the people who work tickets and may read internal notes."""
        return self.role in (Role.ADMIN, Role.AGENT)

    @property
    def is_requester(self) -> bool:
        return self.role == Role.REQUESTER

    @property
    def is_restricted(self) -> bool:
        return self.restricted_at is not None


class QueueQuerySet(models.QuerySet):
    def of_workspace(self, workspace):
        return self.filter(workspace=workspace)


class Queue(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="queues")
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)

    objects = QueueQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="queue_name_unique"),
        ]
        ordering = ["name"]
        permissions = [(QUEUE_PERMISSION, "View and work tickets in this queue")]

    def __str__(self):
        return self.name


class Invitation(models.Model):
    """An emailed, single-use, expiring invitation to join a workspace with a role."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    # Only a hash of the token is kept, so a database reader cannot accept an invitation.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Queues an invited agent is granted on acceptance (same workspace; checked by the service).
    queues = models.ManyToManyField("Queue", blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Invitation of {self.email} to {self.workspace}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class QueueUserObjectPermission(UserObjectPermissionBase):
    """Direct-foreign-key guardian permissions on queues.

    An integer foreign key (instead of guardian's generic text ``object_pk``) lets the ticket
    visibility query join on an index, one query whatever the number of grants.
    """

    content_object = models.ForeignKey(Queue, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        pass


class QueueGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Queue, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        pass


# The personal data these models hold is declared in workspaces/personal_data.py, with the erasers and
# exporters that reach it (registered from the AppConfig.ready()).

# Gathered here so Django finds them: help requests held until their sender confirms the address
# (workspaces/intake_models.py), second factors (workspaces/two_factor/models.py) and the person's
# signed-in sessions (workspaces/sessions/).
from workspaces.intake_models import HelpRequest  # noqa: E402, F401
from workspaces.sessions.models import UserSession  # noqa: E402, F401

# Single sign-on settings live in their own module; importing them here registers the model.
from workspaces.sso_models import WorkspaceSSO  # noqa: E402, F401
from workspaces.two_factor.models import Passkey, RecoveryCode, SecondFactorLock  # noqa: E402, F401
