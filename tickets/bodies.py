"""A message's stored HTML (``Message.body_html``): rendered when its body is written, never on
a read. Everything that writes ``Message.body`` sets it through here: the services (post, edit,
new ticket), anonymization (retention, erasure of a requester's words) and erasure's mentions
pass (through the ``derived`` hook the personal-data registry calls)."""

from django.utils.safestring import SafeString, mark_safe

from helpdesk.markdown import render_markdown
from tickets.models import Message

BATCH = 500


def body_html_of(body: str) -> str:
    """The sanitized HTML to store for ``body``."""
    return str(render_markdown(body))


def message_html(message: Message) -> SafeString:
    """What a page shows for ``message``: the stored HTML.

    A row written around the services (a fixture, a raw SQL import) has none yet; it is rendered
    here rather than shown blank (bounded: the renderer is linear in a bounded input).
    """
    if message.body_html or not message.body:
        return mark_safe(message.body_html)  # noqa: S308 - sanitized when it was stored  # nosec B308 B703
    return render_markdown(message.body)


def messages_rerender(message_ids) -> int:
    """Render and store the HTML of these messages again, after their bodies were rewritten in
    bulk. Runs in the caller's transaction; returns the rows updated."""
    ids = sorted(set(message_ids))
    updated = 0
    for start in range(0, len(ids), BATCH):
        rows = list(Message._base_manager.filter(pk__in=ids[start : start + BATCH]).only("pk", "body"))
        for row in rows:
            row.body_html = body_html_of(row.body)
        updated += Message._base_manager.bulk_update(rows, ["body_html"])
    return updated
