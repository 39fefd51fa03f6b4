"""One channel-layer subscription per process and ticket group, shared by the local sockets.

A reply on a ticket with 100 open pages in one process used to be 100 channel-layer deliveries:
channels_redis pushed one copy per process, but each socket's consumer then took its copy out of
the layer's buffer, woke up, dispatched and looked the rendering up for itself. Here each process
joins ``ticket-<id>-public`` and ``ticket-<id>-staff`` once (a channel of its own per group, so
what came through the staff group is only ever handed to the staff sockets of that ticket) and:

- a new message (``message.created``) is read and rendered once per audience and variant (the
  first socket of each asks ``tickets.live_render`` through its own kept access; the others find
  the text there) and the same text is written to every local socket of the group;
- every other event of the group (a ticket change, presence) is handed to each local consumer,
  which handles it in turn with its own events (``TicketConsumer.dispatch``).

Access stays each socket's: a socket leaves here, synchronously, before its revocation closes
it, and each one is looked up again just before its frame is written, so a revoked socket gets
nothing further. The per-socket channel still carries ``access.changed`` (the member group).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

from channels.db import database_sync_to_async
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tickets import live_render
from tickets.realtime import MESSAGE_CREATED

logger = logging.getLogger(__name__)

# What a channel layer raises when Redis is slow or gone: a read that outlasts the socket timeout
# (a blocking pop on a loaded machine), a dropped or refused connection.
LAYER_ERRORS = (RedisTimeoutError, RedisConnectionError, TimeoutError, ConnectionError)

# channels_redis forgets a group membership after ``group_expiry`` (a day by default); a process
# that keeps a group that long re-adds it when the next socket joins after this many seconds.
REFRESH_SECONDS = 3600.0


class Subscription:
    """One group in this process: its channel, its reader and the local consumers in it."""

    def __init__(self, group: str, channel: str):
        self.group = group
        self.channel = channel
        self.consumers: dict = {}  # consumer -> None: joining order, fast removal
        self.reader: asyncio.Task | None = None
        self.added_at = time.monotonic()


class Fanout:
    """The subscriptions of one channel layer on one event loop (see ``fanout_for``)."""

    def __init__(self, layer):
        self.layer = layer
        self.subscriptions: dict[str, Subscription] = {}

    async def join(self, group: str, consumer) -> None:
        sub = self.subscriptions.get(group)
        if sub is not None:
            sub.consumers[consumer] = None
            if time.monotonic() - sub.added_at > REFRESH_SECONDS:
                sub.added_at = time.monotonic()
                await self.layer.group_add(group, sub.channel)
            return
        sub = Subscription(group, await self.layer.new_channel())
        sub.consumers[consumer] = None
        self.subscriptions[group] = sub
        try:
            await self.layer.group_add(group, sub.channel)
        except BaseException:
            self._drop(sub)
            raise
        if sub.consumers and self.subscriptions.get(group) is sub:
            sub.reader = asyncio.create_task(self.read(sub))

    def leave_now(self, group: str, consumer) -> Subscription | None:
        """Take ``consumer`` out at once (no await: nothing more reaches it from here); the
        subscription when it is now empty and must be given up (``give_up``)."""
        sub = self.subscriptions.get(group)
        if sub is None or consumer not in sub.consumers:
            return None
        del sub.consumers[consumer]
        if sub.consumers:
            return None
        self._drop(sub)
        return sub

    async def leave(self, group: str, consumer) -> None:
        sub = self.leave_now(group, consumer)
        if sub is not None:
            await self.layer.group_discard(group, sub.channel)

    def _drop(self, sub: Subscription) -> None:
        if self.subscriptions.get(sub.group) is sub:
            del self.subscriptions[sub.group]
        if sub.reader is not None and sub.reader is not asyncio.current_task():
            sub.reader.cancel()

    async def read(self, sub: Subscription) -> None:
        failures = 0
        while self.subscriptions.get(sub.group) is sub:
            try:
                event = await self.layer.receive(sub.channel)
            except LAYER_ERRORS as error:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from error
                delays = next(iter(sub.consumers)).layer_retry_delays if sub.consumers else ()
                if failures >= len(delays):
                    # As a socket whose own channel fails: closed with "try again", and the
                    # browsers reconnect (consumers.Close.UNAVAILABLE).
                    logger.warning("shared subscription read failed, giving up: %r", error)
                    self._drop(sub)
                    for consumer in list(sub.consumers):
                        consumer.layer_lost()
                    return
                logger.info("shared subscription read failed (%r), retrying", error)
                await asyncio.sleep(delays[failures])
                failures += 1
                continue
            failures = 0
            try:
                if event.get("type") == MESSAGE_CREATED:
                    await self.fan_message(sub, event)
                else:
                    for consumer in list(sub.consumers):
                        consumer.hand(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad event never ends the subscription of every socket
                logger.exception("shared subscription could not deliver an event")

    async def fan_message(self, sub: Subscription, event: dict) -> None:
        """The message's frame text for each local socket, read and rendered once per audience
        and variant (tickets.live_render), then written to each socket still in the group."""
        texts = []
        for consumer in list(sub.consumers):
            if not consumer.takes_messages(event):
                continue
            text = consumer.cached_message_text(event)
            if text is live_render.MISSING:
                text = await database_sync_to_async(consumer.message_text)(event)
            if text is not None:
                texts.append((consumer, text))
        sends = [
            consumer.send(text_data=text)
            for consumer, text in texts
            if consumer in sub.consumers and consumer.takes_messages(event)
        ]
        if sends:
            # Side by side: a socket whose browser reads slowly never holds up the others.
            results = await asyncio.gather(*sends, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception):
                    logger.info("a live frame was not written: %r", result)


_fanouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fanout_for(layer) -> Fanout:
    """This event loop's fan-out for ``layer`` (tests run each in a loop of its own)."""
    loop = asyncio.get_running_loop()
    per_loop = _fanouts.setdefault(loop, {})
    fanout = per_loop.get(id(layer))
    if fanout is None or fanout.layer is not layer:
        fanout = per_loop[id(layer)] = Fanout(layer)
    return fanout
