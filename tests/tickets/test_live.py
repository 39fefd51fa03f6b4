"""Websocket consumers of the ticket page and list, through helpdesk.asgi's application.

Each test builds the application with ``helpdesk.asgi.build_application`` (the function that
builds ``helpdesk.asgi.application``) after the test settings are in place, so the Origin check
and the session authentication run exactly as in production. Tests marked with the ``layer``
fixture run twice: on the configured layer (in-memory, or Redis when REDIS_URL is set) and on
Redis forced (redis://127.0.0.1:6379/6 when REDIS_URL is not set).

Every Redis layer a test uses is the product's configuration (``helpdesk/settings.py`` evaluated
for that Redis URL: its socket timeouts included) with a prefix of its own, and the cached layer
(``channels.layers.channel_layers``) is dropped before and after each test, so no layer built
for one test's settings serves the next.
"""

import asyncio
import contextlib
import copy
import functools
import importlib.util
import json
import os
import runpy
import uuid
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.conf import ENVIRONMENT_VARIABLE
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tests.conftest import make_member
from tests.factories import MessageFactory, ParticipantFactory, TicketFactory
from tickets import realtime_fanout
from tickets.consumers import TicketConsumer
from tickets.live_contract import Close, Frame
from tickets.models import MessageKind, Status, Ticket
from tickets.realtime import MESSAGE_CREATED, broadcast_ticket, ticket_public_group, ticket_staff_group
from tickets.services import message_post
from workspaces.models import Membership, Role
from workspaces.realtime import announce_access_changed
from workspaces.services import member_remove_many

pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED_HOST = "helpdesk.example.test"
ORIGIN = f"https://{ALLOWED_HOST}"
EVIL_ORIGIN = "https://evil.example"
# The Redis database these tests use when REDIS_URL names none (Redis runs on every machine).
FALLBACK_REDIS_URL = "redis://127.0.0.1:6379/6"
TIMEOUT = 3
QUIET = 0.5  # how long "nothing arrives" is watched for


def in_own_loop(test):
    """Run an async test in a thread of its own, on a fresh event loop.

    Browser tests (tests/e2e) keep Playwright's loop marked as running in the main thread for
    the rest of the session, so after them no event loop can run there (pytest-asyncio's
    included) and ``async_to_sync`` refuses to; a thread of its own has neither problem.
    """

    async def test_then_end_leftovers(*args, **kwargs):
        try:
            await test(*args, **kwargs)
        finally:
            await end_leftover_tasks()

    @functools.wraps(test)
    def run(*args, **kwargs):
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, test_then_end_leftovers(*args, **kwargs)).result(timeout=120)

    return run


LEFTOVER_CANCEL_ROUNDS = 5


async def end_leftover_tasks() -> None:
    """Cancel what a test left running (the consumers of sockets it did not close) until it has
    ended, while the test's loop still runs.

    Left to ``asyncio.run``'s shutdown, which cancels every task once and waits without a bound,
    a consumer's pending read of Redis (redis-py under channels_redis) sometimes swallowed the
    cancellation and went on reading, and the run hung (about one run in ten of the revocation
    tests on Redis; with channels' plain receive too). Ended here, with a bounded wait per
    round and a fresh cancellation for whatever is still running, it has not happened.
    """
    me = asyncio.current_task()

    def leftovers():
        return {task for task in asyncio.all_tasks() if task is not me and not task.done()}

    for _round in range(LEFTOVER_CANCEL_ROUNDS):
        if not leftovers():
            return
        pending = leftovers()
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=TIMEOUT)
    assert not leftovers(), f"tasks that would not end: {leftovers()}"


def in_thread(func, *args, **kwargs):
    """Call ``func`` in a thread of its own (see ``in_own_loop``) and return its result."""

    def call():
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()  # the thread ends here; its connection must not linger

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result(timeout=60)


# Helpers, also imported by test_live_redis.py -----------------------------------------------


@functools.cache
def _product_channel_layers(redis_url: str) -> dict:
    """CHANNEL_LAYERS exactly as ``helpdesk/settings.py`` builds them for ``REDIS_URL=redis_url``
    (its host options such as ``socket_timeout`` included): the settings module is evaluated
    again with that variable, without touching the settings in use."""
    with mock.patch.dict(os.environ, {"REDIS_URL": redis_url}):
        source = importlib.util.find_spec(os.environ[ENVIRONMENT_VARIABLE]).origin
        namespace = runpy.run_path(source, run_name="product_settings")
    layers = namespace["CHANNEL_LAYERS"]
    assert layers["default"]["BACKEND"].startswith("channels_redis"), layers
    return layers


def redis_layers() -> dict:
    """The product's Redis channel layer with a prefix of its own, so parallel runs never hear
    each other."""
    layers = copy.deepcopy(_product_channel_layers(os.environ.get("REDIS_URL") or FALLBACK_REDIS_URL))
    layers["default"]["CONFIG"]["prefix"] = f"hdtest-{uuid.uuid4().hex[:12]}"
    return layers


def redis_address(config: dict) -> str:
    """The URL of the first Redis host of a channels_redis CONFIG (a URL or a dict of options)."""
    host = config["hosts"][0]
    return host["address"] if isinstance(host, dict) else host


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


async def open_socket(app, path, user=None, origin=ORIGIN):
    """Connect ``user`` (or nobody) to ``path``; returns (communicator, connected, close_code)."""
    headers = [(b"host", ALLOWED_HOST.encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    cookie = ""
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(app, path, headers=headers)
    communicator.session_key = cookie.partition("=")[2]
    connected, code = await communicator.connect(timeout=TIMEOUT)
    return communicator, connected, code


async def frames_until(communicator, predicate, timeout=TIMEOUT):
    """Receive JSON frames until one satisfies ``predicate``; returns all frames received."""
    frames = []
    while True:
        frame = json.loads(await communicator.receive_from(timeout=timeout))
        frames.append(frame)
        if predicate(frame):
            return frames


async def expect_close(communicator, code):
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert output == {"type": "websocket.close", "code": code}


def ticket_path(ticket) -> str:
    return f"/ws/w/{ticket.workspace.slug}/tickets/{ticket.number}/"


def list_path(workspace) -> str:
    return f"/ws/w/{workspace.slug}/tickets/"


async def post(ticket, author, kind, body):
    """Post through the service, which announces the message after commit."""
    return await database_sync_to_async(message_post)(
        ticket=ticket, author=author, kind=kind, body=body, notify=False
    )


# Fixtures --------------------------------------------------------------------------------------


def _fresh_layers(settings, forced_redis: bool) -> None:
    """A layer of the test's own: Redis (the product's options, a prefix of its own) when forced
    or configured, else the configured one; no layer cached for earlier settings is reused."""
    if forced_redis or settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"):
        layers = redis_layers()
    else:
        layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    channel_layers.backends.clear()
    settings.CHANNEL_LAYERS = layers


@pytest.fixture(autouse=True)
def _close_server_connections():
    """Consumers' database threads close their connection after each use (CONN_MAX_AGE 0),
    so none is left open on the test database when it is dropped."""
    settings_dict = connections["default"].settings_dict
    before = settings_dict["CONN_MAX_AGE"]
    settings_dict["CONN_MAX_AGE"] = 0
    yield
    settings_dict["CONN_MAX_AGE"] = before


def _flush_redis_layer(layer) -> None:
    """Leave nothing behind: the Redis keys of this test's prefix, and no cached layer (built for
    this test's settings) for the next test to pick up. In a thread of its own: Playwright keeps
    an event loop running in browser tests' thread."""
    try:
        if isinstance(layer, RedisChannelLayer):
            in_thread(async_to_sync(layer.flush))
    finally:
        channel_layers.backends.clear()


@contextlib.contextmanager
def own_channel_layers(settings, *, forced_redis: bool = False):
    """Give the test a fresh channel layer of its own; flush and forget it afterwards (kept here,
    so its prefix is flushed even when something cleared the cache meanwhile)."""
    _fresh_layers(settings, forced_redis=forced_redis)
    layer = get_channel_layer()
    try:
        yield
    finally:
        _flush_redis_layer(layer)


@pytest.fixture(params=["configured", "redis"])
def layer(request, settings):
    with own_channel_layers(settings, forced_redis=request.param == "redis"):
        yield request.param


@pytest.fixture
def app(settings):
    from helpdesk.asgi import build_application

    settings.ALLOWED_HOSTS = [ALLOWED_HOST]
    return build_application()


@pytest.fixture(autouse=True)
def _own_layer(request, settings):
    if "layer" not in request.fixturenames:
        with own_channel_layers(settings):
            yield
    else:
        yield


@pytest.fixture
def outsider(other_workspace):
    return make_member(other_workspace, Role.ADMIN)


# Who may connect -------------------------------------------------------------------------------


@in_own_loop
async def test_wrong_origin_or_no_origin_is_refused(app, agent, ticket):
    for origin in (EVIL_ORIGIN, None):
        communicator, connected, _code = await open_socket(
            app, ticket_path(ticket), agent.user, origin=origin
        )
        assert not connected
        await communicator.disconnect()
    communicator, connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    assert connected  # the same person from the site's own origin gets in
    await communicator.disconnect()


@in_own_loop
async def test_anonymous_is_refused(app, ticket, workspace):
    for path in (ticket_path(ticket), list_path(workspace)):
        communicator, connected, code = await open_socket(app, path)
        assert (connected, code) == (False, Close.NOT_FOUND)
        await communicator.disconnect()


@in_own_loop
async def test_member_of_another_workspace_is_refused(app, ticket, workspace, outsider):
    for path in (ticket_path(ticket), list_path(workspace)):
        communicator, connected, code = await open_socket(app, path, outsider.user)
        assert (connected, code) == (False, Close.NOT_FOUND)
        await communicator.disconnect()


@in_own_loop
async def test_requester_of_another_ticket_and_agent_of_another_queue_are_refused(
    app, workspace, other_queue, ticket, agent
):
    stranger = await database_sync_to_async(make_member)(workspace, Role.REQUESTER)
    other_queue_ticket = await database_sync_to_async(TicketFactory)(
        workspace=workspace, queue=other_queue, number=2
    )
    cases = [
        (stranger.user, ticket_path(ticket)),
        (agent.user, ticket_path(other_queue_ticket)),
        (agent.user, f"/ws/w/{workspace.slug}/tickets/999/"),
    ]
    for user, path in cases:
        communicator, connected, code = await open_socket(app, path, user)
        assert (connected, code) == (False, Close.NOT_FOUND), path
        await communicator.disconnect()


@in_own_loop
async def test_refusals_of_signed_in_people_are_audited_once(app, workspace, other_queue, agent, outsider):
    from privacy.audit.actions import ACCESS_REFUSED
    from privacy.audit.models import AuditEvent
    from tickets.consumers import (
        REASON_NOT_MEMBER,
        REASON_NOT_VISIBLE,
        REFUSED_KIND_LIST,
        REFUSED_KIND_TICKET,
    )

    hidden = await database_sync_to_async(TicketFactory)(workspace=workspace, queue=other_queue, number=5)
    for _attempt in range(3):  # a reconnecting client is recorded once, not three times
        communicator, connected, _code = await open_socket(app, ticket_path(hidden), agent.user)
        assert not connected
        await communicator.disconnect()
    communicator, connected, _code = await open_socket(app, list_path(workspace), outsider.user)
    assert not connected
    await communicator.disconnect()
    communicator, connected, _code = await open_socket(app, list_path(workspace))  # anonymous
    assert not connected
    await communicator.disconnect()

    def refusals():
        return list(
            AuditEvent.objects.filter(action=ACCESS_REFUSED)
            .order_by("seq")
            .values_list("workspace_id", "actor_id", "detail")
        )

    events = await database_sync_to_async(refusals)()
    assert [(ws, actor, d["kind"], d["reason"]) for ws, actor, d in events] == [
        (workspace.pk, agent.user_id, REFUSED_KIND_TICKET, REASON_NOT_VISIBLE),
        (workspace.pk, outsider.user_id, REFUSED_KIND_LIST, REASON_NOT_MEMBER),
    ]


@in_own_loop
async def test_participant_requester_may_listen(app, workspace, ticket):
    participant = await database_sync_to_async(make_member)(workspace, Role.REQUESTER)
    await database_sync_to_async(ParticipantFactory)(ticket=ticket, user=participant.user)
    communicator, connected, _code = await open_socket(app, ticket_path(ticket), participant.user)
    assert connected
    await communicator.disconnect()


# What each one hears ---------------------------------------------------------------------------


@in_own_loop
async def test_agent_gets_notes_and_replies(app, layer, agent, requester, ticket):
    communicator, connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    assert connected

    note = await post(ticket, agent.user, MessageKind.NOTE, "Check the invoice history first")
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == Frame.MESSAGE
    assert frame["id"] == note.pk
    assert "Check the invoice history first" in frame["html"]

    reply = await post(ticket, requester.user, MessageKind.REPLY, "Any news on my refund?")
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    assert (frame["type"], frame["id"]) == (Frame.MESSAGE, reply.pk)
    assert "Any news on my refund?" in frame["html"]
    await communicator.disconnect()


@in_own_loop
async def test_a_live_message_shows_its_time_in_the_viewers_zone(app, layer, agent, requester, ticket):
    agent.user.time_zone = "Asia/Tokyo"
    await database_sync_to_async(agent.user.save)(update_fields=["time_zone"])
    communicator, connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    assert connected
    reply = await post(ticket, requester.user, MessageKind.REPLY, "What time is it there?")
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    # The same text the page shows for this viewer (helpdesk/timezones.py), not the UTC one.
    tokyo = reply.created_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
    assert f"{tokyo}</time>" in frame["html"]
    assert tokyo != reply.created_at.strftime("%H:%M")
    await communicator.disconnect()


@in_own_loop
async def test_requester_gets_replies_and_never_a_note(app, layer, agent, requester, ticket):
    marker = f"NOTE-MARKER-{uuid.uuid4().hex}"
    requester_socket, connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    assert connected
    agent_socket, connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    assert connected

    note = await post(ticket, agent.user, MessageKind.NOTE, f"Internal: {marker}")
    # The agent's socket proves the note was announced...
    agent_frames = await frames_until(agent_socket, lambda f: f.get("id") == note.pk)
    assert marker in agent_frames[-1]["html"]
    # ...and the requester's stays silent.
    assert await requester_socket.receive_nothing(timeout=QUIET)

    reply = await post(ticket, agent.user, MessageKind.REPLY, "We have refunded you.")
    frames = await frames_until(requester_socket, lambda f: f.get("id") == reply.pk)
    assert frames[-1]["type"] == Frame.MESSAGE
    assert "We have refunded you." in frames[-1]["html"]
    assert all(marker not in json.dumps(frame) for frame in frames)
    assert all(frame.get("id") != note.pk for frame in frames)
    await requester_socket.disconnect()
    await agent_socket.disconnect()


@in_own_loop
async def test_a_note_announced_to_the_public_group_still_never_reaches_a_requester(
    app, agent, requester, ticket
):
    """The consumer re-reads every message through Message.objects.visible_to: the group is
    not the only wall."""
    marker = f"NOTE-MARKER-{uuid.uuid4().hex}"
    requester_socket, _connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    agent_socket, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    note = await database_sync_to_async(MessageFactory)(
        ticket=ticket, author=agent.user, kind=MessageKind.NOTE, body=marker
    )

    # A buggy service sends the note's event to the public group.
    await get_channel_layer().group_send(
        ticket_public_group(ticket.pk),
        {"type": MESSAGE_CREATED, "ticket_id": ticket.pk, "message_id": note.pk},
    )

    agent_frame = await agent_socket.receive_json_from(timeout=TIMEOUT)
    assert marker in agent_frame["html"]
    assert await requester_socket.receive_nothing(timeout=QUIET)
    await requester_socket.disconnect()
    await agent_socket.disconnect()


@in_own_loop
async def test_agent_demoted_to_requester_loses_the_page_at_once(app, layer, admin, agent, ticket):
    """A socket keeps its access between checks; the role change announces itself, so the page
    closes before anything else reaches it."""
    from workspaces.services import member_set_role

    socket, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    await database_sync_to_async(member_set_role)(membership=agent, role=Role.REQUESTER)
    await post(ticket, admin.user, MessageKind.NOTE, "after the demotion")
    # As a requester who did not request the ticket, they lost it altogether.
    await expect_close(socket, Close.FORBIDDEN)


@in_own_loop
async def test_a_change_nobody_announced_is_caught_by_the_periodic_recheck(
    app, monkeypatch, admin, agent, ticket
):
    """A row changed by hand (or a session that simply expired) announces nothing: the
    socket's own re-check, every ACCESS_RECHECK_SECONDS, closes it. Until then new messages go
    by the access kept at connect."""
    monkeypatch.setattr(TicketConsumer, "access_recheck_seconds", 0.5)
    socket, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    await database_sync_to_async(Membership.objects.filter(pk=agent.pk).update)(role=Role.REQUESTER)
    await expect_close(socket, Close.FORBIDDEN)


@in_own_loop
async def test_ticket_changes_reach_the_page_without_agent_only_fields_for_requesters(
    app, agent, requester, ticket
):
    requester_socket, _connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    agent_socket, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)

    def solve():
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.SOLVED, assignee=agent.user)
        broadcast_ticket(Ticket.objects.get(pk=ticket.pk))

    await database_sync_to_async(solve)()

    frame = await requester_socket.receive_json_from(timeout=TIMEOUT)
    assert frame == {
        "type": Frame.TICKET,
        "id": ticket.number,
        "subject": ticket.subject,
        "status": Status.SOLVED,
        "status_label": "Solved",
    }
    frame = await agent_socket.receive_json_from(timeout=TIMEOUT)
    assert frame["status"] == Status.SOLVED
    assert frame["assignee_label"] == str(agent.user)
    assert frame["queue_label"] == ticket.queue.name
    # What the agent's properties form refreshes from (issue 17); never in a requester's frame.
    assert frame["properties"] == {
        "status": Status.SOLVED,
        "priority": ticket.priority,
        "queue": str(ticket.queue_id),
        "assignee": str(agent.user.pk),
        "version": ticket.version,
    }
    await requester_socket.disconnect()
    await agent_socket.disconnect()


@in_own_loop
async def test_list_rows_go_to_the_queue_agents_and_the_requester_only(
    app, layer, workspace, queue, other_queue, agent, requester
):
    agent_list, connected, _code = await open_socket(app, list_path(workspace), agent.user)
    assert connected
    requester_list, connected, _code = await open_socket(app, list_path(workspace), requester.user)
    assert connected

    def create(queue, requester_user, number, subject):
        ticket = TicketFactory(
            workspace=workspace, queue=queue, requester=requester_user, number=number, subject=subject
        )
        broadcast_ticket(ticket)
        return ticket

    # A ticket in a queue the agent does not work, by someone else: neither list hears of it.
    stranger = await database_sync_to_async(make_member)(workspace, Role.REQUESTER)
    await database_sync_to_async(create)(other_queue, stranger.user, 7, "Billing question")
    assert await agent_list.receive_nothing(timeout=QUIET)
    assert await requester_list.receive_nothing(timeout=QUIET)

    mine = await database_sync_to_async(create)(queue, requester.user, 8, "Printer on fire")
    for socket in (agent_list, requester_list):
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        assert (frame["type"], frame["id"]) == (Frame.ROW, mine.number)
        assert "Printer on fire" in frame["html"]

    # A note moves the row in the agents' list; the requester's list does not hear of notes.
    await post(mine, agent.user, MessageKind.NOTE, "internal")
    frame = await agent_list.receive_json_from(timeout=TIMEOUT)
    assert (frame["type"], frame["id"]) == (Frame.ROW, mine.number)
    assert await requester_list.receive_nothing(timeout=QUIET)

    # Moved out of the agent's queue: their list drops the row.
    def move():
        Ticket.objects.filter(pk=mine.pk).update(queue=other_queue)
        broadcast_ticket(Ticket.objects.get(pk=mine.pk), previous_queue_id=queue.pk)

    await database_sync_to_async(move)()
    frame = await agent_list.receive_json_from(timeout=TIMEOUT)
    assert frame == {"type": Frame.ROW_REMOVED, "id": mine.number}
    await agent_list.disconnect()
    await requester_list.disconnect()


# One subscription per process (tickets.realtime_fanout) ---------------------------------------


def subscribers(group: str) -> int:
    """The local sockets of ``group`` in this loop's shared subscription (0: none held)."""
    sub = realtime_fanout.fanout_for(get_channel_layer()).subscriptions.get(group)
    return 0 if sub is None else len(sub.consumers)


@in_own_loop
async def test_the_sockets_of_a_ticket_share_one_subscription_per_group_and_keep_their_walls(
    app, layer, workspace, admin, agent, requester, ticket
):
    public, staff = ticket_public_group(ticket.pk), ticket_staff_group(ticket.pk)
    tab_one, _c, _code = await open_socket(app, ticket_path(ticket), agent.user)
    tab_two, _c, _code = await open_socket(app, ticket_path(ticket), agent.user)
    admin_page, _c, _code = await open_socket(app, ticket_path(ticket), admin.user)
    requester_page, _c, _code = await open_socket(app, ticket_path(ticket), requester.user)
    # One channel of the process in each group, whatever the number of sockets; the requester's
    # socket is only in the public one.
    assert (subscribers(public), subscribers(staff)) == (4, 3)
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        assert len(get_channel_layer().groups[public]) == len(get_channel_layer().groups[staff]) == 1

    note = await post(ticket, agent.user, MessageKind.NOTE, "NOTE-FOR-STAFF")
    for page in (tab_one, tab_two, admin_page):  # (after the agents' presence frames)
        frames = await frames_until(page, lambda f: f.get("id") == note.pk)
        assert frames[-1]["type"] == Frame.MESSAGE
    assert await requester_page.receive_nothing(timeout=QUIET)

    # A removed agent's sockets leave at once and are closed; the others go on.
    def remove():
        Membership.objects.filter(pk=agent.pk).delete()
        announce_access_changed(workspace_id=workspace.pk, user_id=agent.user_id)

    await database_sync_to_async(remove)()
    await expect_close(tab_one, Close.FORBIDDEN)
    await expect_close(tab_two, Close.FORBIDDEN)
    assert (subscribers(public), subscribers(staff)) == (2, 1)
    reply = await post(ticket, admin.user, MessageKind.REPLY, "Sorted.")
    for page in (admin_page, requester_page):
        frames = await frames_until(page, lambda f: f.get("id") == reply.pk)
        assert frames[-1]["type"] == Frame.MESSAGE
    assert await tab_one.receive_nothing(timeout=QUIET)
    assert await tab_two.receive_nothing(timeout=QUIET)

    # The last socket of a group gives the process's membership up.
    await admin_page.disconnect()
    assert (subscribers(public), subscribers(staff)) == (1, 0)
    await requester_page.disconnect()
    assert subscribers(public) == 0
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        assert not get_channel_layer().groups.get(public) and not get_channel_layer().groups.get(staff)


# Losing access --------------------------------------------------------------------------------


@in_own_loop
async def test_removed_member_is_disconnected(app, layer, workspace, agent, ticket):
    page, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    listing, _connected, _code = await open_socket(app, list_path(workspace), agent.user)

    def remove():
        Membership.objects.filter(pk=agent.pk).delete()
        announce_access_changed(workspace_id=workspace.pk, user_id=agent.user_id)

    await database_sync_to_async(remove)()
    await expect_close(page, Close.FORBIDDEN)
    await expect_close(listing, Close.FORBIDDEN)


@in_own_loop
async def test_members_removed_together_all_lose_their_sockets(app, layer, workspace, queue, admin):
    """``member_remove_many`` (retention's inactive requesters, erasure's batches) announces every
    person after its commit, the sends running concurrently; each socket closes."""
    agents = [await database_sync_to_async(make_member)(workspace, Role.AGENT) for _ in range(3)]
    sockets = [(await open_socket(app, list_path(workspace), agent.user))[0] for agent in agents]

    def remove():
        with transaction.atomic():
            member_remove_many(memberships=Membership.objects.filter(pk__in=[a.pk for a in agents]))

    await database_sync_to_async(remove)()
    for socket in sockets:
        await expect_close(socket, Close.FORBIDDEN)


def sign_out(session_key: str) -> None:
    """Sign out the browser of ``session_key`` with the site's own sign-out button."""
    client = Client(HTTP_HOST=ALLOWED_HOST)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    response = client.post("/accounts/logout/", secure=True)
    assert response.status_code in (200, 302), response.status_code


@in_own_loop
async def test_signing_out_ends_live_updates_of_that_browser_only(app, layer, agent, requester, ticket):
    page, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    other_browser, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    await database_sync_to_async(sign_out)(page.session_key)
    await expect_close(page, Close.FORBIDDEN)
    reply = await post(ticket, requester.user, MessageKind.REPLY, "posted after the sign-out")
    frame = await other_browser.receive_json_from(timeout=TIMEOUT)
    assert frame["id"] == reply.pk  # still signed in there
    await other_browser.disconnect()


@in_own_loop
async def test_signing_out_other_sessions_ends_their_live_updates(app, agent, requester, ticket):
    from workspaces.sessions.services import sessions_revoke_others

    kept, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    ended, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    await database_sync_to_async(sessions_revoke_others)(user=agent.user, current_key=kept.session_key)
    await expect_close(ended, Close.FORBIDDEN)
    reply = await post(ticket, requester.user, MessageKind.REPLY, "only the kept one hears this")
    frame = await kept.receive_json_from(timeout=TIMEOUT)
    assert frame["id"] == reply.pk
    await kept.disconnect()


@in_own_loop
async def test_changing_the_password_ends_live_updates_of_other_sessions(app, requester, ticket):
    page, _connected, _code = await open_socket(app, ticket_path(ticket), requester.user)

    def change_password():
        requester.user.set_password("a-new-long-passphrase-42")
        requester.user.save(update_fields=["password"])

    await database_sync_to_async(change_password)()
    await database_sync_to_async(broadcast_ticket)(ticket)
    await expect_close(page, Close.FORBIDDEN)


@in_own_loop
async def test_agent_losing_the_queue_is_disconnected_from_its_tickets(app, workspace, queue, agent, ticket):
    from workspaces.services import queue_revoke

    page, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    listing, _connected, _code = await open_socket(app, list_path(workspace), agent.user)

    def revoke():
        queue_revoke(queue=queue, membership=agent)
        announce_access_changed(workspace_id=workspace.pk, user_id=agent.user_id)

    await database_sync_to_async(revoke)()
    await expect_close(page, Close.FORBIDDEN)
    # The list stays open (they are still a member) but left the queue's group.
    await database_sync_to_async(broadcast_ticket)(ticket)
    assert await listing.receive_nothing(timeout=QUIET)
    await listing.disconnect()


@in_own_loop
async def test_access_change_of_someone_else_changes_nothing(app, workspace, agent, requester, ticket):
    page, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    await database_sync_to_async(announce_access_changed)(
        workspace_id=workspace.pk, user_id=requester.user_id
    )
    await database_sync_to_async(announce_access_changed)(workspace_id=workspace.pk, user_id=agent.user_id)
    assert await page.receive_nothing(timeout=QUIET)  # still a member with the queue: stays open
    reply = await post(ticket, requester.user, MessageKind.REPLY, "still here")
    frame = await page.receive_json_from(timeout=TIMEOUT)
    assert frame["id"] == reply.pk
    await page.disconnect()


# A channel layer that fails ------------------------------------------------------------------


class FlakyLayerMixin:
    """A channel layer whose next ``fail_group_add`` group_add calls and ``fail_receive`` receive
    calls raise Redis's TimeoutError, as a read that outlasts the socket timeout does on a loaded
    machine. With ``error_on_cancel`` a cancelled receive raises ConnectionError instead of
    CancelledError, as redis-py's can when the cancellation drops its connection. ``failures``
    lists the calls that failed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fail_group_add = 0
        self.fail_receive = 0
        self.error_on_cancel = False
        self.failures: list[str] = []

    def fail(self, call: str):
        self.failures.append(call)
        raise RedisTimeoutError("Timeout reading from socket")

    async def group_add(self, group, channel):
        if self.fail_group_add:
            self.fail_group_add -= 1
            self.fail("group_add")
        return await super().group_add(group, channel)

    async def receive(self, channel):
        if self.fail_receive:
            self.fail_receive -= 1
            self.fail("receive")
        try:
            return await super().receive(channel)
        except asyncio.CancelledError:
            if not self.error_on_cancel:
                raise
            self.failures.append("receive cancelled")
            raise RedisConnectionError("Connection closed by server.") from None


class FlakyInMemoryLayer(FlakyLayerMixin, InMemoryChannelLayer):
    pass


class FlakyRedisLayer(FlakyLayerMixin, RedisChannelLayer):
    pass


@pytest.fixture
def flaky_layer(layer, settings):
    """The ``layer`` of the test (in-memory or Redis), failing on demand."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    on_redis = layers["default"]["BACKEND"].startswith("channels_redis")
    flaky = FlakyRedisLayer if on_redis else FlakyInMemoryLayer
    layers["default"]["BACKEND"] = f"{flaky.__module__}.{flaky.__qualname__}"
    channel_layers.backends.clear()
    settings.CHANNEL_LAYERS = layers
    return get_channel_layer()


@pytest.fixture
def no_retry_pauses(monkeypatch):
    monkeypatch.setattr(TicketConsumer, "layer_retry_delays", (0.0, 0.0))


@in_own_loop
async def test_a_layer_timeout_while_joining_groups_is_retried(app, flaky_layer, agent, requester, ticket):
    flaky_layer.fail_group_add = 1
    socket, connected, code = await open_socket(app, ticket_path(ticket), agent.user)
    assert (connected, code) == (True, None)
    assert flaky_layer.failures == ["group_add"]

    # The group whose join timed out was joined on the retry: replies and notes both arrive.
    reply = await post(ticket, requester.user, MessageKind.REPLY, "Any news?")
    frames = await frames_until(socket, lambda f: f.get("id") == reply.pk)
    assert frames[-1]["type"] == Frame.MESSAGE
    note = await post(ticket, agent.user, MessageKind.NOTE, "Ask billing")
    frames = await frames_until(socket, lambda f: f.get("id") == note.pk)
    assert frames[-1]["type"] == Frame.MESSAGE
    await socket.disconnect()


@in_own_loop
async def test_a_layer_timeout_while_waiting_for_events_is_retried(app, flaky_layer, requester, ticket):
    flaky_layer.fail_receive = 1  # the first wait for an event times out
    socket, connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    assert connected

    reply = await post(ticket, requester.user, MessageKind.REPLY, "Still broken")
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert (frame["type"], frame["id"]) == (Frame.MESSAGE, reply.pk)
    assert flaky_layer.failures == ["receive"]
    await socket.disconnect()


@in_own_loop
async def test_a_layer_that_keeps_failing_closes_the_socket_for_a_reconnect(
    app, flaky_layer, no_retry_pauses, requester, ticket
):
    # Joining the groups never succeeds: the socket is refused with the "try again" code.
    flaky_layer.fail_group_add = 100
    socket, connected, code = await open_socket(app, ticket_path(ticket), requester.user)
    assert (connected, code) == (False, Close.UNAVAILABLE)
    await socket.disconnect()
    assert flaky_layer.failures == ["group_add"] * 3  # the first try and two retries

    # Waiting for events stops working once connected: after the event already on its way, the
    # socket closes with the same code (and the consumer does not crash: it would raise here).
    flaky_layer.fail_group_add = 0
    socket, connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    assert connected
    flaky_layer.fail_receive = 100
    await database_sync_to_async(broadcast_ticket)(ticket)
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == Frame.TICKET
    await expect_close(socket, Close.UNAVAILABLE)
    await socket.disconnect()


@in_own_loop
async def test_a_layer_error_from_a_cancelled_wait_still_ends_the_consumer(
    app, flaky_layer, requester, ticket
):
    """The socket goes away, channels cancels the consumer's wait for events and the layer
    answers with ConnectionError: the consumer must end, not retry and wait forever (which hung
    the test run when the event loop closed)."""
    flaky_layer.error_on_cancel = True
    socket, connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    assert connected
    await socket.send_input({"type": "websocket.disconnect", "code": 1001})
    done, _pending = await asyncio.wait({socket.future}, timeout=TIMEOUT)
    if not done:  # let the stuck consumer go, so the failure is reported rather than hanging
        flaky_layer.error_on_cancel = False
        socket.future.cancel()
    assert done, "the consumer swallowed its cancellation and kept waiting for events"
    # Its own channel's wait and the wait of the ticket's shared subscription, which it was the
    # last socket of (tickets.realtime_fanout): both ended, neither retried.
    assert flaky_layer.failures == ["receive cancelled"] * 2
    assert socket.future.exception() is None


# What the frames show (issue 12) ---------------------------------------------------------------


@in_own_loop
async def test_a_message_frame_carries_the_stored_html_and_a_ticket_frame_no_bidi_control(
    app, agent, requester, ticket
):
    """The consumer renders nothing itself: the stored, sanitized HTML goes out as it is; a
    subject written with an RLO before the write-time stripping reaches the page without it."""
    socket, _connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    message = await database_sync_to_async(MessageFactory)(
        ticket=ticket, author=agent.user, kind=MessageKind.REPLY, body="**x**", body_html="<p>STORED</p>"
    )
    await get_channel_layer().group_send(
        ticket_public_group(ticket.pk),
        {"type": MESSAGE_CREATED, "ticket_id": ticket.pk, "message_id": message.pk},
    )
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert '<div class="message-body"><p>STORED</p></div>' in frame["html"]

    def spoof():
        Ticket.objects.filter(pk=ticket.pk).update(subject="Invoice \u202efdp.exe")
        broadcast_ticket(Ticket.objects.get(pk=ticket.pk))

    await database_sync_to_async(spoof)()
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    assert frame["subject"] == "Invoice fdp.exe"
    await socket.disconnect()
