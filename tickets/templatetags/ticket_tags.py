"""Template helpers of the ticket pages (also used by the websocket consumer's fragments)."""

from django import template

from helpdesk.text import inline_text
from tickets import reads
from tickets.access import can_edit_message
from tickets.bodies import message_html

register = template.Library()


@register.filter(name="message_html")
def message_html_filter(message):
    """A message's body as the sanitized HTML stored when it was written (tickets.bodies)."""
    return message_html(message)


@register.filter
def editable_by(message, membership) -> bool:
    """True while ``membership``'s person may still edit ``message`` (author, 15 minutes)."""
    return membership is not None and can_edit_message(membership, message)


@register.simple_tag
def person(user, fallback="Deleted user"):
    """A person's display name; deleted people show as a neutral label, never as blank. Bidi
    controls are stripped and the name is isolated in ``<bdi>`` (helpdesk.text)."""
    return inline_text(user if user is not None else fallback)


@register.simple_tag
def read_marker(ticket, membership) -> str:
    """ "customer_replied", "unread" or "" for this staff member's row (tickets.reads)."""
    return reads.marker(ticket=ticket, membership=membership)
