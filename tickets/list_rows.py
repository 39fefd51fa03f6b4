"""The rows of the ticket list, rendered in Python: the list page's 50 rows and a live row.

A row through the template engine cost about a millisecond (three templates, ~40 variable nodes,
a ``{% url %}`` and three ``date`` filters each), most of the list page's time. Here everything
that is the same for every row (translated labels, the ticket link's prefix, the viewer's time
zone and month names) is worked out once per page in ``RowRenderer``, and a row is one string
built from escaped pieces. ``tickets/_ticket_row.html`` renders through this class too, so the
page and the websocket's live rows (tickets.consumers) keep one markup.

Escaping: every value that comes from a person (subject, names, queue, tags) goes through
``escape_text`` or ``inline_html`` (bidi controls stripped, in ``<bdi>``); search excerpts are
already-safe HTML (tickets.search) and go through ``conditional_escape``. ``escape_text`` and
``inline_html`` write what Django's ``escape`` and ``helpdesk.text.inline_text`` write (the row's
values are plain text, never lazy nor already-safe), without their wrappers' checks: ten of them
a row were a tenth of the page's calls.
"""

import html

from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_noop as N_

from helpdesk.text import strip_bidi
from tickets import bulk, reads, sla_state
from tickets.models import Priority, Status
from tickets.tags import ticket_tag_names
from tickets.templatetags.sla_tags import KIND_LABELS, STATE_LABELS


def escape_text(value) -> str:
    return html.escape(str(value))


def inline_html(value) -> str:
    return f"<bdi>{html.escape(strip_bidi(str(value)))}</bdi>"


class _Texts:
    """A row's labels, month names and choices in the active language, escaped."""

    def __init__(self):
        self.months = [""] + [escape(str(MONTHS_3[m]).title()) for m in range(1, 13)]
        label = {
            key: escape(gettext(msgid))
            for key, msgid in {
                "select": N_("Select"),
                "subject": N_("Subject"),
                "status": N_("Status"),
                "priority": N_("Priority"),
                "queue": N_("Queue"),
                "requester": N_("Requester"),
                "assignee": N_("Assignee"),
                "due": N_("Due"),
                "updated": N_("Updated"),
                "customer_replied": N_("Customer replied"),
                "unread": N_("Unread:"),
                "unassigned": N_("Unassigned"),
                "nothing_due": N_("Nothing due"),
                "tags": N_("Tags"),
            }.items()
        }
        self.label = label
        self.deleted_user = gettext("Deleted user")
        self.select_label = gettext("Select #%(number)s")
        self.statuses = {value: escape(str(name)) for value, name in Status.choices}
        self.priorities = {value: escape(str(name)) for value, name in Priority.choices}
        self.sla_kinds = {key: escape(str(name)) for key, name in KIND_LABELS.items()}
        self.sla_states = {key: escape(str(name)) for key, name in STATE_LABELS.items()}
        self.unassigned = f'<span class="muted">{label["unassigned"]}</span>'
        self.nothing_due = (
            '<span class="muted" aria-hidden="true">–</span>'
            f'<span class="visually-hidden">{label["nothing_due"]}</span>'
        )


# {language: _Texts}: translations do not change while the process runs.
_TEXTS: dict = {}


class RowRenderer:
    """Renders rows for one viewer. Build it inside the viewer's language and time zone (the
    request, or ``override_for`` on a websocket): labels, months and times are fixed then."""

    def __init__(self, membership):
        self.membership = membership
        self.staff = membership.is_staff
        self.user_id = membership.user_id
        detail = reverse("ticket_detail", kwargs={"slug": membership.workspace.slug, "number": 0})
        # The ticket page's path ends in "/<number>/": the prefix is everything before the 0.
        self.href_prefix = escape(detail[: -len("0/")])
        self.zone = timezone.get_current_timezone()
        self.now = timezone.now()
        # The words of a row, the same for every viewer in a language.
        texts = _TEXTS.get(get_language())
        if texts is None:
            texts = _TEXTS[get_language()] = _Texts()
        self.months, self.label = texts.months, texts.label
        self.deleted_user, self.select_label = texts.deleted_user, texts.select_label
        self.statuses, self.priorities = texts.statuses, texts.priorities
        self.sla_kinds, self.sla_states = texts.sla_kinds, texts.sla_states
        self._unassigned, self._nothing_due = texts.unassigned, texts.nothing_due

    # Pieces ---------------------------------------------------------------------------------

    def _local(self, value):
        return timezone.localtime(value, self.zone) if timezone.is_aware(value) else value

    def _time(self, value, *, year: bool, title: str = "") -> str:
        """``<time>`` as the ``date`` filter writes "c" and "j M Y H:i" (or "j M H:i")."""
        title_attr = f' title="{title}"' if title else ""
        if value is None:
            return f'<time datetime=""{title_attr}></time>'
        local = self._local(value)
        shown = f"{local.day} {self.months[local.month]}"
        if year:
            shown += f" {local.year:04d}"
        shown += f" {local.hour:02d}:{local.minute:02d}"
        return f'<time datetime="{local.isoformat()}"{title_attr}>{shown}</time>'

    def _due_cell(self, ticket) -> str:
        due = sla_state.next_due(ticket, self.now)
        if due is None:
            return f'<td class="sla-due" data-label="{self.label["due"]}">{self._nothing_due}</td>'
        state = escape_text(due.state)
        if due.state == sla_state.PAUSED:
            inner = f'<span class="sla-marker sla-paused">{self.sla_states.get(due.state, "")}</span>'
        else:
            inner = self._time(due.due_at, year=False, title=self.sla_kinds.get(due.kind, ""))
            if due.state in (sla_state.SOON, sla_state.BREACHED):
                inner += f' <span class="sla-marker sla-{state}">{self.sla_states.get(due.state, "")}</span>'
        return f'<td class="sla-due" data-label="{self.label["due"]}" data-sla-state="{state}">{inner}</td>'

    def _tags(self, ticket) -> str:
        names = ticket_tag_names(ticket)
        if not names:
            return ""
        chips = "".join(f'<li class="tag-chip">{escape_text(name)}</li>' for name in names)
        return f'<ul class="tag-chips row-tags" aria-label="{self.label["tags"]}">{chips}</ul>'

    # A row ----------------------------------------------------------------------------------

    def row(self, ticket) -> str:
        """One ``<tr>``. The ticket needs queue, requester and assignee selected (staff), and
        ``seen_at`` for the unread markers (tickets.reads)."""
        label = self.label
        number = int(ticket.number)
        href = f"{self.href_prefix}{number}/"
        status = escape_text(ticket.status)
        marker = reads.marker(ticket=ticket, membership=self.membership) if self.staff else ""
        if not ticket.assignee_id:
            assigned = "none"
        elif ticket.assignee_id == self.user_id:
            assigned = "me"
        else:
            assigned = "other"
        out = [
            f'<tr id="ticket-row-{number}" class="ticket-row{" is-unread" if marker else ""}" '
            f'data-number="{number}" data-status="{status}" data-assignee="{assigned}"'
            f"{f' data-marker={chr(34)}{marker}{chr(34)}' if marker else ''}>\n  "
        ]
        if self.staff:
            select = escape_text(self.select_label % {"number": number})
            out.append(
                f'<td class="col-select" data-label="{label["select"]}"><input type="checkbox" '
                f'class="bulk-select" form="bulk-form" name="tickets" value="{number}" aria-label="{select}">'
                f'<input type="hidden" form="bulk-form" name="seen-{number}" '
                f'value="{escape_text(bulk.seen_token(ticket))}"></td>'
            )
        out.append(f'\n  <td class="col-number" data-label="#"><a href="{href}">#{number}</a></td>\n  ')
        if marker == reads.CUSTOMER_REPLIED:
            flag = f'<span class="read-marker customer-replied">{label["customer_replied"]}</span> '
        elif marker == reads.UNREAD:
            flag = (
                '<span class="read-marker unread"><span aria-hidden="true">●</span>'
                f'<span class="visually-hidden">{label["unread"]}</span></span> '
            )
        else:
            flag = ""
        search_subject = getattr(ticket, "search_subject", None)
        subject = conditional_escape(search_subject) if search_subject else inline_html(ticket.subject)
        search_snippet = getattr(ticket, "search_snippet", None)
        snippet = ""
        if search_snippet:
            snippet = f'<p class="search-snippet">{conditional_escape(search_snippet)}</p>'
        tags = self._tags(ticket) if self.staff else ""
        out.append(
            f'<td class="col-subject" data-label="{label["subject"]}">{flag}<a href="{href}">{subject}</a>'
            f"{snippet}{tags}</td>\n  "
            f'<td data-label="{label["status"]}"><span class="status status-{status}">'
            f"{self.statuses.get(ticket.status, status)}</span></td>\n  "
        )
        if self.staff:
            priority = escape_text(ticket.priority)
            requester = ticket.requester
            if requester is None:
                requester = ticket.requester_pseudonym or self.deleted_user
            assignee = inline_html(ticket.assignee) if ticket.assignee_id else self._unassigned
            out.append(
                f'\n  <td data-label="{label["priority"]}"><span class="priority priority-{priority}">'
                f"{self.priorities.get(ticket.priority, priority)}</span></td>\n  "
                f'<td data-label="{label["queue"]}">{escape_text(ticket.queue.name)}</td>\n  '
                f'<td data-label="{label["requester"]}">{inline_html(requester)}</td>\n  '
                f'<td data-label="{label["assignee"]}">{assignee}</td>\n  '
                f"{self._due_cell(ticket)}\n  \n  "
            )
            updated = ticket.updated_at
        else:
            # The last change a requester can see: never an internal note.
            updated = ticket.public_updated_at
        out.append(f'<td data-label="{label["updated"]}">{self._time(updated, year=True)}</td>\n  \n</tr>\n')
        return "".join(out)

    def rows(self, tickets) -> SafeString:
        # Safe: every value in a row is escaped (or already-safe HTML) where it is put in.
        return mark_safe("".join(self.row(ticket) for ticket in tickets))  # noqa: S308  # nosec B308 B703
