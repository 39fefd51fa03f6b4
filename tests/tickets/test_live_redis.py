"""Two real websocket clients (agent and requester) through uvicorn, on the Redis channel layer.

Runs everywhere: on REDIS_URL when it is set (CI), else on redis://127.0.0.1:6379/6. The server
runs the whole ASGI application (Origin check, session authentication) in its own thread and
event loop, so the events really cross the Redis layer between loops.
"""

import json
import uuid

import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.e2e import conftest as e2e
from tests.tickets.test_live import (  # noqa: F401
    _close_server_connections,
    in_thread,
    own_channel_layers,
    redis_address,
    redis_layers,
    session_cookie,
)
from tickets.live_contract import Frame
from tickets.models import MessageKind
from tickets.realtime import ticket_public_group, ticket_staff_group
from tickets.services import message_post

pytestmark = pytest.mark.django_db(transaction=True)

live_asgi = e2e.live_asgi  # the uvicorn live server fixture of the browser tests
TIMEOUT = 5
QUIET = 1.0


@pytest.fixture
def redis_layer(settings):
    with own_channel_layers(settings, forced_redis=True):
        yield settings.CHANNEL_LAYERS["default"]["CONFIG"]


def open_client(base_url, path, user, origin=None):
    ws_url = base_url.replace("http://", "ws://", 1) + path
    return connect(
        ws_url,
        origin=origin or base_url,
        additional_headers={"Cookie": session_cookie(user)},
        open_timeout=TIMEOUT,
    )


def post(ticket, author, kind, body):
    """Post through the service, which announces the message after commit (in a thread of its
    own: after the browser tests the main thread cannot run ``async_to_sync``)."""
    return in_thread(message_post, ticket=ticket, author=author, kind=kind, body=body, notify=False)


def test_agent_and_requester_share_a_ticket_over_redis(redis_layer, live_asgi, agent, requester, ticket):
    path = f"/ws/w/{ticket.workspace.slug}/tickets/{ticket.number}/"
    marker = f"NOTE-MARKER-{uuid.uuid4().hex}"
    store = redis.Redis.from_url(redis_address(redis_layer))
    prefix = redis_layer["prefix"]
    try:
        with (
            open_client(live_asgi, path, agent.user) as agent_ws,
            open_client(live_asgi, path, requester.user) as requester_ws,
        ):
            # The server process joined each of the ticket's groups once for its sockets
            # (tickets.realtime_fanout): the public group for both, the notes group for the
            # agent; the requester is in no staff subscription (checked by the note below).
            assert store.zcard(f"{prefix}:group:{ticket_public_group(ticket.pk)}") == 1
            assert store.zcard(f"{prefix}:group:{ticket_staff_group(ticket.pk)}") == 1

            note = post(ticket, agent.user, MessageKind.NOTE, f"Internal: {marker}")
            frame = json.loads(agent_ws.recv(timeout=TIMEOUT))
            assert (frame["type"], frame["id"]) == (Frame.MESSAGE, note.pk)
            assert marker in frame["html"]

            reply = post(ticket, agent.user, MessageKind.REPLY, "Your refund is on its way.")
            for ws in (agent_ws, requester_ws):
                frame = json.loads(ws.recv(timeout=TIMEOUT))
                assert (frame["type"], frame["id"]) == (Frame.MESSAGE, reply.pk)
                assert "Your refund is on its way." in frame["html"]
                assert marker not in frame["html"]
            # The first public reply of staff opened the new ticket: its header follows.
            frame = json.loads(requester_ws.recv(timeout=TIMEOUT))
            assert (frame["type"], frame["status"]) == (Frame.TICKET, "open")
            # Nothing else is waiting for the requester: the note never came.
            with pytest.raises(TimeoutError):
                requester_ws.recv(timeout=QUIET)
    finally:
        store.close()


def test_wrong_origin_is_refused_by_the_real_server(redis_layer, live_asgi, agent, ticket):
    path = f"/ws/w/{ticket.workspace.slug}/tickets/{ticket.number}/"
    with pytest.raises(InvalidStatus) as refused:
        open_client(live_asgi, path, agent.user, origin="http://evil.example")
    assert refused.value.response.status_code == 403
    with open_client(live_asgi, path, agent.user) as ws:  # same person, own origin: fine
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.2)
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with open_client(live_asgi, "/ws/w/acme/tickets/999/", agent.user) as ws:
            ws.recv(timeout=TIMEOUT)


def test_the_tests_redis_layer_is_the_products_and_outwaits_its_blocking_reads(settings):
    """A layer built without the product's ``socket_timeout`` reads with redis-py's default,
    no longer than channels_redis blocks waiting for an event: an idle consumer then dies with
    TimeoutError on a loaded machine. The tests' layer carries the product's options."""
    from channels_redis.core import RedisChannelLayer

    from tests.tickets.test_live import _product_channel_layers

    config = redis_layers()["default"]["CONFIG"]
    product = _product_channel_layers(redis_address(config))["default"]["CONFIG"]
    assert config["hosts"] == product["hosts"]
    assert config["prefix"] != product["prefix"]
    layer = RedisChannelLayer(**config)
    assert layer.hosts[0]["socket_timeout"] > layer.brpop_timeout
