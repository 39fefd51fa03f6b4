"""A message's stored HTML (``Message.body_html``): rendered when its body is written, never on
a read. Everything that writes ``Message.body`` sets it through here: the services (post, edit,
new ticket), anonymization (retention, erasure of a requester's words) and erasure's mentions
pass (through the ``derived`` hook the personal-data registry calls)."""

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from helpdesk.markdown import render_markdown
from tickets.models import Message, MessageKind

BATCH = 500


def body_html_of(body: str) -> str:
    """The sanitized HTML to store for ``body``."""
    return str(render_markdown(body))


def mention_href(workspace_slug: str):
    """Where a mention links: the tickets assigned to that person (staff pages only, since
    mentions show in internal notes only)."""
    base = reverse("ticket_list", kwargs={"slug": workspace_slug})
    return lambda user_id: f"{base}?assignee={user_id}"


def _rendered(*, body: str, kind: str, workspace_slug: str) -> SafeString:
    # Mentions are rendered in internal notes only: a public reply never shows one to a
    # requester (the services refuse a staff reply that holds one).
    if kind == MessageKind.NOTE:
        return render_markdown(body, mention_href=mention_href(workspace_slug))
    return render_markdown(body)


def stored_html_of(*, body: str, kind: str, workspace_slug: str) -> str:
    """The HTML to store for a message of ``kind`` (notes: Markdown plus mentions)."""
    return str(_rendered(body=body, kind=kind, workspace_slug=workspace_slug))


def message_html(message: Message) -> SafeString:
    """What a page shows for ``message``: the stored HTML.

    A row written around the services (a fixture, a raw SQL import) has none yet; it is rendered
    here rather than shown blank (bounded: the renderer is linear in a bounded input).
    """
    if message.body_html or not message.body:
        return mark_safe(message.body_html)  # noqa: S308 - sanitized when it was stored  # nosec B308 B703
    return _rendered(body=message.body, kind=message.kind, workspace_slug=message.workspace.slug)


def messages_rerender(message_ids) -> int:
    """Render and store the HTML of these messages again, after their bodies were rewritten in
    bulk. Runs in the caller's transaction; returns the rows updated."""
    ids = sorted(set(message_ids))
    updated = 0
    for start in range(0, len(ids), BATCH):
        rows = list(
            Message._base_manager.filter(pk__in=ids[start : start + BATCH])
            .select_related("workspace")
            .only("pk", "body", "kind", "workspace__slug")
        )
        for row in rows:
            row.body_html = stored_html_of(body=row.body, kind=row.kind, workspace_slug=row.workspace.slug)
        updated += Message._base_manager.bulk_update(rows, ["body_html"])
    return updated
