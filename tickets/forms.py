"""Forms of the ticket pages. Choices come from the selectors, so a form only ever offers (and
accepts) what the acting member may pick; the services check the rules again."""

from django import forms

from helpdesk.text import strip_bidi
from tickets.attachments import AttachmentsField
from tickets.models import MESSAGE_BODY_MAX_LENGTH, MessageKind, Priority, Status
from tickets.selectors import (
    DEFAULT_SORT,
    SEARCH_MAX_LENGTH,
    SORT_LABELS,
    STATUS_DONE,
    STATUS_OPEN,
    participant_candidates,
    queue_staff,
    queues_for_filter,
    staff_members,
    workspace_people,
)
from workspaces.models import Queue

BODY_MAX_LENGTH = MESSAGE_BODY_MAX_LENGTH
MARKDOWN_HELP = "Markdown works: **bold**, _italic_, `code`, lists and links."


NOT_A_CANDIDATE = "No other member of this workspace has that email address, or they already take part."
NOT_A_MEMBER = "No member of this workspace has that email address."


class MemberEmailField(forms.EmailField):
    """A member picked by email address among ``queryset`` (set by the form): a workspace may
    have many thousands of members, too many for a list. Cleans to the User, or None if empty."""

    default_error_messages = {"not_found": NOT_A_CANDIDATE}

    def __init__(self, *args, not_found=None, **kwargs):
        kwargs.setdefault(
            "widget", forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"})
        )
        super().__init__(*args, **kwargs)
        self.queryset = None
        if not_found:
            self.error_messages["not_found"] = not_found

    def clean(self, value):
        email = super().clean(value)
        if not email:
            return None
        user = self.queryset.filter(email__iexact=email).first()
        if user is None:
            raise forms.ValidationError(self.error_messages["not_found"], code="not_found")
        return user


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        # An <option> cannot hold <bdi>: the name only loses its bidi controls (helpdesk.text).
        name = strip_bidi(obj.display_name)
        return f"{name} ({obj.email})" if name else obj.email


# The list -----------------------------------------------------------------------------------


class TicketFilterForm(forms.Form):
    """The filters of the ticket list (GET). Unknown values are errors shown above the list."""

    q = forms.CharField(label="Search", required=False, max_length=SEARCH_MAX_LENGTH)
    status = forms.ChoiceField(label="Status", required=False)
    queue = forms.ModelChoiceField(label="Queue", queryset=Queue.objects.none(), required=False)
    assignee = forms.ChoiceField(label="Assignee", required=False)
    priority = forms.ChoiceField(
        label="Priority", required=False, choices=[("", "Any priority"), *Priority.choices]
    )
    sort = forms.ChoiceField(label="Sort by", required=False, choices=list(SORT_LABELS.items()))
    dir = forms.ChoiceField(
        label="Order",
        required=False,
        choices=[("desc", "Descending"), ("asc", "Ascending")],
    )

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        statuses = [("", "Any status"), (STATUS_OPEN, "Open (not solved or closed)")]
        if membership.is_staff:
            statuses += list(Status.choices)
            self.fields["queue"].queryset = queues_for_filter(membership)
            self.fields["queue"].empty_label = "All my queues"
            people = [
                (str(user.pk), strip_bidi(str(user))) for user in staff_members(membership.workspace_id)
            ]
            self.fields["assignee"].choices = [
                ("", "Anyone"),
                ("me", "Me"),
                ("none", "Unassigned"),
                *people,
            ]
        else:
            statuses += [(STATUS_DONE, "Solved or closed")]
            for name in ("queue", "assignee", "priority"):
                del self.fields[name]
            self.fields["sort"].choices = [c for c in SORT_LABELS.items() if c[0] != "priority"]
        self.fields["status"].choices = statuses

    def values(self) -> dict:
        """The cleaned filters (empty ones for fields in error)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if self.is_bound and not self.is_valid():
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        queue = data.get("queue")
        return {
            "status": data.get("status") or "",
            "queue_id": queue.pk if queue is not None else None,
            "assignee": data.get("assignee") or "",
            "priority": data.get("priority") or "",
            "q": data.get("q") or "",
            "sort": data.get("sort") or DEFAULT_SORT,
            "descending": (data.get("dir") or "desc") == "desc",
        }


# A new ticket -------------------------------------------------------------------------------


class TicketCreateForm(forms.Form):
    requester = MemberEmailField(
        label="Requester's email",
        required=False,
        not_found=NOT_A_MEMBER,
        help_text="Opening a ticket on someone's behalf? Their email address; they will see it as "
        "theirs. Leave empty to open it as yourself.",
    )
    subject = forms.CharField(label="Subject", max_length=200)
    queue = forms.ModelChoiceField(label="Queue", queryset=Queue.objects.none(), empty_label=None)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, initial=Priority.NORMAL)
    description = forms.CharField(
        label="Description",
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=BODY_MAX_LENGTH,
        help_text=MARKDOWN_HELP,
    )
    # -- Attachments (tickets/attachments.py): the file input; the view passes request.FILES and
    # the service stores each cleaned upload on the ticket's first message. --
    attachments = AttachmentsField()

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        if membership.is_staff:
            self.fields["requester"].queryset = workspace_people(workspace_id=membership.workspace_id)
        else:
            del self.fields["requester"]
        # Every queue of the workspace: it only says where the ticket goes (staff may open one
        # for a queue they do not work, on someone's behalf).
        self.fields["queue"].queryset = Queue.objects.of_workspace(membership.workspace_id).order_by("name")


# The ticket page ----------------------------------------------------------------------------


class ReplyForm(forms.Form):
    """The reply box. Staff decide at posting whether the draft becomes a public reply or an
    internal note (the two submit buttons send ``kind``); requesters only ever post replies."""

    body = forms.CharField(
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=BODY_MAX_LENGTH,
        help_text=MARKDOWN_HELP,
    )
    # "Send and set pending/solved" are public replies that also set the status (one submit, one
    # transaction): a submit button sends a single value, so the status rides in ``kind``.
    kind = forms.ChoiceField(
        choices=[
            *MessageKind.choices,
            (f"{MessageKind.REPLY}+{Status.PENDING}", "Send and set Pending"),
            (f"{MessageKind.REPLY}+{Status.SOLVED}", "Send and set Solved"),
        ],
        required=True,
        widget=forms.HiddenInput,
    )
    # -- Attachments (tickets/attachments.py): files go onto the posted message. --
    attachments = AttachmentsField()

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        if not membership.is_staff:
            del self.fields["kind"]

    def posted_kind(self) -> str:
        if "kind" in self.fields:
            return self.cleaned_data["kind"].partition("+")[0]
        return MessageKind.REPLY

    def then_status(self) -> str | None:
        """The status "Send and set ..." asks for along with the reply, if any."""
        if "kind" in self.fields:
            return self.cleaned_data["kind"].partition("+")[2] or None
        return None


class MessageEditForm(forms.Form):
    """Only the body: the kind of a message is not editable, whatever a request sends."""

    body = forms.CharField(
        label="Message", widget=forms.Textarea(attrs={"rows": 8}), max_length=BODY_MAX_LENGTH
    )


class TicketPropertiesForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=Status.choices)
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices)
    queue = forms.ModelChoiceField(label="Queue", queryset=Queue.objects.none(), empty_label=None)
    assignee = PersonChoiceField(label="Assignee", queryset=None, required=False, empty_label="Unassigned")

    def __init__(self, *args, membership, ticket, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "status": ticket.status,
                "priority": ticket.priority,
                "queue": ticket.queue_id,
                "assignee": ticket.assignee_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        # Any queue of the workspace: an agent may hand a ticket to a team they are not part of.
        self.fields["queue"].queryset = Queue.objects.of_workspace(membership.workspace_id).order_by("name")
        self.fields["assignee"].queryset = queue_staff(queue=ticket.queue)
        self.fields["assignee"].help_text = "Agents who work this ticket's queue, and admins."

    def changes(self) -> dict:
        """Keyword arguments for ``ticket_update``: only what differs from the ticket."""
        data, ticket, changes = self.cleaned_data, self.ticket, {}
        if data["queue"].pk != ticket.queue_id:
            changes["queue"] = data["queue"]
        assignee = data.get("assignee")
        if (assignee.pk if assignee else None) != ticket.assignee_id:
            changes["assignee"] = assignee or False
        if data["priority"] != ticket.priority:
            changes["priority"] = data["priority"]
        if data["status"] != ticket.status:
            changes["status"] = data["status"]
        return changes


class ParticipantAddForm(forms.Form):
    user = MemberEmailField(
        label="Add a person", help_text="The email address of a member of this workspace."
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = participant_candidates(ticket=ticket)
