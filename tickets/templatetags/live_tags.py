"""The websocket contract on the live pages: ``{% live_attributes "ticket" slug=... number=... %}``
renders the ``data-live-*`` attributes of that route (see ``tickets.live_contract``)."""

from django import template
from django.forms.utils import flatatt

from tickets.live_contract import ROUTES

register = template.Library()


@register.simple_tag
def live_attributes(route_name: str, **kwargs):
    """`` data-live-route="..." data-live-url="..." ...``, escaped, for the element live.js binds."""
    return flatatt(ROUTES[route_name].attributes(**kwargs))
