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


# Every status but solved and closed: what "open" lists and counts mean.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)


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
        # The open statuses named, not the done ones excluded: "status IN (...)" is a condition
        # the (workspace, assignee, status, ...) index can seek on, where "NOT IN" made "My
        # open"'s count at 1M tickets step over the agent's 16,000 closed tickets first.
        return self.filter(status__in=OPEN_STATUSES)


class MessageQuerySet(models.QuerySet):
    def visible_to(self, membership):
        """Messages of visible tickets; internal notes only for admins and agents."""
        return self.filter(
            workspace_id=membership.workspace_id,
            ticket__in=Ticket.objects.visible_to(membership).values("id"),
        ).readable_by(membership)

    def readable_by(self, membership):
        """Of messages on tickets the member may see, those they may read: internal notes only
        for admins and agents. For callers that already hold the visible tickets' ids."""
        if membership.is_staff:
            return self
        return self.filter(kind=MessageKind.REPLY)


class Ticket(models.Model):
    # No single-column index: every seek index below starts with the workspace and serves a
    # lookup by it; one index fewer to write on every change of a ticket (none of them is HOT).
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="tickets", db_index=False)
    # Numbered #1, #2 ... within each workspace; URLs use the number, never the primary key.
    number = models.PositiveIntegerField()
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    # No single-column index either: every lookup by queue is within a workspace, served by
    # (workspace, queue, ...); alone, "queue in (the agent's queues)" made a search AND a bitmap
    # of every ticket of those queues with the matching subjects (12 of 19 ms at 1M tickets).
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets", db_index=False)
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
    # Service levels (issue 13, tickets/sla.py). All null while no SLA policy applies. The targets'
    # due times count business hours from ``created_at``, pushed back by the business time spent
    # paused (Pending, Solved, Closed): ``sla_paused_seconds`` so far, plus the current pause since
    # ``sla_paused_at``.
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    sla_resolved_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # Null for none. Every SLA column is nullable without a default: on SQLite a column with a
    # default (or NOT NULL) makes Django rebuild the table, which drops the search triggers.
    sla_paused_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The target running now (first response until answered, then resolution) and when it turns
    # "breaching soon": what the list shows and sorts by, with no calendar needed to read it.
    # Null while paused, resolved or without a target.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)
    # ``sla_due_at`` again while the running target's breach is not recorded yet, else null: the
    # breach scan reads its partial index and clears it when it records the breach, so each
    # breach is found (and emailed) once.
    sla_breach_check_at = models.DateTimeField(null=True, blank=True)
    first_response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="ticket_number_unique"),
        ]
        # The ticket list seeks on (sort key, id) inside one workspace: one index per sort key,
        # scanned forwards or backwards, so a page costs the same at ticket 10 and at 1,000,000.
        indexes = [
            # With what saved views and filters narrow a queue by, so their counts read the
            # index alone (at 1M tickets a queue's count read 125,000-250,000 rows otherwise).
            models.Index(
                fields=["workspace", "queue", "-updated_at", "-id"],
                include=["status", "priority", "assignee", "requester"],
                name="ticket_ws_queue_seek",
            ),
            # A requester's tickets in their list's order (a seek, one page read); status
            # included, so the counts of their views read the index alone
            # (tickets.selectors.capped_filter_counts).
            models.Index(
                fields=["workspace", "requester", "-public_updated_at", "-id"],
                include=["status"],
                name="ticket_ws_requester_public",
            ),
            # The list's view counts ("mine", "unassigned": open ones of the agent's queues,
            # none of a restricted requester) read from the index alone (index-only scans).
            models.Index(
                fields=["workspace", "assignee", "status", "queue"],
                include=["requester"],
                name="ticket_ws_assignee_counts",
            ),
            # Status views' and saved views' counts (status, queue, priority): each reads the
            # entries it counts and no others (migration 0031).
            models.Index(
                fields=["workspace", "status", "queue", "priority"],
                include=["assignee", "requester"],
                name="ticket_ws_status_counts",
            ),
            models.Index(fields=["workspace", "-updated_at", "-id"], name="ticket_ws_updated_seek"),
            # The requesters' list, sorted by what they can see changed.
            models.Index(fields=["workspace", "-public_updated_at", "-id"], name="ticket_ws_public_seek"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="ticket_ws_created_seek"),
            models.Index(fields=["workspace", "-priority_rank", "-id"], name="ticket_ws_priority_seek"),
            # Queue and requester included: a status view's count reads the index alone.
            models.Index(
                fields=["workspace", "status", "-updated_at", "-id"],
                include=["queue", "requester"],
                name="ticket_ws_status_seek",
            ),
            models.Index(
                fields=["workspace", "assignee", "-updated_at", "-id"], name="ticket_ws_assignee_seek"
            ),
            # The retention sweep's "closed long ago and not yet anonymized" scan (issue 7).
            models.Index(
                fields=["workspace", "closed_at", "id"],
                name="ticket_ws_retention_idx",
                condition=models.Q(anonymized_at__isnull=True),
            ),
            # Service levels: the list sorted by due (a seek on the running target), the breach
            # scan (due, not yet recorded) and the attainment report's periods.
            models.Index(
                fields=["workspace", "sla_due_at", "id"],
                name="ticket_ws_due_seek",
                condition=models.Q(sla_due_at__isnull=False),
            ),
            models.Index(
                fields=["sla_breach_check_at"],
                name="ticket_sla_breach_scan",
                condition=models.Q(sla_breach_check_at__isnull=False),
            ),
            models.Index(
                fields=["workspace", "first_response_due_at"],
                name="ticket_ws_fr_due",
                condition=models.Q(first_response_due_at__isnull=False),
            ),
            models.Index(
                fields=["workspace", "resolution_due_at"],
                name="ticket_ws_res_due",
                condition=models.Q(resolution_due_at__isnull=False),
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
    # No single-column index: (workspace, created_at) below serves every lookup by workspace.
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+", db_index=False)
    # No single-column index: (ticket, created_at) below serves every lookup by ticket.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
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
        indexes = [
            models.Index(fields=["ticket", "created_at"]),
            # A search for a common word reads the workspace's newest messages, newest first
            # (tickets/search.py): from this index, never another workspace's rows.
            models.Index(fields=["workspace", "created_at"], name="message_ws_created"),
        ]
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
# --- macros (canned replies) --- tickets/macros/models.py, registered the same way.
from tickets.macros.models import Macro  # noqa: E402, F401
from tickets.mail.models import FailingAddress, InboundEmail, Mailbox, OutboundEmail  # noqa: E402, F401

# --- tags and custom fields (issue 13) ---
# Tags and field definitions are the workspace's own vocabulary (admins and agents choose them);
# the values of custom fields are the ticket's data, personal when their field says it may be.
# Services: tickets/tags.py and tickets/custom_fields.py.

TAG_NAME_MAX_LENGTH = 50


class Tag(models.Model):
    """A label staff put on tickets. ``name`` is stored normalised (lower case, single spaces;
    ``tickets.tags.normalize_tag_name``), so uniqueness per workspace ignores case."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=TAG_NAME_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="tag_name_unique")]
        ordering = ["name"]

    def __str__(self):
        return self.name


class TicketTag(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="ticket_links")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "tag"], name="ticket_tag_unique")]
        # The list's tag filter: the tickets of one tag inside one workspace.
        indexes = [models.Index(fields=["workspace", "tag", "ticket"], name="ticket_tag_filter_idx")]


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    DROPDOWN = "dropdown", _("Dropdown")
    CHECKBOX = "checkbox", _("Checkbox")


CUSTOM_FIELD_LABEL_MAX_LENGTH = 80
CUSTOM_FIELD_VALUE_MAX_LENGTH = 500


class CustomField(models.Model):
    """A field admins add to every ticket of their workspace. Archived fields keep their values
    (export, erasure and retention still reach them) but are no longer shown or asked."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=CUSTOM_FIELD_LABEL_MAX_LENGTH)
    # Fixed once created: stored values were validated for it.
    kind = models.CharField(max_length=16, choices=FieldKind.choices)
    # The choices of a dropdown, in order (empty for other kinds).
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    visible_to_requesters = models.BooleanField(default=False)
    # "May hold personal data": its values are exported with the requester's data and erased
    # when the ticket is anonymized or the requester erased (tickets/personal_data.py).
    personal = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("label"), "workspace", name="custom_field_label_unique"
            )
        ]
        ordering = ["position", "id"]

    def __str__(self):
        return self.label


class CustomFieldValue(models.Model):
    """One ticket's value of one field, as validated text: ISO date, plain decimal, "true" for
    a ticked checkbox, the chosen option of a dropdown. An empty value has no row."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="field_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    value = models.TextField(validators=[MaxLengthValidator(CUSTOM_FIELD_VALUE_MAX_LENGTH)])
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "field"], name="custom_field_value_unique")]

    def __str__(self):
        return f"{self.field_id} on ticket {self.ticket_id}"


# --- SLA policies (issue 13) ---


def _default_week():
    # Monday to Friday, 09:00-17:00.
    return [[9 * 60, 17 * 60]] * 5 + [None, None]


class SlaPolicy(models.Model):
    """A workspace's service levels: targets per priority, counted in business time (the weekly
    hours and holidays, read in ``time_zone``). One per workspace; ``is_active`` off means no
    SLA. Targets are business minutes, null for "no target" for that priority."""

    workspace = models.OneToOneField(Workspace, on_delete=models.CASCADE, related_name="+")
    is_active = models.BooleanField(default=True)
    # The workspace's zone for business hours (workspaces have no zone of their own).
    time_zone = models.CharField(max_length=64, default="UTC")
    low_first_response = models.PositiveIntegerField(null=True, blank=True)
    low_resolution = models.PositiveIntegerField(null=True, blank=True)
    normal_first_response = models.PositiveIntegerField(null=True, blank=True)
    normal_resolution = models.PositiveIntegerField(null=True, blank=True)
    high_first_response = models.PositiveIntegerField(null=True, blank=True)
    high_resolution = models.PositiveIntegerField(null=True, blank=True)
    urgent_first_response = models.PositiveIntegerField(null=True, blank=True)
    urgent_resolution = models.PositiveIntegerField(null=True, blank=True)
    # Seven entries, Monday first: [open minute, close minute] or null for a closed day. One JSON
    # column each, so the whole policy is one row read in one query.
    weekly_hours = models.JSONField(default=_default_week)
    # ISO dates ("2026-12-25"), closed all day.
    holidays = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"SLA policy of workspace {self.workspace_id}"

    def targets_for(self, priority: str) -> tuple[int | None, int | None]:
        """(first response, resolution) in business minutes for ``priority``."""
        return getattr(self, f"{priority}_first_response", None), getattr(
            self, f"{priority}_resolution", None
        )


# --- bulk actions and merging (issue 13) ---


class TicketMerge(models.Model):
    """``source`` was merged into ``target`` (tickets/merge.py): the source's page points to the
    target, and a ticket merged once is never merged again. Who merged it is in the audit log
    (``ticket.merged`` on both tickets); this row holds no person."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    source = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="merged_into")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="merged_from")
    merged_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"ticket {self.source_id} merged into {self.target_id}"


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


# --- saved views ---
# A named set of the ticket list's filters (tickets/saved_view_services.py). The filters are kept as the
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


class ByteOrderTextField(models.TextField):
    """Text compared byte by byte on PostgreSQL (collation "C"), whatever the database's own
    collation: a word's prefix is then one contiguous range of its index, which a language's
    collation does not promise. SQLite compares text byte by byte already."""

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters


class SubjectWord(models.Model):
    """One word of a ticket's subject, as PostgreSQL's full-text index reads it (``'simple'``
    configuration): the subject search's ordered index (tickets/subject_words.py).

    The full-text index finds the tickets holding a word but not the newest of them: a search
    read every match (a thousand, at a million tickets) to show the newest fifty. Here a word's
    tickets are in order, newest (highest id) first. PostgreSQL only: triggers keep it in step
    with the subjects (migration 0032); the retention marker has no words. Nothing else writes
    it, and on SQLite it stays empty (FTS5 serves the search there)."""

    pk = models.CompositePrimaryKey("workspace_id", "word", "ticket_id")
    # Plain columns, no foreign keys: only the database's triggers write them, and a ticket's
    # words go when it goes. The primary key's index (workspace, word, ticket) is the search's.
    workspace_id = models.BigIntegerField()
    word = ByteOrderTextField()
    ticket_id = models.BigIntegerField()
