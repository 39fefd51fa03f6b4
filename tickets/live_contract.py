"""The websocket contract between the consumers and ``static/js/live.js``, defined once.

Routes (socket paths), frame types (the ``type`` of each JSON frame a consumer sends) and close
codes live here and nowhere else. ``tickets.routing`` builds its URL patterns from the routes,
the consumers build every frame from a ``Frame`` of their route and close with a ``Close``, and
the pages hand the same values to live.js in ``data-*`` attributes (``Route.attributes``, through
the ``live_attributes`` template tag), so the script carries no frame type or close code of its
own:

- ``data-live-route``: the route's name; live.js picks the page behaviour by it;
- ``data-live-url``: the socket path of this page;
- ``data-live-frames``: ``{"<Frame name>": "<type on the wire>"}`` for the frames of this route.
  live.js keys its handlers by the names (``MESSAGE``, ``ROW_REMOVED``...) and dispatches on the
  wire types it reads here;
- ``data-live-close``: ``{"<code>": "<CloseAction name>"}``: what the browser does when the server
  closes with that code. Codes not listed (a dropped network, a server restart) reconnect.
- ``data-live-sends``: ``{"<Inbound name>": "<type on the wire>"}`` for the frames the browser may
  send on this route (presence, staff only: see ``tickets.presence``);
- ``data-live-presence``: ``{"<PresenceState name>": "<value>", ...}`` plus the timings the
  browser keeps (heartbeat, typing refresh and idle), so live.js writes no state or period of its
  own either.

``tests/tickets/test_live_contract.py`` checks that live.js, the pages and the consumers agree.
"""

import json
import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from django.urls.converters import get_converters
from django.urls.resolvers import RoutePattern

ATTR_ROUTE = "data-live-route"
ATTR_URL = "data-live-url"
ATTR_FRAMES = "data-live-frames"
ATTR_CLOSE = "data-live-close"
ATTR_SENDS = "data-live-sends"
ATTR_PRESENCE = "data-live-presence"


class Frame(StrEnum):
    """JSON frames sent to the browser, rendered for the member on the other end."""

    MESSAGE = "message"  # {type, id, html}: a message of the ticket page, appended or replaced
    # {type, id, subject, status, status_label, [staff only: labels, properties {status, priority,
    # queue, assignee, version}, changed_by, changed_by_me]}: the header and the properties form
    TICKET = "ticket"
    ROW = "row"  # {type, id, html}: a row of the ticket list, inserted or moved to the top
    ROW_REMOVED = "row.removed"  # {type, id}: a row that left this member's list
    # Presence (staff only, see tickets.presence): {type, people: [{name, state}]}, the other
    # people on this ticket page now, one entry per person however many tabs they have open.
    PRESENCE = "presence"
    # {type, id, people: [{name, state}]}: the same for one row of the list (empty: nobody).
    ROW_PRESENCE = "row.presence"


class Inbound(StrEnum):
    """JSON frames the browser sends. Only staff sockets are listened to; anything else (an
    unknown type, a requester's frame, a malformed one) is ignored without an answer."""

    # {type, state}: what this person does on the ticket page now (a PresenceState value); sent
    # on every change, and again as the heartbeat that keeps the entry from expiring.
    PRESENCE = "presence.set"
    # {type, numbers: [int, ...]}: the rows the list shows, whose presence the browser wants now.
    WATCH = "presence.watch"


class PresenceState(StrEnum):
    """What a person does on a ticket page. Never any text: only which box they type in."""

    VIEWING = "viewing"
    TYPING_REPLY = "typing_reply"
    TYPING_NOTE = "typing_note"


# Seconds. The browser sends its state at least every HEARTBEAT; the server forgets an entry not
# refreshed within PRESENCE_TTL (a tab that went silent, a process that died), and a typing state
# not refreshed within TYPING_TTL falls back to viewing. While keys are pressed the browser
# repeats its typing state at most every TYPING_REFRESH, and says "viewing" after TYPING_IDLE
# without a key.
HEARTBEAT_SECONDS = 15
PRESENCE_TTL_SECONDS = 45
TYPING_TTL_SECONDS = 8
TYPING_REFRESH_SECONDS = 3
TYPING_IDLE_SECONDS = 5


class Close(IntEnum):
    """Close codes of the consumers (the 4000-4999 range is the application's)."""

    # Access ended while connected: removed, demoted, queue revoked, signed out, password changed.
    FORBIDDEN = 4403
    # "No such page for you": anonymous, stranger, other workspace, someone else's ticket (one
    # answer for all, like the pages' 404).
    NOT_FOUND = 4404
    # The channel layer (Redis) kept failing; nothing the member did, so the browser reconnects
    # (and re-reads the page for what it missed).
    UNAVAILABLE = 4503


class CloseAction(StrEnum):
    """What live.js does after a close; its handlers are keyed by these names."""

    END = "END"  # stop and say so; reconnecting would get the same answer
    RETRY = "RETRY"  # reconnect with backoff


CLOSE_ACTIONS: dict[Close, CloseAction] = {
    Close.FORBIDDEN: CloseAction.END,
    Close.NOT_FOUND: CloseAction.END,
    Close.UNAVAILABLE: CloseAction.RETRY,
}

PRESENCE_CONTRACT = {
    "states": {state.name: state.value for state in PresenceState},
    "heartbeat": HEARTBEAT_SECONDS,
    "typing_refresh": TYPING_REFRESH_SECONDS,
    "typing_idle": TYPING_IDLE_SECONDS,
}

# A path() parameter such as ``<int:number>`` (the syntax django.urls.path and channels read).
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    """One websocket route: its ``django.urls.path`` pattern and the frames its consumer sends."""

    name: str
    path: str  # without the leading slash, as URLRouter matches it
    frames: tuple[Frame, ...]
    sends: tuple[Inbound, ...] = ()  # what the browser may send on this route

    def url(self, **kwargs) -> str:
        """The socket path for ``kwargs``, e.g. ``/ws/w/acme/tickets/7/``."""
        converters = get_converters()

        def fill(match):
            converter = converters[match["converter"] or "str"]
            return converter.to_url(kwargs[match["name"]])

        url = _PARAMETER.sub(fill, self.path)
        if RoutePattern(self.path, is_endpoint=True).match(url) is None:
            raise ValueError(f"{kwargs!r} do not make a path of the {self.name!r} route")
        return "/" + url

    def attributes(self, **kwargs) -> dict[str, str]:
        """The ``data-*`` attributes that hand this route's contract to live.js."""
        return {
            ATTR_ROUTE: self.name,
            ATTR_URL: self.url(**kwargs),
            ATTR_FRAMES: json.dumps({frame.name: frame.value for frame in self.frames}),
            ATTR_CLOSE: json.dumps({str(code.value): action.value for code, action in CLOSE_ACTIONS.items()}),
            ATTR_SENDS: json.dumps({inbound.name: inbound.value for inbound in self.sends}),
            ATTR_PRESENCE: json.dumps(PRESENCE_CONTRACT),
        }


TICKET_LIST = Route(
    name="ticket_list",
    path="ws/w/<slug:slug>/tickets/",
    frames=(Frame.ROW, Frame.ROW_REMOVED, Frame.ROW_PRESENCE),
    sends=(Inbound.WATCH,),
)
TICKET = Route(
    name="ticket",
    path="ws/w/<slug:slug>/tickets/<int:number>/",
    frames=(Frame.MESSAGE, Frame.TICKET, Frame.PRESENCE),
    sends=(Inbound.PRESENCE,),
)
ROUTES: dict[str, Route] = {route.name: route for route in (TICKET_LIST, TICKET)}
