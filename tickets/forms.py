"""Forms of the ticket pages. Choices come from the selectors, so a form only ever offers (and
accepts) what the acting member may pick; the services check the rules again."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpdesk.fixed_choices import FixedChoices
from helpdesk.form_rendering import KeptSelect
from helpdesk.text import strip_bidi
from tickets.attachments import AttachmentsField
from tickets.models import MESSAGE_BODY_MAX_LENGTH, TAG_NAME_MAX_LENGTH, MessageKind, Priority, Status
from tickets.redaction import REASON_MAX_LENGTH
from tickets.selectors import (
    SEARCH_MAX_LENGTH,
    SORT_LABELS,
    STATUS_DONE,
    STATUS_OPEN,
    cached_workspace_queues,
    list_choices,
    participant_candidates,
    queue_staff,
    queue_staff_choices,
    workspace_people,
)
from tickets.tag_field_forms import suggest_attrs
from workspaces.models import Queue

BODY_MAX_LENGTH = MESSAGE_BODY_MAX_LENGTH
MARKDOWN_HELP = _("Markdown works: **bold**, _italic_, `code`, lists and links.")
NOT_A_CANDIDATE = _("No other member of this workspace has that email address, or they already take part.")
NOT_A_MEMBER = _("No member of this workspace has that email address.")
NOT_A_MEMBER_INVITE = _(
    "No member of this workspace has that email address. Check it, or tick “Invite them as a "
    "requester” to invite this person and open the ticket for them."
)


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


def person_label(person) -> str:
    """A person as a select's option shows them: "Name (address)", or the address alone. An
    <option> cannot hold <bdi>: the name only loses its bidi controls (helpdesk.text)."""
    name = strip_bidi(person.display_name)
    return f"{name} ({person.email})" if name else person.email


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class ReadOnceChoiceIterator(forms.models.ModelChoiceIterator):
    """A model select's choices read with one plain query per form. Django's iterator opens a
    server-side cursor on every pass, and rendering a ``<select>`` passes twice (the first
    choice decides the ``required`` attribute): here the queryset keeps what it read."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


def choices_read_once(field, queryset) -> None:
    field.iterator = ReadOnceChoiceIterator  # before the queryset: setting it hands the widget its choices
    field.queryset = queryset


# The list -----------------------------------------------------------------------------------


class KnownQueueField(forms.ModelChoiceField):
    """A queue among queues already read: no query to list them nor to check the one chosen."""

    def __init__(self, queues, **kwargs):
        super().__init__(queryset=Queue.objects.none(), **kwargs)
        self.set_queues(queues)

    def set_queues(self, queues) -> None:
        self.known = {str(queue.pk): queue for queue in queues}
        empty = [] if self.empty_label is None else [("", self.empty_label)]
        self.choices = FixedChoices([*empty, *((queue.pk, str(queue)) for queue in queues)])

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return self.known[str(value)]
        except KeyError:
            error = self.error_messages["invalid_choice"]
            raise forms.ValidationError(error, code="invalid_choice") from None


class TicketFilterForm(forms.Form):
    """The filters of the ticket list (GET). Unknown values are errors shown above the list."""

    q = forms.CharField(label=_("Search"), required=False, max_length=SEARCH_MAX_LENGTH)
    status = forms.ChoiceField(label=_("Status"), required=False, widget=KeptSelect)
    queue = KnownQueueField((), label=_("Queue"), required=False, widget=KeptSelect)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False, widget=KeptSelect)
    priority = forms.ChoiceField(
        label=_("Priority"),
        required=False,
        widget=KeptSelect,
        choices=FixedChoices([("", _("Any priority")), *Priority.choices]),
    )
    # Staff only: one tag by name (tickets/tags.py); static/js/tags.js suggests the workspace's tags.
    tag = forms.CharField(label=_("Tag"), required=False, max_length=TAG_NAME_MAX_LENGTH)
    sort = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=FixedChoices(SORT_LABELS.items()), widget=KeptSelect
    )
    dir = forms.ChoiceField(
        label=_("Order"),
        required=False,
        widget=KeptSelect,
        choices=FixedChoices([("desc", _("Descending")), ("asc", _("Ascending"))]),
    )

    def __init__(self, *args, membership, choices=None, **kwargs):
        """``choices``: the page's ``selectors.list_choices`` when it has them (else read here)."""
        super().__init__(*args, **kwargs)
        self.membership = membership
        statuses = [("", _("Any status")), (STATUS_OPEN, _("Open (not solved or closed)"))]
        if membership.is_staff:
            choices = choices or list_choices(membership)
            statuses += list(Status.choices)
            self.fields["queue"] = KnownQueueField(
                choices.queues,
                label=_("Queue"),
                required=False,
                empty_label=_("All my queues"),
                widget=KeptSelect,
            )
            people = [(str(user.pk), strip_bidi(str(user))) for user in choices.staff]
            self.fields["assignee"].choices = FixedChoices(
                [("", _("Anyone")), ("me", _("Me")), ("none", _("Unassigned")), *people]
            )
        else:
            statuses += [(STATUS_DONE, _("Solved or closed"))]
            for name in ("queue", "assignee", "priority", "tag"):
                del self.fields[name]
            self.fields["sort"].choices = FixedChoices(
                c for c in SORT_LABELS.items() if c[0] not in ("priority", "due")
            )
        self.fields["status"].choices = FixedChoices(statuses)
        if "tag" in self.fields:
            url = reverse("tag_suggestions", kwargs={"slug": membership.workspace.slug})
            self.fields["tag"].widget.attrs.update(suggest_attrs(url, multiple=False))

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
            "tag": data.get("tag") or "",
            "sort": data.get("sort") or "",
            "descending": (data.get("dir") or "desc") == "desc",
        }


# A new ticket -------------------------------------------------------------------------------


class RequesterEmailField(MemberEmailField):
    """A member by email, or, when the form's ``invite_requester`` box is ticked, the address of
    someone to invite as a requester (cleaned to the address: ``TicketCreateForm.clean``)."""

    def clean(self, value):
        try:
            return super().clean(value)
        except forms.ValidationError as error:
            if getattr(error, "code", "") != "not_found":
                raise
            return forms.EmailField.clean(self, value).strip().lower()


class TicketCreateForm(forms.Form):
    requester = RequesterEmailField(
        label=_("Requester's email"),
        required=False,
        not_found=NOT_A_MEMBER,
        help_text=_(
            "Opening a ticket on someone's behalf? Their email address; they will see it as "
            "theirs. Leave empty to open it as yourself."
        ),
    )
    invite_requester = forms.BooleanField(
        label=_("Not a member yet? Invite them as a requester"),
        required=False,
        help_text=_("They get an email to set a password and follow the ticket."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), empty_label=None)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    description = forms.CharField(
        label=_("Description"),
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
            del self.fields["invite_requester"]
        # Every queue of the workspace: it only says where the ticket goes (staff may open one
        # for a queue they do not work, on someone's behalf).
        self.fields["queue"].queryset = Queue.objects.of_workspace(membership.workspace_id).order_by("name")

    def clean(self):
        cleaned = super().clean()
        # An address that is not a member is only invited when staff said so: a typo must not
        # create an account and send someone an email.
        if isinstance(cleaned.get("requester"), str) and not cleaned.get("invite_requester"):
            self.add_error("requester", NOT_A_MEMBER_INVITE)
        return cleaned

    def requester_to_invite(self) -> str | None:
        """The address to invite as the ticket's requester, or None (a member, or the author)."""
        requester = self.cleaned_data.get("requester")
        return requester if isinstance(requester, str) else None


# The ticket page ----------------------------------------------------------------------------


class ReplyForm(forms.Form):
    """The reply box. Staff decide at posting whether the draft becomes a public reply or an
    internal note (the two submit buttons send ``kind``); requesters only ever post replies."""

    body = forms.CharField(
        label=_("Your message"),
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
    # -- Macros (tickets/macros): the macro inserted into the box, applied when sent (staff). --
    macro = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        if not membership.is_staff:
            del self.fields["kind"]
            del self.fields["macro"]

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
    """Only the body: the kind of a message is not editable, whatever a request sends. ``seen``
    is the version of the text the form showed (``tickets.services.body_version``), so an edit
    against a text changed since is refused (issue 17)."""

    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}), max_length=BODY_MAX_LENGTH
    )
    seen = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean(self):
        data = super().clean()
        if "seen" in self.errors:
            raise forms.ValidationError(FORM_OUT_OF_DATE, code="out_of_date")
        return data


FORM_OUT_OF_DATE = _("This form is out of date: reload the page and make your changes again.")
# The last one may be empty: the person saw the ticket unassigned.
SEEN_FIELDS = ("status", "priority", "queue", "assignee")


class TicketPropertiesForm(forms.Form):
    """Status, priority, queue and assignee, with the version and the values the person saw
    (hidden), so the service applies only what they changed and refuses a change made against
    a value someone else has changed since (issue 17)."""

    # Kept once rendered (KeptSelect): the same few selects, with the ticket's values, on every
    # view of every ticket.
    status = forms.ChoiceField(label=_("Status"), choices=FixedChoices(Status.choices), widget=KeptSelect)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=FixedChoices(Priority.choices), widget=KeptSelect
    )
    queue = KnownQueueField((), label=_("Queue"), empty_label=None, widget=KeptSelect)
    assignee = PersonChoiceField(
        label=_("Assignee"), queryset=None, required=False, empty_label=_(_("Unassigned")), widget=KeptSelect
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    seen_status = forms.CharField(widget=forms.HiddenInput, required=False)
    seen_priority = forms.CharField(widget=forms.HiddenInput, required=False)
    seen_queue = forms.IntegerField(widget=forms.HiddenInput, required=False)
    seen_assignee = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, membership, ticket, queues=None, staff=None, **kwargs):
        kwargs.setdefault("initial", self.values_of(ticket))
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        # Any queue of the workspace: an agent may hand a ticket to a team they are not part of.
        # ``queues``: the workspace's, already read by the page (tickets.workspace_cache), and
        # ``staff``: the ticket's queue's (``staff_by_queue``), shown as the assignee choices.
        if queues is None:
            queues = cached_workspace_queues(membership.workspace_id)
        self.fields["queue"].set_queues(queues)
        assignee = self.fields["assignee"]
        if self.is_bound:
            choices_read_once(assignee, queue_staff(queue=ticket.queue))
        else:
            # Only shown: its choices are the people read through kept SQL (or the page's cache),
            # written as they are shown, and with no value to check it needs no queryset
            # (building the staff queryset was half the form's cost).
            people = queue_staff_choices(queue=ticket.queue) if staff is None else staff
            assignee.choices = FixedChoices(
                [("", assignee.empty_label), *((person.pk, person_label(person)) for person in people)]
            )
        self.fields["assignee"].help_text = _("Agents who work this ticket's queue, and admins.")

    @staticmethod
    def values_of(ticket) -> dict:
        """The form's values for ``ticket`` as it is: shown and, hidden, "seen"."""
        values = {
            "status": ticket.status,
            "priority": ticket.priority,
            "queue": ticket.queue_id,
            "assignee": ticket.assignee_id,
        }
        return {**values, **{f"seen_{k}": v for k, v in values.items()}, "version": ticket.version}

    def clean(self):
        data = super().clean()
        # A post without what the person saw (an old tab, a hand-made request) cannot be told
        # apart from an overwrite: refused rather than guessed.
        hidden = ("version", *(f"seen_{f}" for f in SEEN_FIELDS))
        unanswered = [name for name in hidden[:-1] if self.data.get(name) in (None, "")]
        if unanswered or any(name in self.errors for name in hidden):
            raise forms.ValidationError(FORM_OUT_OF_DATE, code="out_of_date")
        return data

    def seen(self) -> dict:
        """What the person saw, comparable with ``tickets.services.property_values``."""
        return {field: self.cleaned_data[f"seen_{field}"] for field in SEEN_FIELDS}

    def wanted(self) -> dict:
        data = self.cleaned_data
        return {
            "status": data["status"],
            "priority": data["priority"],
            "queue": data["queue"],
            "assignee": data.get("assignee"),
        }

    def data_over(self, ticket) -> dict:
        """The form to show again after a refusal, over ``ticket`` as it is now: the fields the
        person changed keep their choice, the others show the current value (posting them back
        unchanged would undo the other person's change), and the hidden values and version are
        the current ones, so one click applies the person's choices."""
        data = self.data.copy()
        for name, value in self.values_of(ticket).items():
            value = "" if value is None else str(value)
            if name in SEEN_FIELDS and self.data.get(name, "") != self.data.get(f"seen_{name}", ""):
                continue
            data[name] = value
        return data


class ParticipantAddForm(forms.Form):
    user = MemberEmailField(
        label=_("Add a person"), help_text=_("The email address of a member of this workspace.")
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # Only a submitted address is looked for among them; the shown form lists no one, and
            # building the queryset was a tenth of a ticket page's time.
            self.fields["user"].queryset = participant_candidates(ticket=ticket)


# Redaction (tickets/redaction.py) -----------------------------------------------------------


class MessageRedactForm(forms.Form):
    """The text to replace with "[redacted]" (selected in the message's text, or typed) and why."""

    text = forms.CharField(
        label=_("Text to redact"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Select it in the message's text above, or paste it here. Every place it appears is redacted."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Kept in the audit log; the redacted text itself is not."),
    )


class AttachmentRedactForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        help_text=_("Kept in the audit log. The file is deleted from storage for good."),
    )
