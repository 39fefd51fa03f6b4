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

# --- reports ---
# Figures for the reports dashboard (tickets/reports.py), kept by the ticket services in the same
# transaction as the change they follow, so a dashboard reads these small tables and never walks
# the tickets.

# The statuses that count as backlog (waiting for someone to act).
BACKLOG_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)


class TicketMetrics(models.Model):
    """One row per ticket: when it was created, first answered by staff and (last) solved.

    Kept when its ticket is deleted by retention (``ticket`` becomes null): the workspace's
    figures for past periods stay what they were, and the row names nobody."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.OneToOneField(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="metrics"
    )
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The latest move to solved (or straight to closed); cleared when the ticket is reopened.
    solved_at = models.DateTimeField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        # Each figure reads one period of one workspace: a range scan on one of these, whose
        # other columns are in the index so the rows themselves are not read.
        indexes = [
            models.Index(fields=["workspace", "created_at", "queue"], name="metrics_created_idx"),
            models.Index(
                fields=["workspace", "first_response_at", "queue", "first_response_seconds"],
                name="metrics_first_response_idx",
                condition=models.Q(first_response_at__isnull=False),
            ),
            models.Index(
                fields=["workspace", "solved_at", "queue", "resolution_seconds"],
                name="metrics_solved_idx",
                condition=models.Q(solved_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Metrics of ticket {self.ticket_id}"


class BacklogCount(models.Model):
    """How many tickets of a queue are in a backlog status, per assignee (none = unassigned).

    Moved by the ticket services at every change of status, queue or assignee, so the backlog
    figures read a few rows (queues x staff) whatever the number of tickets. Writes in a
    workspace are already serialised by its audit chain head, so these rows add no contention;
    ``python manage.py rebuild_report_figures`` recounts them from the tickets."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    open = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "queue", "assignee"],
                name="backlog_count_unique",
                condition=models.Q(assignee__isnull=False),
            ),
            # NULLs are distinct in a unique index: the unassigned row needs its own.
            models.UniqueConstraint(
                fields=["workspace", "queue"],
                name="backlog_count_unassigned_unique",
                condition=models.Q(assignee__isnull=True),
            ),
        ]

    def __str__(self):
        return f"Backlog of queue {self.queue_id}, assignee {self.assignee_id}: {self.open}"
