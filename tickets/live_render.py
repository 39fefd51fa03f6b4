"""Render a live event once per audience in each process, not once per socket (issue 15).

A reply on a ticket with 100 open pages used to be read and rendered 100 times in a row, about
15 ms each. The ticket consumer now keeps each socket's access (membership and ticket, checked at
connect and again on every ``access.changed``) and asks here for the frame of an event:

- the message is read once per (event, audience): the first socket of the staff audience reads
  it through ``get_message_or_404`` with its own membership, the first requester socket with its
  own, so a note is never read for, let alone rendered to, a requester;
- the frame is rendered once per (event, render variant, language, time zone), where the variant
  holds everything of the viewer the fragment shows (staff or requester, may redact, may edit
  this message: tickets/_message.html), and reused, as JSON text, by every socket of the same
  key in this process.

Only ids travel through the channel layer, as before; what is cached here is this process's own
rendering. Each broadcast carries a fresh ``rev`` (tickets.realtime), so an edited or redacted
message is read and rendered again, never served from an older entry. Entries live for
``TTL_SECONDS`` at most, and the least recently used go beyond ``MAX_ENTRIES``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from typing import Any

# An event reaches every socket of a process within a few hundred milliseconds; a few seconds
# cover a slow database thread and keep nothing around that a later edit could contradict.
TTL_SECONDS = 10.0
# Events in flight at once, times the variants of each: far more than a busy process sees.
MAX_ENTRIES = 512

STAFF = "staff"
REQUESTER = "requester"

MISSING = object()  # what ``get`` answers for no entry (None is a cached answer: "not for you")


def audience_of(membership) -> str:
    """Whose message visibility a socket has: internal notes for staff, replies for requesters."""
    return STAFF if membership.is_staff else REQUESTER


class BoundedCache:
    """A small LRU with a time to live, safe to use from the event loop and database threads."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, ttl: float = TTL_SECONDS, clock=time.monotonic):
        self.max_entries = max_entries
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            expires, value = entry
            if expires <= self.clock():
                del self._entries[key]
                return MISSING
            self._entries.move_to_end(key)
            return value

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# (ticket id, message id, rev, audience) -> the Message read for that audience, or None.
messages = BoundedCache()
# (ticket id, message id, rev, variant, language, zone) -> the frame as JSON text.
frames = BoundedCache()


# Renderings in progress on this process's event loop: key -> a future done when it ends.
_flights: dict[tuple, asyncio.Future] = {}


async def once(key: tuple, compute):
    """``await compute()`` for the first socket that asks for ``key``; the sockets that ask while
    it runs wait for it instead of each hopping to a database thread (which is where 100 open
    pages of one ticket spent most of their time) and get ``MISSING``: they then read the cache
    it filled, or, when it failed or rendered another variant, compute their own."""
    loop = asyncio.get_running_loop()
    flight = _flights.get(key)
    if flight is not None and not flight.done() and flight.get_loop() is loop:
        # ``wait`` never cancels the shared future when this waiter is cancelled.
        await asyncio.wait({flight})
        return MISSING
    flight = loop.create_future()
    _flights[key] = flight
    try:
        return await compute()
    finally:
        if _flights.get(key) is flight:
            del _flights[key]
        flight.set_result(None)


def clear() -> None:
    """Forget everything (tests; nothing in the product needs it: entries expire)."""
    messages.clear()
    frames.clear()
    _flights.clear()
