"""The websocket access matrix: every websocket route x every role, and the other workspace's ids.

The routes come from ``helpdesk.routing.websocket_urlpatterns`` (what ``helpdesk.asgi`` serves);
a route without an entry in ``WS_MATRIX`` fails ``test_every_websocket_route_has_an_entry``. Each
case connects through the production ASGI application (Origin check, session authentication)
with ``WebsocketCommunicator`` and the role's session cookie, and expects the socket accepted
(``ACCEPT``) or closed with the contract's code (``Close.NOT_FOUND`` = 4404 for "no such page for
you", like the pages' 404). ``Close.FORBIDDEN`` (4403) is the answer to access revoked while
connected, tested in tests/tickets/test_live.py.

Each route argument naming an object is replaced by the other workspace's object of that kind
(``PROBES`` of tests/matrix_support.py), keeping this workspace's slug: every role gets 4404.
"""

import json
import re

import pytest
from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.db import connections

from helpdesk.routing import websocket_urlpatterns
from tests.conftest import make_member
from tests.matrix_support import (
    ADMIN,
    AGENT_WITH_QUEUE,
    AGENT_WITHOUT_QUEUE,
    ANONYMOUS,
    NOT_OBJECT_IDS,
    OUTSIDER,
    PROBES,
    REQUESTER_OTHER,
    REQUESTER_OWNER,
    ROLES,
    build_world,
)
from tests.tickets.test_live import ALLOWED_HOST, frames_until, in_own_loop, open_socket, own_channel_layers
from tickets.live_contract import ROUTES, TICKET, TICKET_LIST, Close, Frame, Inbound, PresenceState
from tickets.realtime import broadcast_ticket
from workspaces.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

ACCEPT = "accept"


def _refused_except(*roles):
    return {**dict.fromkeys(ROLES, Close.NOT_FOUND), **dict.fromkeys(roles, ACCEPT)}


# route name (``ws_<live_contract route>``) -> URL arguments from the World, answers by role.
WS_MATRIX = {
    "ws_ticket_list": {
        "kwargs_factory": lambda world: {},
        "expected": {**dict.fromkeys(ROLES, ACCEPT), OUTSIDER: Close.NOT_FOUND, ANONYMOUS: Close.NOT_FOUND},
    },
    "ws_ticket": {
        "kwargs_factory": lambda world: {"number": world.ticket.number},
        "expected": _refused_except(ADMIN, AGENT_WITH_QUEUE, REQUESTER_OWNER),
    },
}


def _arguments(pattern) -> list[str]:
    return re.findall(r"<(?:[^>:]+:)?(\w+)>", str(pattern.pattern))


def _route(name):
    return ROUTES[name.removeprefix("ws_")]


def _probe_cases():
    for pattern in websocket_urlpatterns:
        for argument in _arguments(pattern):
            if argument in PROBES:
                for role in ROLES:
                    yield pytest.param(pattern.name, argument, role, id=f"{pattern.name}-{argument}-{role}")


@pytest.fixture
def app(settings):
    from helpdesk.asgi import build_application

    settings.ALLOWED_HOSTS = [ALLOWED_HOST]
    with own_channel_layers(settings):
        yield build_application()


async def _answer(app, path, user):
    communicator, connected, code = await open_socket(app, path, user)
    await communicator.disconnect()
    return ACCEPT if connected else code


def test_every_websocket_route_has_an_entry():
    names = [pattern.name for pattern in websocket_urlpatterns]
    assert names and None not in names, "every websocket route needs a name for the matrix"
    missing = sorted(set(names) - set(WS_MATRIX))
    assert not missing, f"websocket routes with no entry in WS_MATRIX: {missing}"
    assert not set(WS_MATRIX) - set(names), "entries for websocket routes that do not exist"


def test_every_websocket_argument_is_probed_or_declared():
    unknown = [
        f"{pattern.name}: <{argument}>"
        for pattern in websocket_urlpatterns
        for argument in _arguments(pattern)
        if argument not in PROBES and argument not in NOT_OBJECT_IDS
    ]
    assert not unknown, f"websocket route arguments with no probe: {unknown}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(WS_MATRIX))
@in_own_loop
async def test_websocket_matrix(app, name, role):
    world = await database_sync_to_async(build_world)()
    entry = WS_MATRIX[name]
    path = _route(name).url(slug=world.workspace.slug, **entry["kwargs_factory"](world))

    answer = await _answer(app, path, world.user(role))

    assert answer == entry["expected"][role], f"{path} as {role}"


@pytest.mark.parametrize(("name", "argument", "role"), list(_probe_cases()))
@in_own_loop
async def test_websocket_cross_workspace_probe(app, name, argument, role):
    world = await database_sync_to_async(build_world)()
    kwargs = WS_MATRIX[name]["kwargs_factory"](world)
    kwargs[argument] = await database_sync_to_async(PROBES[argument])(world)
    path = _route(name).url(slug=world.workspace.slug, **kwargs)

    answer = await _answer(app, path, world.user(role))

    assert answer == Close.NOT_FOUND, f"{path} as {role}: the other workspace's {argument}"


# Presence (tickets/presence.py): which role's socket hears that someone views world.ticket and
# types a note there. GETS: a frame naming the typist; SILENT: connected, and the next event of
# the route arrives with no presence before it; a refusal code: the socket never opened.
GETS = "gets"
SILENT = "silent"
PRESENCE_MATRIX = {
    "ws_ticket": {
        ADMIN: GETS,
        AGENT_WITH_QUEUE: GETS,
        AGENT_WITHOUT_QUEUE: Close.NOT_FOUND,
        REQUESTER_OWNER: SILENT,  # requesters see nothing of agents' presence, even viewing
        REQUESTER_OTHER: Close.NOT_FOUND,
        OUTSIDER: Close.NOT_FOUND,
        ANONYMOUS: Close.NOT_FOUND,
    },
    "ws_ticket_list": {
        ADMIN: GETS,
        AGENT_WITH_QUEUE: GETS,
        AGENT_WITHOUT_QUEUE: SILENT,  # a list of Billing only: no marker of a Support ticket
        REQUESTER_OWNER: SILENT,
        REQUESTER_OTHER: SILENT,
        OUTSIDER: Close.NOT_FOUND,
        ANONYMOUS: Close.NOT_FOUND,
    },
}


def test_every_presence_frame_kind_has_a_matrix():
    presence_frames = {Frame.PRESENCE: "ws_ticket", Frame.ROW_PRESENCE: "ws_ticket_list"}
    for frame, name in presence_frames.items():
        assert frame in _route(name).frames
        assert set(PRESENCE_MATRIX[name]) == set(ROLES), name


@pytest.fixture
def database_thread_left_closed():
    """See tests/tickets/test_presence.py: the presence events handled while the sockets closed
    leave no session open in the consumers' database thread."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


def _presence_world():
    """The world, a typist (an admin of its workspace) and one of the other workspace, whose
    ticket has the same number as world.ticket."""
    world = build_world()
    typist = make_member(world.workspace, Role.ADMIN, display_name="Typing Typist")
    foreign_ticket = world.foreign["ticket"]
    return world, typist.user, foreign_ticket


def _is_presence(frame) -> bool:
    return frame["type"] in (Frame.PRESENCE.value, Frame.ROW_PRESENCE.value)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(PRESENCE_MATRIX))
@in_own_loop
async def test_presence_matrix(app, database_thread_left_closed, name, role):
    world, typist, foreign_ticket = await database_sync_to_async(_presence_world)()
    slug = world.workspace.slug
    path = (
        TICKET.url(slug=slug, number=world.ticket.number)
        if name == "ws_ticket"
        else TICKET_LIST.url(slug=slug)
    )
    expected = PRESENCE_MATRIX[name][role]

    listener, connected, code = await open_socket(app, path, world.user(role))
    if not connected:
        assert code == expected, f"{path} as {role}"
        return
    if name == "ws_ticket_list":
        numbers = [world.ticket.number, world.other_ticket.number]
        await listener.send_json_to({"type": Inbound.WATCH.value, "numbers": numbers})
    # Someone of the other workspace works a ticket there; then the typist writes a note here.
    outsider_path = TICKET.url(slug=world.other_workspace.slug, number=foreign_ticket.number)
    outsider, _connected, _code = await open_socket(app, outsider_path, world.user(OUTSIDER))
    await outsider.send_json_to({"type": Inbound.PRESENCE.value, "state": PresenceState.TYPING_NOTE.value})
    typing, _connected, _code = await open_socket(
        app, TICKET.url(slug=slug, number=world.ticket.number), typist
    )
    await typing.send_json_to({"type": Inbound.PRESENCE.value, "state": PresenceState.TYPING_NOTE.value})

    if expected == GETS:
        wanted = [{"name": str(typist), "state": PresenceState.TYPING_NOTE.value}]
        frames = await frames_until(listener, lambda f: _is_presence(f) and f["people"] == wanted)
        assert frames[-1].get("id", world.ticket.number) == world.ticket.number
    else:
        # Once an admin's page shows the note being typed, the presence events are on their way
        # to every listener; a change of both tickets then reaches every list and page the role
        # has open, and nothing of presence may come before it.
        observer, _connected, _code = await open_socket(
            app, TICKET.url(slug=slug, number=world.ticket.number), world.user(ADMIN)
        )
        wanted = [{"name": str(typist), "state": PresenceState.TYPING_NOTE.value}]
        await frames_until(observer, lambda f: _is_presence(f) and f["people"] == wanted)
        await observer.disconnect()
        await database_sync_to_async(broadcast_ticket)(world.ticket)
        await database_sync_to_async(broadcast_ticket)(world.other_ticket)
        frames = await frames_until(listener, lambda f: f["type"] in (Frame.TICKET.value, Frame.ROW.value))
        assert not any(_is_presence(frame) for frame in frames), f"{path} as {role}"
    assert str(world.user(OUTSIDER)) not in json.dumps(frames), "presence of another workspace"
    for socket in (listener, outsider, typing):
        await socket.disconnect()
