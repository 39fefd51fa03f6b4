"""Presence on the ticket page and the ticket list (tickets/presence.py), through the production
ASGI application: who sees whom viewing and typing, that requesters see and send nothing of it,
that a person with two tabs counts once, and that entries go when a socket closes, goes silent
or loses access. Tests with the ``layer`` fixture run on the configured layer and on Redis."""

import json

import pytest
from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connections
from django.urls import reverse

from tests.conftest import make_member
from tests.tickets import test_live
from tests.tickets.test_live import (
    QUIET,
    expect_close,
    frames_until,
    in_own_loop,
    list_path,
    open_socket,
    post,
    ticket_path,
)
from tickets import live_contract
from tickets.consumers import TicketConsumer, TicketListConsumer
from tickets.live_contract import Close, Frame, Inbound, PresenceState
from tickets.models import MessageKind
from tickets.presence import presence_of
from tickets.realtime import broadcast_ticket
from workspaces.models import Membership, Role
from workspaces.realtime import announce_access_changed

pytestmark = pytest.mark.django_db(transaction=True)

# The fixtures of the live tests: the ASGI app, a channel layer of each test's own (and the
# ``layer`` parameter that runs a test on Redis too), connections closed after each test.
app = test_live.app
layer = test_live.layer
_own_layer = test_live._own_layer
_close_server_connections = test_live._close_server_connections


@pytest.fixture(autouse=True)
def _database_thread_left_closed(_close_server_connections):
    """After each test, wait for the consumers' database thread (asgiref's single thread for
    thread-sensitive calls) to finish what the last presence events asked of it, and close its
    connection: an event handled while the test's sockets closed must not leave a session open
    on the test database when it is dropped."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=30)


SECRET = "the refund code is 4711"
WAIT = 5


def say(state: PresenceState, **extra) -> dict:
    return {"type": Inbound.PRESENCE.value, "state": state.value, **extra}


def people(*pairs) -> list[dict]:
    return [{"name": str(user), "state": state.value} for user, state in pairs]


def presence_is(expected):
    return lambda frame: frame["type"] == Frame.PRESENCE and frame["people"] == expected


def row_presence_is(number, expected):
    return lambda frame: (
        frame["type"] == Frame.ROW_PRESENCE and frame["id"] == number and frame["people"] == expected
    )


def no_presence(frames) -> bool:
    return not any(frame["type"] in (Frame.PRESENCE, Frame.ROW_PRESENCE) for frame in frames)


@pytest.fixture
def colleague(workspace):
    """A second agent of the ticket's queue (the ``agent`` fixture's queue)."""
    return make_member(workspace, Role.ADMIN, display_name="Dana Colleague")


@in_own_loop
async def test_agents_see_each_other_viewing_and_typing_a_note(app, layer, agent, colleague, ticket):
    mine, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)

    await frames_until(mine, presence_is(people((colleague.user, PresenceState.VIEWING))))
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))

    # The browser says which box it types in, never the text (an extra field is not kept).
    await mine.send_json_to(say(PresenceState.TYPING_NOTE, body=SECRET))
    frames = await frames_until(theirs, presence_is(people((agent.user, PresenceState.TYPING_NOTE))))
    stored = await presence_of(get_channel_layer(), ticket_id=ticket.pk)
    assert stored == {agent.user_id: PresenceState.TYPING_NOTE, colleague.user_id: PresenceState.VIEWING}
    assert SECRET not in json.dumps(frames)
    assert all(set(person) == {"name", "state"} for person in frames[-1]["people"])

    await mine.send_json_to(say(PresenceState.VIEWING))
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))

    # Leaving the page takes the person off at once.
    await mine.disconnect()
    await frames_until(theirs, presence_is([]))
    await theirs.disconnect()


@in_own_loop
async def test_a_requester_never_receives_presence_and_is_never_shown(
    app, layer, agent, colleague, requester, ticket
):
    customer, _connected, _code = await open_socket(app, ticket_path(ticket), requester.user)
    mine, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))

    # A requester's own presence frames are ignored: nobody sees them viewing or typing.
    await customer.send_json_to(say(PresenceState.TYPING_REPLY))
    await mine.send_json_to(say(PresenceState.TYPING_NOTE))
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.TYPING_NOTE))))
    await mine.send_json_to(say(PresenceState.TYPING_REPLY))
    frames = await frames_until(theirs, presence_is(people((agent.user, PresenceState.TYPING_REPLY))))
    assert str(requester.user) not in json.dumps(frames)

    # The requester's socket hears the reply that follows, and nothing of presence before it.
    reply = await post(ticket, agent.user, MessageKind.REPLY, "We are on it.")
    frames = await frames_until(customer, lambda f: f["type"] == Frame.MESSAGE and f["id"] == reply.pk)
    assert no_presence(frames)
    for socket in (customer, mine, theirs):
        await socket.disconnect()


@in_own_loop
async def test_two_tabs_count_once_and_the_person_stays_until_the_last_tab_closes(
    app, agent, colleague, ticket
):
    tab_one, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    tab_two, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))
    # The agent's tabs show the colleague, never the agent to themselves.
    await frames_until(tab_one, presence_is(people((colleague.user, PresenceState.VIEWING))))

    # The tab that types decides; the other one viewing does not hide it.
    await tab_two.send_json_to(say(PresenceState.TYPING_NOTE))
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.TYPING_NOTE))))
    await tab_two.disconnect()
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))
    await tab_one.disconnect()
    await frames_until(theirs, presence_is([]))
    await theirs.disconnect()


@pytest.fixture
def fast_sweep(monkeypatch):
    monkeypatch.setattr(TicketConsumer, "presence_sweep_seconds", 0.1)
    monkeypatch.setattr(TicketListConsumer, "presence_sweep_seconds", 0.1)


@in_own_loop
async def test_typing_that_is_not_refreshed_falls_back_to_viewing(
    app, layer, fast_sweep, monkeypatch, agent, colleague, ticket
):
    monkeypatch.setattr(live_contract, "TYPING_TTL_SECONDS", 0.5)
    mine, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    await mine.send_json_to(say(PresenceState.TYPING_REPLY))
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.TYPING_REPLY))))
    # No key for a while (the browser that should have said "viewing" crashed, say).
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))), timeout=WAIT)
    await mine.disconnect()
    await theirs.disconnect()


@in_own_loop
async def test_a_silent_socket_expires_from_the_page_and_the_list(
    app, layer, fast_sweep, monkeypatch, workspace, agent, colleague, ticket
):
    """A tab that stops sending heartbeats (a frozen laptop, a process that died without closing
    its sockets) is forgotten after PRESENCE_TTL, on the ticket page and on the list."""
    monkeypatch.setattr(live_contract, "PRESENCE_TTL_SECONDS", 1)
    listing, _connected, _code = await open_socket(app, list_path(workspace), colleague.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    silent, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))
    await frames_until(listing, row_presence_is(ticket.number, people((agent.user, PresenceState.VIEWING))))

    await frames_until(theirs, presence_is([]), timeout=WAIT)
    await frames_until(listing, row_presence_is(ticket.number, []), timeout=WAIT)

    # Its next heartbeat brings it back.
    await silent.send_json_to(say(PresenceState.VIEWING))
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))
    for socket in (listing, theirs, silent):
        await socket.disconnect()


@in_own_loop
async def test_a_removed_member_disappears_and_receives_nothing_more(
    app, layer, workspace, agent, colleague, ticket
):
    removed, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))
    await frames_until(removed, presence_is(people((colleague.user, PresenceState.VIEWING))))

    def remove():
        Membership.objects.filter(pk=agent.pk).delete()
        announce_access_changed(workspace_id=workspace.pk, user_id=agent.user_id)

    await database_sync_to_async(remove)()
    await expect_close(removed, Close.FORBIDDEN)
    await frames_until(theirs, presence_is([]))
    await theirs.send_json_to(say(PresenceState.TYPING_NOTE))
    assert await removed.receive_nothing(timeout=QUIET)
    await theirs.disconnect()


@in_own_loop
async def test_presence_of_someone_who_lost_access_is_not_shown_before_their_socket_hears_it(
    app, workspace, queue, agent, colleague, ticket
):
    """Names are looked up with the access of now: an agent whose queue was revoked (the
    announcement not yet heard) is not shown, even while their entry still exists."""
    from workspaces.services import queue_revoke

    gone, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))
    await frames_until(gone, presence_is(people((colleague.user, PresenceState.VIEWING))))
    await database_sync_to_async(queue_revoke)(queue=queue, membership=agent)
    # Someone else arrives: the colleague's page is rendered again, without the agent's name...
    newcomer = await database_sync_to_async(make_member)(workspace, Role.ADMIN, display_name="Sam Newcomer")
    arriving, _connected, _code = await open_socket(app, ticket_path(ticket), newcomer.user)
    await frames_until(theirs, presence_is(people((newcomer.user, PresenceState.VIEWING))))
    # ...and the agent's socket, re-checking access for that event, closes and takes its entry.
    await expect_close(gone, Close.FORBIDDEN)
    await frames_until(arriving, presence_is(people((colleague.user, PresenceState.VIEWING))))
    assert agent.user_id not in await presence_of(get_channel_layer(), ticket_id=ticket.pk)
    await theirs.disconnect()
    await arriving.disconnect()


@in_own_loop
async def test_the_list_marks_rows_for_staff_only_and_never_for_an_unseen_ticket(
    app, layer, workspace, other_queue, agent, colleague, requester, ticket
):
    from tests.factories import TicketFactory

    billing = await database_sync_to_async(TicketFactory)(workspace=workspace, queue=other_queue, number=2)
    staff_list, _connected, _code = await open_socket(app, list_path(workspace), agent.user)
    customer_list, _connected, _code = await open_socket(app, list_path(workspace), requester.user)

    # The colleague (an admin) opens both tickets; the agent only works the first one's queue.
    page, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    other_page, _connected, _code = await open_socket(app, ticket_path(billing), colleague.user)
    await frames_until(
        staff_list, row_presence_is(ticket.number, people((colleague.user, PresenceState.VIEWING)))
    )
    await page.send_json_to(say(PresenceState.TYPING_NOTE))
    await frames_until(
        staff_list, row_presence_is(ticket.number, people((colleague.user, PresenceState.TYPING_NOTE)))
    )

    # Asking for rows it may not see gets nothing for them (nor for garbage).
    await staff_list.send_json_to({"type": Inbound.WATCH.value, "numbers": [billing.number, "x", True, 999]})
    await staff_list.send_json_to({"type": Inbound.WATCH.value, "numbers": [ticket.number]})
    assert await staff_list.receive_nothing(timeout=QUIET)

    # A fresh list asks for its rows and gets the markers of now.
    fresh, _connected, _code = await open_socket(app, list_path(workspace), agent.user)
    await fresh.send_json_to({"type": Inbound.WATCH.value, "numbers": [ticket.number, billing.number]})
    frames = await frames_until(
        fresh, row_presence_is(ticket.number, people((colleague.user, PresenceState.TYPING_NOTE)))
    )
    assert all(frame.get("id") != billing.number for frame in frames)

    # The requester's list: the ticket's next change arrives, no marker before it.
    await customer_list.send_json_to({"type": Inbound.WATCH.value, "numbers": [ticket.number]})
    await database_sync_to_async(broadcast_ticket)(ticket)
    frames = await frames_until(customer_list, lambda f: f["type"] == Frame.ROW)
    assert no_presence(frames)

    await page.disconnect()
    await frames_until(staff_list, row_presence_is(ticket.number, []))
    for socket in (staff_list, customer_list, other_page, fresh):
        await socket.disconnect()


@in_own_loop
async def test_malformed_frames_are_ignored_and_the_socket_stays(app, agent, colleague, ticket):
    mine, _connected, _code = await open_socket(app, ticket_path(ticket), agent.user)
    theirs, _connected, _code = await open_socket(app, ticket_path(ticket), colleague.user)
    await frames_until(theirs, presence_is(people((agent.user, PresenceState.VIEWING))))
    for text in ("not json", "[1, 2]", json.dumps({"type": Inbound.PRESENCE.value, "state": "shouting"})):
        await mine.send_to(text_data=text)
    await mine.send_to(text_data=json.dumps(say(PresenceState.TYPING_NOTE, pad="x" * 5000)))
    await mine.send_json_to({"type": Inbound.WATCH.value, "numbers": [ticket.number]})
    await mine.send_json_to(say(PresenceState.TYPING_REPLY))
    frames = await frames_until(theirs, presence_is(people((agent.user, PresenceState.TYPING_REPLY))))
    assert all(person["state"] != PresenceState.TYPING_NOTE for frame in frames for person in frame["people"])
    await mine.disconnect()
    await theirs.disconnect()


# The pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent", "admin"])
def test_staff_pages_carry_the_presence_region_and_the_compose_choice(request, who, workspace, ticket, login):
    client = login(request.getfixturevalue(who).user)
    page = client.get(reverse("ticket_detail", args=[workspace.slug, ticket.number])).content.decode()
    assert 'id="ticket-presence"' in page and 'aria-live="polite"' in page
    assert 'name="compose_mode"' in page
    listing = client.get(reverse("ticket_list", args=[workspace.slug])).content.decode()
    assert 'id="list-presence"' in listing


def test_a_requesters_pages_have_no_presence_at_all(workspace, requester, ticket, login):
    client = login(requester.user)
    page = client.get(reverse("ticket_detail", args=[workspace.slug, ticket.number])).content.decode()
    listing = client.get(reverse("ticket_list", args=[workspace.slug])).content.decode()
    for html in (page, listing):
        assert "ticket-presence" not in html and "list-presence" not in html
        assert "data-presence-labels" not in html
    assert "compose_mode" not in page
