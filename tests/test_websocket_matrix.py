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

import re

import pytest
from channels.db import database_sync_to_async

from helpdesk.routing import websocket_urlpatterns
from tests.matrix_support import (
    ADMIN,
    AGENT_WITH_QUEUE,
    ANONYMOUS,
    NOT_OBJECT_IDS,
    OUTSIDER,
    PROBES,
    REQUESTER_OWNER,
    ROLES,
    build_world,
)
from tests.tickets.test_live import ALLOWED_HOST, in_own_loop, open_socket, own_channel_layers
from tickets.live_contract import ROUTES, Close

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
