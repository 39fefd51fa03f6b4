"""Who else is on a ticket page right now, and whether they are typing a reply or a note.

Presence is for staff only, both ways. Agents and admins see each other viewing and typing, on
the ticket page and as a marker on the rows of the ticket list. A requester neither sees agents'
presence (not even "typing a public reply": a helpdesk does not show the customer who is
looking at their request, and a reply that is started is not a promise) nor is seen: their
page sends nothing, and a frame from their socket is ignored.

What is kept is an entry per socket: the user id, the state (a ``PresenceState``: never any
text), when the entry expires and until when its typing counts. Entries live beside the channel
layer, so they reach every process that layer reaches:

- on Redis (channels_redis), one hash per ticket under the layer's prefix, field = the socket's
  channel name; the key expires with its last entry, so a ticket nobody looks at leaves nothing;
- on the in-memory layer (the embedded default, one process), a dict held for that layer object.

An entry not refreshed by the browser's heartbeat within ``PRESENCE_TTL_SECONDS`` is gone (a
tab that went silent, a process that died); a typing state not refreshed within
``TYPING_TTL_SECONDS`` reads as viewing. A person with several tabs counts once, with the most
telling state of their tabs (typing a note > typing a reply > viewing). Names are looked up
when a frame is rendered, and only for people who are still admins or agents of the ticket's
queue, so nobody who lost access is shown (their sockets also leave on the access change).
"""

import asyncio
import json
import time
import weakref
from dataclasses import dataclass

from channels_redis.core import RedisChannelLayer

from helpdesk.text import strip_bidi
from tickets import live_contract
from tickets.live_contract import PresenceState
from workspaces.access import queue_grants
from workspaces.models import Membership, Role

# Which state of a person's tabs is shown when they differ.
RANK = {PresenceState.VIEWING: 0, PresenceState.TYPING_REPLY: 1, PresenceState.TYPING_NOTE: 2}


def now() -> float:
    """Wall-clock seconds: entries written by one process are read by others."""
    return time.time()


@dataclass(frozen=True)
class Entry:
    user_id: int
    state: PresenceState
    expires_at: float
    typing_until: float

    def dumps(self) -> str:
        return json.dumps([self.user_id, self.state.value, self.expires_at, self.typing_until])

    @classmethod
    def loads(cls, raw) -> "Entry | None":
        try:
            user_id, state, expires_at, typing_until = json.loads(raw)
            return cls(int(user_id), PresenceState(state), float(expires_at), float(typing_until))
        except (TypeError, ValueError):
            return None

    def shown_state(self, at: float) -> PresenceState:
        return (
            self.state
            if self.state is PresenceState.VIEWING or at < self.typing_until
            else PresenceState.VIEWING
        )


def new_entry(*, user_id: int, state: PresenceState) -> Entry:
    at = now()
    typing_until = at + live_contract.TYPING_TTL_SECONDS if state is not PresenceState.VIEWING else 0.0
    return Entry(user_id, state, at + live_contract.PRESENCE_TTL_SECONDS, typing_until)


def merge(entries, at: float) -> dict[int, PresenceState]:
    """{user id: the most telling state of their live entries}."""
    people: dict[int, PresenceState] = {}
    for entry in entries:
        state = entry.shown_state(at)
        if entry.user_id not in people or RANK[state] > RANK[people[entry.user_id]]:
            people[entry.user_id] = state
    return people


class _MemoryStore:
    """Entries of the in-memory layer's process. Consumers run on one event loop, and no call
    awaits between reading and writing, so no lock is needed."""

    def __init__(self):
        self.tickets: dict[int, dict[str, Entry]] = {}

    async def put(self, ticket_id: int, channel: str, entry: Entry) -> None:
        self.tickets.setdefault(ticket_id, {})[channel] = entry

    async def remove(self, ticket_id: int, channel: str) -> None:
        entries = self.tickets.get(ticket_id, {})
        entries.pop(channel, None)
        if not entries:
            self.tickets.pop(ticket_id, None)

    async def read(self, ticket_id: int) -> list[Entry]:
        at = now()
        entries = self.tickets.get(ticket_id, {})
        for channel in [channel for channel, entry in entries.items() if entry.expires_at <= at]:
            del entries[channel]
        if not entries:
            self.tickets.pop(ticket_id, None)
        return list(entries.values())


class _RedisStore:
    def __init__(self, layer: RedisChannelLayer):
        self.layer = layer

    def _key(self, ticket_id: int) -> str:
        return f"{self.layer.prefix}:presence:{ticket_id}"

    def _connection(self, key: str):
        return self.layer.connection(self.layer.consistent_hash(key))

    async def put(self, ticket_id: int, channel: str, entry: Entry) -> None:
        key = self._key(ticket_id)
        async with self._connection(key).pipeline(transaction=True) as pipe:
            pipe.hset(key, channel, entry.dumps())
            pipe.expire(key, int(live_contract.PRESENCE_TTL_SECONDS) + 1)
            await pipe.execute()

    async def remove(self, ticket_id: int, channel: str) -> None:
        key = self._key(ticket_id)
        await self._connection(key).hdel(key, channel)

    async def read(self, ticket_id: int) -> list[Entry]:
        key = self._key(ticket_id)
        connection = self._connection(key)
        at = now()
        live, expired = [], []
        for channel, raw in (await connection.hgetall(key)).items():
            entry = Entry.loads(raw)
            if entry is None or entry.expires_at <= at:
                expired.append(channel)
            else:
                live.append(entry)
        if expired:
            await connection.hdel(key, *expired)
        return live


_memory_stores: "weakref.WeakKeyDictionary[object, _MemoryStore]" = weakref.WeakKeyDictionary()


def _store(layer):
    if isinstance(layer, RedisChannelLayer):
        return _RedisStore(layer)
    if layer not in _memory_stores:
        _memory_stores[layer] = _MemoryStore()
    return _memory_stores[layer]


async def presence_set(layer, *, ticket_id: int, channel: str, user_id: int, state: PresenceState) -> None:
    """Record (or refresh) what the person behind socket ``channel`` does on ``ticket_id``."""
    await _store(layer).put(ticket_id, channel, new_entry(user_id=user_id, state=state))


async def presence_clear(layer, *, ticket_id: int, channel: str) -> None:
    """Forget socket ``channel`` on ``ticket_id`` (it closed, or its access ended)."""
    await _store(layer).remove(ticket_id, channel)


class _Flight:
    """One read of a ticket's entries and whether it has begun (askers before that may join)."""

    def __init__(self):
        self.began = False
        self.task: asyncio.Future | None = None


class _SharedReads:
    """One read of a ticket's entries for all the sockets of a process that ask at once.

    A presence change is announced to every staff socket of the ticket; each used to read the
    hash itself, so 500 sockets made 500 reads at once and ran the layer's connection pool dry
    (issue 15). A socket joins a read that has not begun yet, else the single read queued behind
    the one running (which may have begun before the change this socket heard of), so nobody is
    handed an older state than the one they asked after. At most two reads per ticket at a time.
    """

    def __init__(self):
        self.running: dict = {}
        self.queued: dict = {}

    async def read(self, key, read):
        running = self.running.get(key)
        if running is not None and not running.began:
            flight = running
        elif running is None:
            flight = self._start(key, read, after=None)
        else:
            flight = self.queued.get(key) or self._start(key, read, after=running)
        return await asyncio.shield(flight.task)

    def _start(self, key, read, *, after: _Flight | None) -> _Flight:
        flight = _Flight()

        async def run():
            if after is not None:
                await asyncio.wait({after.task})
                if self.queued.get(key) is flight:
                    del self.queued[key]
                self.running[key] = flight
            flight.began = True
            try:
                return await read()
            finally:
                if self.running.get(key) is flight:
                    del self.running[key]

        (self.running if after is None else self.queued)[key] = flight
        flight.task = asyncio.ensure_future(run())
        # Every asker got the outcome already; this keeps a failure out of "never retrieved".
        flight.task.add_done_callback(lambda task: task.cancelled() or task.exception())
        return flight


_shared_reads: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedReads]" = (
    weakref.WeakKeyDictionary()
)


async def _read_entries(layer, ticket_id: int) -> list[Entry]:
    loop = asyncio.get_running_loop()
    reads = _shared_reads.get(loop)
    if reads is None:
        reads = _shared_reads[loop] = _SharedReads()
    return await reads.read((id(layer), ticket_id), lambda: _store(layer).read(ticket_id))


async def presence_of(
    layer, *, ticket_id: int, except_user_id: int | None = None
) -> dict[int, PresenceState]:
    """{user id: state} of the people on ``ticket_id`` now, one per person, expired ones gone."""
    people = merge(await _read_entries(layer, ticket_id), now())
    people.pop(except_user_id, None)
    return people


def present_people(*, ticket, present: dict[int, PresenceState]) -> list[dict]:
    """``[{name, state}]`` of ``present`` who may still work ``ticket`` (admins of its workspace,
    agents granted its queue), sorted by name. Two queries, whatever the number of people."""
    if not present:
        return []
    members = (
        Membership.objects.filter(
            workspace_id=ticket.workspace_id, user_id__in=list(present), user__is_active=True
        )
        .staff()
        .select_related("user")
    )
    members = list(members)
    agent_ids = [member.user_id for member in members if member.role == Role.AGENT]
    granted = set()
    if agent_ids:
        granted = set(
            queue_grants(workspace_id=ticket.workspace_id)
            .filter(content_object_id=ticket.queue_id, user_id__in=agent_ids)
            .values_list("user_id", flat=True)
        )
    people = [
        {"name": strip_bidi(str(member.user)), "state": present[member.user_id].value}
        for member in members
        if member.role == Role.ADMIN or member.user_id in granted
    ]
    return sorted(people, key=lambda person: person["name"].casefold())
