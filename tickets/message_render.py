"""The HTML of a conversation's messages and of attachment lists, built in Python.

A ticket page shows up to hundreds of messages; as a template (one ``{% include %}`` per message
and per attachment list, two to four ``{% url %}`` and two dates each) they were most of the
page's time. Here everything that is the same for every message of a page (the viewer's rights,
the translated labels, the URL patterns) is worked out once per page, each message costs string
formatting only, and every value from a person passes through ``format_html`` (escaped).

``tickets/_message.html`` and ``tickets/_attachments.html`` call these (through
``tickets/templatetags/ticket_tags.py``), so the page, the live fragments of the websocket
consumer and any other template share one markup. The classes and ids are what the scripts
(live.js, redaction.js) and the tests select on; keep them.
"""

import html

from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

from helpdesk.text import inline_text
from tickets.access import can_edit_message, can_redact
from tickets.bodies import message_html

LOCK_ICON = format_html(
    '<svg class="lock-icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">'
    '<path fill="currentColor" d="{}"/></svg>',
    "M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v6a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 14.5v-6A1.5 "
    "1.5 0 0 1 3.5 7H4zm2 0h4V5a2 2 0 1 0-4 0v2z",
)
# A number no route of this site ever gets as an id: reversed once, then replaced per row.
_ID_SLOT = 987654321987654321

_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
# content type -> (icon class, icon text, type label); substrings are tried after exact types.
_EXACT_TYPES = {
    "image/png": ("image", N_("IMG"), N_("PNG image")),
    "image/jpeg": ("image", N_("IMG"), N_("JPEG image")),
    "image/gif": ("image", N_("IMG"), N_("GIF image")),
    "image/webp": ("image", N_("IMG"), N_("WebP image")),
    "application/pdf": ("pdf", N_("PDF"), N_("PDF document")),
    "application/zip": ("zip", N_("ZIP"), N_("ZIP archive")),
    "text/plain": ("text", N_("TXT"), N_("Text")),
    "text/html": ("file", N_("FILE"), N_("HTML (downloads only)")),
    "image/svg+xml": ("file", N_("FILE"), N_("SVG (downloads only)")),
}
_PART_TYPES = (
    ("wordprocessingml", ("doc", N_("DOC"), N_("Word document"))),
    ("spreadsheetml", ("sheet", N_("XLS"), N_("Spreadsheet"))),
    ("presentationml", ("slides", N_("PPT"), N_("Presentation"))),
)
_OTHER_TYPE = ("file", N_("FILE"), N_("File"))
_TYPE_TEXTS = frozenset(
    text
    for kind in (*_EXACT_TYPES.values(), *(kind for _part, kind in _PART_TYPES), _OTHER_TYPE)
    for text in kind[1:]
)


def _kind_of(content_type: str) -> tuple[str, str, str]:
    exact = _EXACT_TYPES.get(content_type)
    if exact is not None:
        return exact
    for part, kind in _PART_TYPES:
        if part in content_type:
            return kind
    return _OTHER_TYPE


class Dates:
    """Times as the pages show them, in the zone and language active when made: what is the same
    for every date of a page (the zone, the month names) is looked up once."""

    def __init__(self):
        self.zone = timezone.get_current_timezone()
        # The ``date`` filter's "M": the month's three letters, translated, capitalised.
        self.months = {number: str(name).title() for number, name in MONTHS_3.items()}

    def shown(self, value) -> str:
        """The ``date`` filter's "j M Y H:i"."""
        local = value.astimezone(self.zone)
        return f"{local.day} {self.months[local.month]} {local.year} {local.hour:02d}:{local.minute:02d}"

    def machine(self, value) -> str:
        """``<time datetime>``: the ``date`` filter's "c", in the active zone as the templates had it."""
        return value.astimezone(self.zone).isoformat()


class _Route:
    """A URL name reversed once for a workspace and ticket; the row's id is filled in per row."""

    def __init__(self, name: str, slug: str, number: int, *, html: bool = False):
        head, _slot, tail = reverse(name, args=[slug, number, _ID_SLOT]).rpartition(str(_ID_SLOT))
        # ``html``: escaped once, for markup built without format_html.
        self.head, self.tail = (escape(head), escape(tail)) if html else (head, tail)

    def __call__(self, pk: int) -> str:
        return f"{self.head}{pk}{self.tail}"


class AttachmentsRenderer:
    """Attachment lists of one ticket for one viewer."""

    def __init__(self, *, ticket, workspace_slug: str, can_redact: bool = False):
        self.can_redact = can_redact
        self.download = _Route("attachment_download", workspace_slug, ticket.number)
        self.redact = _Route("attachment_redact", workspace_slug, ticket.number) if can_redact else None
        self.labels: dict[str, str] = {}  # translated when a page first shows a type
        self.list_label = gettext("Attachments")
        self.view_label = gettext("View")
        self.redact_label = gettext("Redact file")
        self.dates = Dates()

    def item(self, attachment) -> str:
        if attachment.redacted_at:
            when = gettext("File redacted %(when)s") % {"when": self.dates.shown(attachment.redacted_at)}
            return format_html(
                '<li class="attachment attachment-redacted">\n'
                '    <span class="attachment-icon attachment-icon-file" aria-hidden="true">—</span>\n'
                '    <span class="attachment-body"><span class="attachment-name">{}</span></span>\n'
                "  </li>",
                when,
            )
        icon, icon_text, type_label = _kind_of(attachment.content_type)
        download = self.download(attachment.pk)
        name = attachment.original_name
        view = ""
        if attachment.content_type in _IMAGE_TYPES or attachment.content_type == "application/pdf":
            view = format_html(
                '\n    <a class="attachment-view button small" href="{}" target="_blank" '
                'rel="noopener noreferrer">{}<span class="visually-hidden"> {}</span></a>',
                download,
                self.view_label,
                name,
            )
        redact = ""
        if self.redact is not None:
            redact = format_html(
                '\n    <a class="attachment-redact button small" href="{}">{}'
                '<span class="visually-hidden"> {}</span></a>',
                self.redact(attachment.pk),
                self.redact_label,
                name,
            )
        return format_html(
            '<li class="attachment">\n'
            '    <span class="attachment-icon attachment-icon-{}" aria-hidden="true">{}</span>\n'
            '    <span class="attachment-body">\n'
            '      <a class="attachment-name" href="{}?download=1" download>{}</a>\n'
            '      <span class="attachment-meta">{} · {}</span>\n'
            "    </span>{}{}\n"
            "  </li>",
            icon,
            self.label(icon_text),
            download,
            name,
            filesizeformat(attachment.size),
            self.label(type_label),
            view,
            redact,
        )

    def label(self, text: str) -> str:
        translated = self.labels.get(text)
        if translated is None:
            translated = self.labels[text] = gettext(text)
        return translated

    def render(self, attachments) -> str:
        """The ``<ul>`` of ``attachments``; nothing for none."""
        items = [self.item(attachment) for attachment in attachments]
        if not items:
            return ""
        return format_html(
            '<ul class="attachments" aria-label="{}">\n  {}\n</ul>',
            self.list_label,
            format_html_join("\n  ", "{}", ((item,) for item in items)),
        )


class MessagesRenderer:
    """Messages of one ticket for one viewer (``membership``)."""

    def __init__(self, *, membership, ticket):
        self.membership = membership
        self.ticket = ticket
        self.staff = membership.is_staff
        self.may_redact = self.staff and can_redact(membership)
        slug = membership.workspace.slug
        self.edit = _Route("message_edit", slug, ticket.number, html=True)
        self.redact = _Route("message_redact", slug, ticket.number, html=True) if self.may_redact else None
        self.attachments = AttachmentsRenderer(ticket=ticket, workspace_slug=slug, can_redact=self.may_redact)
        self.note_label = format_html(
            '<span class="message-kind note-label">{} {} <span class="note-lock-text">{}</span></span>',
            LOCK_ICON,
            gettext("Internal note"),
            gettext("(locked: only agents and admins see this)"),
        )
        self.reply_label = format_html(
            '<span class="message-kind reply-label">{}</span>', gettext("Public reply")
        )
        self.requester_badge = format_html('<span class="role-badge">{}</span>', gettext("Requester"))
        self.edited_label = escape(gettext("(edited)"))
        self.edit_label = escape(gettext("Edit"))
        self.redact_labels = (escape(gettext("Redact")), escape(gettext("part of this message")))
        self.full_email_summary = escape(
            gettext("Show the whole email (quoted history and signature; staff only)")
        )
        self.deleted_user = gettext("Deleted user")
        self.now = timezone.now()
        self.dates = Dates()
        self._authors = {}

    def _author(self, message) -> str:
        # Escaped and bidi-isolated once per person of the page, not once per message.
        author = self._authors.get(message.author_id)
        if author is None:
            shown = message.author if message.author is not None else self.deleted_user
            author = self._authors[message.author_id] = inline_text(shown)
        return author

    def render(self, message) -> SafeString:
        # Safe: every value is escaped (or already-safe HTML) where _markup puts it in.
        return mark_safe(self._markup(message))  # noqa: S308  # nosec B308 B703

    def _markup(self, message) -> str:
        # Built with f-strings: the fixed markup and the labels made in __init__ are already
        # HTML; every other value (a date, a translated sentence, a person's text) goes through
        # ``html.escape`` here (what Django's ``escape`` does, without its check for lazy text
        # on every call). format_html escaped every argument of every part, a third of the page.
        is_note = message.is_note
        if is_note:
            kind_label = self.note_label
        elif self.staff:
            kind_label = self.reply_label
        else:
            kind_label = ""
        requester = message.author_id and message.author_id == self.ticket.requester_id
        dates = self.dates
        created = message.created_at
        iso, shown_at = html.escape(dates.machine(created)), html.escape(dates.shown(created))
        meta = [f'<time datetime="{iso}">{shown_at}</time>']
        if message.edited_at:
            title = gettext("Edited %(edited_at)s") % {"edited_at": dates.shown(message.edited_at)}
            meta.append(f'<span class="edited" title="{html.escape(title)}">{self.edited_label}</span>')
        if message.redacted_at:
            when = gettext("Redacted %(when)s") % {"when": dates.shown(message.redacted_at)}
            meta.append(f'<span class="redacted-badge">{html.escape(when)}</span>')
        if can_edit_message(self.membership, message, now=self.now):
            meta.append(f'<a class="message-edit" href="{self.edit(message.pk)}">{self.edit_label}</a>')
        if self.redact is not None:
            meta.append(
                f'<a class="message-redact" data-message-id="{message.pk}" href="{self.redact(message.pk)}">'
                f'{self.redact_labels[0]}<span class="visually-hidden"> {self.redact_labels[1]}</span></a>'
            )
        full_email = ""
        full_text = getattr(message, "email_full_text", "")
        if self.staff and full_text:
            full_email = (
                f'\n  <details class="full-email">\n  <summary>{self.full_email_summary}</summary>\n'
                f'  <pre class="full-email-text">{html.escape(full_text)}</pre>\n</details>'
            )
        # The page's messages carry their files (selectors.ticket_messages); a live one reads them.
        shown = getattr(message, "shown_attachments", None)
        attachments = self.attachments.render(message.attachments.all() if shown is None else shown)
        meta_html = "\n      ".join(meta)
        kind_class = "message-note" if is_note else "message-reply"
        return (
            f'<article id="message-{message.pk}" class="message {kind_class}" '
            f'data-kind="{html.escape(message.kind)}">\n'
            '  <header class="message-head">\n'
            '    <span class="message-from">\n'
            f"      {kind_label}\n"
            f'      <strong class="message-author">{self._author(message)}</strong>\n'
            f"      {self.requester_badge if requester else ''}\n"
            "    </span>\n"
            '    <span class="message-meta">\n'
            f"      {meta_html}\n"
            "    </span>\n"
            "  </header>\n"
            f'  <div class="message-body">{message_html(message)}</div>{full_email}\n'
            f"  {attachments}\n"
            "</article>"
        )

    def render_all(self, messages) -> SafeString:
        # Safe: a join of what render marks safe.
        return mark_safe("".join([self._markup(message) for message in messages]))  # noqa: S308  # nosec B308 B703
