"""The websocket contract on the live pages: ``{% live_attributes "ticket" slug=... number=... %}``
renders the ``data-live-*`` attributes of that route (see ``tickets.live_contract``)."""

import json

from django import template
from django.forms.utils import flatatt
from django.utils.translation import gettext

from tickets.live_contract import ROUTES, PresenceState

register = template.Library()


@register.simple_tag
def live_attributes(route_name: str, **kwargs):
    """`` data-live-route="..." data-live-url="..." ...``, escaped, for the element live.js binds."""
    return flatatt(ROUTES[route_name].attributes(**kwargs))


@register.simple_tag
def presence_labels(where: str):
    """`` data-presence-labels="{...}"``: the sentences live.js shows for each presence state
    (tickets.presence), translated here; ``%(name)s`` is the person, ``%(number)s`` the ticket."""
    if where == "list":
        labels = {
            PresenceState.VIEWING.name: gettext("%(name)s is viewing"),
            PresenceState.TYPING_REPLY.name: gettext("%(name)s is replying"),
            PresenceState.TYPING_NOTE.name: gettext("%(name)s is writing a note"),
            "ROW": gettext("#%(number)s: %(people)s"),
        }
    else:
        labels = {
            PresenceState.VIEWING.name: gettext("%(name)s is viewing"),
            PresenceState.TYPING_REPLY.name: gettext("%(name)s is typing a reply"),
            PresenceState.TYPING_NOTE.name: gettext("%(name)s is typing a note"),
        }
    return flatatt({"data-presence-labels": json.dumps(labels)})
