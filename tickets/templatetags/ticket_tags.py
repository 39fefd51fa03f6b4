"""Template helpers of the ticket pages (also used by the websocket consumer's fragments)."""

from django import template
from django.utils.translation import gettext

from helpdesk.text import inline_text
from tickets.access import can_edit_message, can_redact
from tickets.bodies import message_html
from tickets.message_render import AttachmentsRenderer, MessagesRenderer

register = template.Library()


@register.filter(name="message_html")
def message_html_filter(message):
    """A message's body as the sanitized HTML stored when it was written (tickets.bodies)."""
    return message_html(message)


@register.filter
def editable_by(message, membership) -> bool:
    """True while ``membership``'s person may still edit ``message`` (author, 15 minutes)."""
    return membership is not None and can_edit_message(membership, message)


@register.filter
def may_redact(membership) -> bool:
    """True when ``membership`` may redact messages and files (tickets.access.can_redact)."""
    return membership is not None and membership.is_staff and can_redact(membership)


@register.simple_tag
def person(user, fallback=None):
    """A person's display name; deleted people show as a neutral label, never as blank. Bidi
    controls are stripped and the name is isolated in ``<bdi>`` (helpdesk.text)."""
    return inline_text(user if user is not None else (fallback or gettext("Deleted user")))


@register.simple_tag(takes_context=True)
def message_article(context, message):
    """One message as ``tickets/_message.html`` shows it (tickets/message_render.py), for the
    ``membership`` and ``ticket`` of the context."""
    return MessagesRenderer(membership=context["membership"], ticket=context["ticket"]).render(message)


@register.simple_tag
def conversation_html(messages, membership, ticket):
    """Every message of a page, with what is the same for all of them worked out once."""
    return MessagesRenderer(membership=membership, ticket=ticket).render_all(messages)


@register.simple_tag
def attachment_list(attachments, ticket, workspace_slug, can_redact=False):
    """The ``<ul>`` of ``tickets/_attachments.html`` (nothing when there are none)."""
    renderer = AttachmentsRenderer(ticket=ticket, workspace_slug=workspace_slug, can_redact=bool(can_redact))
    return renderer.render(attachments)
