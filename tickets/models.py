from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.access import granted_queue_ids
from workspaces.models import Queue, Workspace


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Querysets: the vocabulary of visibility. tickets/access.py is what views and consumers call; it
# is built on these methods, which stay here (next to the models they name) so that nothing has
# to import the models back.


class TicketQuerySet(models.QuerySet):
    def of_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def visible_to(self, membership):
        """The tickets this member may see. One SQL query, whatever the number of grants.

        Admins: every ticket of the workspace. Agents: tickets of the queues they hold
        ``work_queue`` on. Requesters: tickets they requested or take part in.
        """
        scoped = self.filter(workspace_id=membership.workspace_id)
        if membership.is_admin:
            return scoped
        if membership.is_agent:
            return scoped.filter(queue_id__in=granted_queue_ids(membership.user_id, membership.workspace_id))
        return scoped.filter(id__in=self.ids_taken_part_by(membership.workspace_id, membership.user_id))

    def ids_taken_part_by(self, workspace_id: int, user_id: int):
        """Ids of the tickets a person requested or takes part in, as a subquery.

        A UNION of two index lookups, not "requester = me OR id IN (...)": PostgreSQL cannot use
        an index for that OR and walks the whole workspace (3.4 s at 1M tickets for a requester
        with 10 tickets, against 1.4 ms this way).
        """
        requested = (
            self.model.objects.filter(workspace_id=workspace_id, requester_id=user_id).order_by().values("id")
        )
        taking_part = (
            TicketParticipant.objects.filter(workspace_id=workspace_id, user_id=user_id)
            .order_by()
            .values("ticket_id")
        )
        return requested.union(taking_part, all=True)

    def open(self):
        return self.exclude(status__in=[Status.SOLVED, Status.CLOSED])


class MessageQuerySet(models.QuerySet):
    def visible_to(self, membership):
        """Messages of visible tickets; internal notes only for admins and agents."""
        visible = self.filter(
            workspace_id=membership.workspace_id,
            ticket__in=Ticket.objects.visible_to(membership).values("id"),
        )
        if membership.is_staff:
            return visible
        return visible.filter(kind=MessageKind.REPLY)


class Ticket(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tickets")
    # Numbered #1, #2 ... within each workspace; URLs use the number, never the primary key.
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="requested_tickets",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    # Bumped by every change of status, priority, queue or assignee, whoever makes it: the
    # properties form posts the version (and the values) it showed, so a save made against an
    # older version is merged field by field or refused, never a silent overwrite (issue 17).
    version = models.PositiveIntegerField(default=1)
    # Who made the latest of those changes, named when a stale save is merged or refused.
    properties_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Any change, internal notes and agent-only fields included: what staff see and sort by.
    updated_at = models.DateTimeField(default=timezone.now)
    # The last change a requester can see (a public reply, a status or participant change): what
    # requesters see and sort by, so an internal note never moves or re-dates their list.
    public_updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The latest public reply by someone other than staff (the requester, a participant): the
    # "customer replied" marker an agent sees until they open the ticket.
    customer_replied_at = models.DateTimeField(null=True, blank=True)
    # Set by the retention sweep (issue 7) when it anonymized the ticket, so it is never redone;
    # the requester is then detached and shown by their stable pseudonym.
    anonymized_at = models.DateTimeField(null=True, blank=True)
    requester_pseudonym = models.CharField(max_length=40, blank=True, default="")
    # Priorities sort by urgency, not by name: a stored column the database computes itself,
    # so the list can sort and seek on an index and no code path can let it drift.
    priority_rank = models.GeneratedField(
        expression=models.Case(
            models.When(priority=Priority.LOW, then=models.Value(0)),
            models.When(priority=Priority.NORMAL, then=models.Value(1)),
            models.When(priority=Priority.HIGH, then=models.Value(2)),
            models.When(priority=Priority.URGENT, then=models.Value(3)),
            default=models.Value(1),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="ticket_number_unique"),
        ]
        # The ticket list seeks on (sort key, id) inside one workspace: one index per sort key,
        # scanned forwards or backwards, so a page costs the same at ticket 10 and at 1,000,000.
        indexes = [
            models.Index(fields=["workspace", "queue", "-updated_at", "-id"]),
            models.Index(fields=["workspace", "requester", "-updated_at"]),
            models.Index(fields=["workspace", "assignee", "status"]),
            models.Index(fields=["workspace", "-updated_at", "-id"], name="ticket_ws_updated_seek"),
            # The requesters' list, sorted by what they can see changed.
            models.Index(fields=["workspace", "-public_updated_at", "-id"], name="ticket_ws_public_seek"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="ticket_ws_created_seek"),
            models.Index(fields=["workspace", "-priority_rank", "-id"], name="ticket_ws_priority_seek"),
            models.Index(fields=["workspace", "status", "-updated_at", "-id"], name="ticket_ws_status_seek"),
            models.Index(
                fields=["workspace", "assignee", "-updated_at", "-id"], name="ticket_ws_assignee_seek"
            ),
            # The retention sweep's "closed long ago and not yet anonymized" scan (issue 7).
            models.Index(
                fields=["workspace", "closed_at", "id"],
                name="ticket_ws_retention_idx",
                condition=models.Q(anonymized_at__isnull=True),
            ),
        ]
        ordering = ["-updated_at", "-id"]

    def __str__(self):
        return f"#{self.number} {self.subject}"


class TicketParticipant(models.Model):
    """A person added to a ticket besides its requester; the per-ticket grant for requesters."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ticket_participations"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="participant_unique"),
        ]


class TicketRead(models.Model):
    """When a staff member last opened a ticket: what the list's "unread" and "customer replied"
    markers compare the ticket's changes with (tickets/reads.py)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="ticket_read_unique")]


# The longest body a message may have (forms say so at the edge, full_clean in the services too):
# it bounds the time one render takes (helpdesk.markdown is linear in it).
MESSAGE_BODY_MAX_LENGTH = 20_000
BODY_TOO_LONG = _("A message can be at most %(limit_value)s characters long (this one has %(show_value)s).")


class MessageKind(models.TextChoices):
    REPLY = "reply", _("Public reply")
    NOTE = "note", _("Internal note")


class Message(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="messages"
    )
    kind = models.CharField(max_length=8, choices=MessageKind.choices)
    body = models.TextField(validators=[MaxLengthValidator(MESSAGE_BODY_MAX_LENGTH, message=BODY_TOO_LONG)])
    # The body rendered (helpdesk.markdown) and sanitized once, by whatever writes ``body`` (the
    # services, anonymization, erasure's mentions pass): pages and websockets show this column
    # and never render on a read, so one hostile body cannot slow every view of its ticket.
    body_html = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the author corrects the body (allowed for a short while after posting).
    edited_at = models.DateTimeField(null=True, blank=True)
    # Set when staff redacted part of the body (tickets/redaction.py): the page says so and when.
    redacted_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"])]
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} on ticket {self.ticket_id}"

    @property
    def is_note(self) -> bool:
        return self.kind == MessageKind.NOTE


def attachment_key(instance, filename):
    """A random storage key: never the person's file name, never guessable."""
    import secrets

    return f"attachments/{instance.workspace_id}/{secrets.token_hex(16)}"


class Attachment(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    # Empty when attached to the ticket itself rather than to one message.
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to=attachment_key, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set when staff redacted the file: its bytes are gone from storage (every version) and the
    # row stays only to show where it was and when it went.
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.original_name


# The personal data these models hold is declared in tickets/personal_data.py, with the erasers and
# exporters that reach it (registered from the AppConfig.ready()).

# The email channel's mailboxes live with the rest of the channel (tickets/mail/models.py); importing
# them here is what makes Django register them with this app.
from tickets.mail.models import FailingAddress, InboundEmail, Mailbox, OutboundEmail  # noqa: E402, F401

# --- saved views ---
# A named set of the ticket list's filters (tickets/saved_views.py). The filters are kept as the
# list's query-string parameters, unknown ones included, so filters added to the list later work
# in views saved before; they are validated by the list's filter form whenever a view is applied.


VIEW_PARAMS_MAX = 20
VIEW_VALUES_MAX = 10
VIEW_VALUE_MAX_LENGTH = 200
VIEW_PARAMS_INVALID = _("A saved view holds list filters only (names and short texts).")


def validate_view_params(value) -> None:
    """``{name: [text, ...]}``: a query string's parameters, bounded in number and length."""
    import re

    from django.core.exceptions import ValidationError

    name = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
    ok = isinstance(value, dict) and len(value) <= VIEW_PARAMS_MAX
    for key, values in value.items() if ok else ():
        ok = ok and isinstance(key, str) and bool(name.match(key)) and isinstance(values, list)
        ok = ok and 0 < len(values) <= VIEW_VALUES_MAX
        ok = ok and all(isinstance(v, str) and len(v) <= VIEW_VALUE_MAX_LENGTH for v in values)
        if not ok:
            break
    if not ok:
        raise ValidationError(VIEW_PARAMS_INVALID, code="invalid_params")


class SavedView(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    # Empty only for a shared view whose creator deleted their account: the view stays the
    # workspace's (its filters name no one), without its creator.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shared = models.BooleanField(default=False)
    name = models.CharField(max_length=60)
    params = models.JSONField(default=dict, validators=[validate_view_params])
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "owner", "position"]),
            models.Index(fields=["workspace", "shared", "position"]),
        ]
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def key(self) -> str:
        """The view's name in the list's ``?view=`` (built-in views have words there)."""
        return f"s{self.pk}"
