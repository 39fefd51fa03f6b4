"""Template helpers of the ticket pages (also used by the websocket consumer's fragments)."""

from django import template

from helpdesk.markdown import render_markdown
from tickets.access import can_edit_message

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """A message body as sanitized HTML (see helpdesk.markdown)."""
    return render_markdown(text)


@register.filter
def editable_by(message, membership) -> bool:
    """True while ``membership``'s person may still edit ``message`` (author, 15 minutes)."""
    return membership is not None and can_edit_message(membership, message)


@register.simple_tag
def person(user, fallback="Deleted user"):
    """A person's display name; deleted people show as a neutral label, never as blank."""
    return str(user) if user is not None else fallback
