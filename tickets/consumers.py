"""Websocket consumers for the ticket page and the ticket list.

A consumer only reads. It lets a connection in after the same membership lookup and ticket
access check the pages use and joins its groups. Events carry ids only (see
``tickets.realtime``), so what reaches a browser is decided here, per member, by the one
visibility function of each model. The ticket list and ticket changes re-read the row with the
member's current membership for every event; new messages on a ticket page, the event that goes
to every open page at once, use the access the socket keeps (checked at connect and again on
every ``access.changed``, ticket change and ``ACCESS_RECHECK_SECONDS``) and a rendering shared
by the sockets of the same audience in this process (``tickets.live_render``).
"""

import asyncio
import json
import logging
import secrets
from importlib import import_module

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare

from helpdesk import languages
from helpdesk.text import strip_bidi
from helpdesk.timezones import override_for
from tickets import live_render, reads, realtime_fanout
from tickets.access import find_visible_ticket, get_message_or_404, get_ticket_or_404, visible_tickets
from tickets.live_contract import TICKET, TICKET_LIST, Close, Frame, Inbound, PresenceState, Route
from tickets.presence import presence_clear, presence_of, presence_set, present_people
from tickets.realtime import (
    presence_event,
    queue_group,
    ticket_public_group,
    ticket_staff_group,
    user_list_group,
)
from tickets.templatetags import ticket_tags
from workspaces.access import audit_refused_at, membership_for, queues_granted_to
from workspaces.realtime import member_group
from workspaces.selectors import user_by_id

logger = logging.getLogger(__name__)

# Frame types and close codes are the websocket contract of tickets.live_contract.

# What a channel layer raises when Redis is slow or gone (tickets.realtime_fanout).
LAYER_ERRORS = realtime_fanout.LAYER_ERRORS

MESSAGE_TEMPLATE = "tickets/_message.html"
ROW_TEMPLATE = "tickets/_ticket_row.html"

# How refusals are named in the audit log (``kind``) and why (``reason``).
REFUSED_KIND_TICKET = "ws_ticket"
REFUSED_KIND_LIST = "ws_ticket_list"
REASON_NOT_MEMBER = "not_member"
REASON_NOT_VISIBLE = "ticket_not_visible"
# Headers never copied into the request-like object handed to the audit log.
UNCOPIED_HEADERS = {b"cookie", b"authorization"}
# Presence (tickets.presence): a browser frame longer than this is not read; a list asks for at
# most this many rows; the same state repeated sooner than this is not written again.
MAX_INBOUND_CHARS = 2048
MAX_WATCHED_ROWS = 100
PRESENCE_MIN_INTERVAL = 1.0
# A ticket page keeps its access between checks (see TicketConsumer.message_created); this is
# the backstop for what no service announces (a session that simply expired, a row changed by
# hand): each socket checks again about this often, spread out so sockets do not check together.
ACCESS_RECHECK_SECONDS = 300.0


class ScopeRequest:
    """The parts of an HttpRequest the audit log reads, taken from a websocket scope, so a
    refused websocket is recorded (with address and user agent) exactly like a refused page."""

    method = "GET"
    resolver_match = None

    def __init__(self, scope):
        self.user = scope.get("user")
        self.path = scope.get("path", "")
        client = scope.get("client") or ("", None)
        self.META = {"REMOTE_ADDR": client[0] or "", "PATH_INFO": self.path}
        for name, value in scope.get("headers") or []:
            if name.lower() in UNCOPIED_HEADERS:
                continue
            key = "HTTP_" + name.decode("latin1").upper().replace("-", "_")
            self.META[key] = value.decode("latin1")


def session_is_current(scope, user) -> bool:
    """Whether the session the socket opened with still signs ``user`` in: a sign-out (the
    session is deleted) or a password change (the auth hash no longer matches) ends the live
    updates of every open tab, as it ends their next page load. Reads only, never flushes."""
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    if not key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key).load()
    if str(data.get(SESSION_KEY)) != str(user.pk):
        return False
    return constant_time_compare(data.get(HASH_SESSION_KEY) or "", user.get_session_auth_hash())


def current_membership(*, scope, user_id: int, slug: str):
    """The member's membership as it is in the database now: None when the membership is gone,
    the account deactivated or the session signed out."""
    user = user_by_id(user_id=user_id)
    if user is None or not session_is_current(scope, user):
        return None
    return membership_for(user=user, slug=slug)


def ticket_for(membership, number: int):
    """The ticket page's access check: the ticket, or None for missing and forbidden alike."""
    try:
        return get_ticket_or_404(membership, number)
    except Http404:
        return None


class _MemberConsumer(AsyncJsonWebsocketConsumer):
    """Shared connect/refuse/revoke handling for consumers under ``/ws/w/<slug>/``.

    A channel-layer call that fails (``LAYER_ERRORS``) is retried after each pause of
    ``layer_retry_delays``; when they are used up the socket closes with ``Close.UNAVAILABLE``,
    which live.js answers by reconnecting. A Redis hiccup never crashes the consumer.
    """

    route: Route  # the websocket route this consumer serves (tickets.routing reads it)
    layer_retry_delays: tuple[float, ...] = (0.0, 0.5, 2.0)
    presence_sweep_seconds: float = 3.0
    access_recheck_seconds: float = ACCESS_RECHECK_SECONDS
    presence_on = False  # a staff socket: takes part in presence (tickets.presence)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups_joined: set[str] = set()
        self.ended = False
        self.gone = False  # the consumer stopped: nothing handed to it runs any more
        self.accepted = False  # no frame is written before the handshake is answered
        # Events reach a consumer from its own channel and from the process's shared
        # subscriptions (tickets.realtime_fanout); they are handled one at a time, in turn.
        self.dispatch_lock = asyncio.Lock()
        self.handed: set[asyncio.Task] = set()
        self.emptied: list = []  # shared subscriptions left empty, still to leave in the layer

    def shared(self, group: str) -> bool:
        """Whether ``group`` is joined through the process's shared subscription rather than
        by this socket's own channel (TicketConsumer: the ticket's groups)."""
        return False

    def hand(self, event: dict) -> None:
        """An event of a shared subscription, handled like one of this socket's own."""
        if self.gone or self.ended:
            return
        task = asyncio.create_task(self.dispatch(event))
        self.handed.add(task)
        task.add_done_callback(self.handed_done)

    def layer_lost(self) -> None:
        """The shared subscription gave up reading: close with "try again", as when this
        socket's own channel fails (``receive_from_layer``)."""
        if self.gone or self.ended:
            return
        task = asyncio.create_task(self.end_in_turn(Close.UNAVAILABLE))
        self.handed.add(task)
        task.add_done_callback(self.handed_done)

    async def end_in_turn(self, code: Close) -> None:
        """``end`` after the events handed before it (the lock is first come, first served)."""
        async with self.dispatch_lock:
            await self.end(code)

    def handed_done(self, task: asyncio.Task) -> None:
        self.handed.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("live event not handled", exc_info=task.exception())

    def leave_shared_now(self) -> None:
        """Out of every shared subscription at once, before anything else is awaited: a socket
        being closed or revoked is never handed another event (the layer memberships of empty
        subscriptions are given up by ``leave_groups``)."""
        if self.channel_layer is None:
            return
        fanout = realtime_fanout.fanout_for(self.channel_layer)
        for group in self.groups_joined:
            if self.shared(group):
                sub = fanout.leave_now(group, self)
                if sub is not None:
                    self.emptied.append(sub)

    # channels' AsyncConsumer.__call__ stores the layer's receive for this socket's channel in
    # ``channel_receive`` and awaits it in a loop; an exception from it (a Redis read timeout)
    # would end the consumer and drop the socket. The property hands the loop a retrying one.
    @property
    def channel_receive(self):
        return self.receive_from_layer

    @channel_receive.setter
    def channel_receive(self, receive):
        self.layer_receive = receive

    async def receive_from_layer(self):
        """The next event for this socket, retried on layer errors. When the retries run out the
        socket closes with ``Close.UNAVAILABLE`` and this waits for the disconnect that follows
        (which stops the consumer and cancels this wait)."""
        try:
            return await self.with_layer_retries(self.layer_receive)
        except LAYER_ERRORS:
            await self.end(Close.UNAVAILABLE)
            await asyncio.Event().wait()

    async def with_layer_retries(self, call, *args):
        """``await call(*args)``, retried after each pause of ``layer_retry_delays``.

        Never when the task is being cancelled (the socket went away, the server stops): redis-py
        may answer a cancelled read with ConnectionError, and retrying it would swallow the
        cancellation and keep the consumer waiting for events forever."""
        name = getattr(call, "__name__", "receive")
        for delay in (*self.layer_retry_delays, None):
            try:
                return await call(*args)
            except LAYER_ERRORS as error:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError from error
                if delay is None:
                    logger.warning("channel layer %s failed, giving up: %r", name, error)
                    raise
                logger.info("channel layer %s failed (%r), retrying in %.1f s", name, error, delay)
                await asyncio.sleep(delay)

    async def dispatch(self, message):
        """channels' dispatch without its ``aclose_old_connections``: that is a hop to a database
        thread before every event of every socket (a reply to a ticket with 100 open pages made
        100 of them, one after the other, before anything was sent). Every database read of
        these consumers runs in ``database_sync_to_async``, which closes old connections around
        each call itself, and most events need none (a message already rendered here)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        async with self.dispatch_lock:
            if self.gone:
                return
            await handler(message)

    async def connect(self):
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        user = self.scope.get("user")
        groups = None
        if user is not None and user.is_authenticated:
            self.user_id = user.pk
            groups = await database_sync_to_async(self.authorize)(user)
        if self.ended:  # the layer gave up while the database answered
            return
        if groups is None:
            await self.end(Close.NOT_FOUND)
            return
        try:
            await self.set_groups(groups)
        except LAYER_ERRORS:
            await self.end(Close.UNAVAILABLE)
            return
        if not self.ended:
            await self.accept()
            self.accepted = True

    async def disconnect(self, code):
        self.leave_shared_now()
        await self.leave_groups()

    async def set_groups(self, groups: set[str]) -> None:
        """Join ``groups`` and leave the others; ``groups_joined`` follows each call that
        succeeded, so a retry (or a later call) does only what is left."""
        layer = self.channel_layer
        fanout = realtime_fanout.fanout_for(layer)
        for group in sorted(self.groups_joined - groups):
            if self.shared(group):
                sub = fanout.leave_now(group, self)
                if sub is not None:
                    self.emptied.append(sub)
            else:
                await self.with_layer_retries(layer.group_discard, group, self.channel_name)
            self.groups_joined.discard(group)
        await self.give_up_emptied()
        for group in sorted(groups - self.groups_joined):
            if self.shared(group):
                await self.with_layer_retries(fanout.join, group, self)
            else:
                await self.with_layer_retries(layer.group_add, group, self.channel_name)
            self.groups_joined.add(group)

    async def give_up_emptied(self) -> None:
        """Leave the layer groups of the shared subscriptions this socket was the last of."""
        while self.emptied:
            sub = self.emptied[0]
            await self.with_layer_retries(self.channel_layer.group_discard, sub.group, sub.channel)
            self.emptied.pop(0)

    async def leave_groups(self) -> None:
        """Leave every group, as far as the layer lets us: a membership left behind expires
        (channels_redis ``group_expiry``) and its messages go to a channel nobody reads."""
        try:
            await self.set_groups(set())
        except LAYER_ERRORS:
            logger.warning("left %d channel-layer groups behind", len(self.groups_joined))

    async def end(self, code: Close) -> None:
        """Leave every group and close with ``code``; events already queued are ignored."""
        if self.ended:
            return
        self.ended = True
        self.leave_shared_now()
        await self.leave_groups()
        await self.close(code=code)

    async def access_changed(self, event):
        """``workspaces.realtime.ACCESS_CHANGED``: re-check everything from the database."""
        if self.ended:
            return
        groups = await database_sync_to_async(self.recheck)()
        if groups is None:
            await self.revoke()
            return
        try:
            await self.set_groups(groups)
        except LAYER_ERRORS:
            await self.end(Close.UNAVAILABLE)

    def frame(self, frame_type: Frame, **fields) -> dict:
        """A JSON frame of this consumer's route; a type the contract does not give the route is
        a bug, refused here rather than ignored by the browser."""
        if frame_type not in self.route.frames:
            raise ValueError(f"{frame_type!r} is not a frame of the {self.route.name!r} route")
        return {"type": frame_type.value, **fields}

    def refuse(self, *, kind: str, reason: str) -> None:
        """Record the refusal of a signed-in person (deduplicated by the audit log)."""
        audit_refused_at(ScopeRequest(self.scope), slug=self.slug, reason=reason, kind=kind)

    async def revoke(self):
        """Access ended while connected: leave every group and close for good."""
        await self.end(Close.FORBIDDEN)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Frames from the browser (presence, staff only). A malformed or oversized one is
        dropped without an answer, never a reason to close the socket."""
        if self.ended or not text_data or len(text_data) > MAX_INBOUND_CHARS:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if isinstance(content, dict):
            await self.receive_json(content)

    def start_presence_sweep(self) -> None:
        """Re-read presence every ``presence_sweep_seconds``: what expired without a word (a
        silent tab, a dead process, a typing state nobody refreshed) leaves the screen too."""
        self.presence_task = asyncio.create_task(self.presence_sweep())

    def stop_presence_sweep(self) -> None:
        task = getattr(self, "presence_task", None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def presence_sweep(self):
        while not self.ended:
            await asyncio.sleep(self.presence_sweep_seconds)
            try:
                await self.sweep_presence()
            except LAYER_ERRORS:
                logger.info("presence sweep skipped: channel layer unavailable")
            except Exception:  # the socket went away under a send: nothing left to sweep for
                logger.info("presence sweep stopped", exc_info=True)
                return

    async def __call__(self, scope, receive, send):
        # However the consumer ends (a disconnect, a crash, or the server cancelling it without
        # a disconnect), its sweep ends with it and its presence entry goes.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.gone = True
            for task in list(self.handed):
                task.cancel()
            try:
                self.leave_shared_now()
                await self.leave_groups()
            except Exception:
                logger.info("shared subscription left to expire", exc_info=True)
            self.stop_presence_sweep()
            self.stop_access_refresh()
            try:
                await self.presence_stop()
            except Exception:
                logger.info("presence entry left to expire", exc_info=True)

    async def presence_stop(self) -> None:
        """Leave presence (nothing to leave by default)."""

    def start_access_refresh(self) -> None:
        self.access_task = asyncio.create_task(self.access_refresh())

    def stop_access_refresh(self) -> None:
        task = getattr(self, "access_task", None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def access_refresh(self):
        """Check access again every ``access_recheck_seconds`` (give or take a fifth)."""
        while not self.ended:
            spread = 0.8 + secrets.randbelow(401) / 1000
            await asyncio.sleep(self.access_recheck_seconds * spread)
            if self.ended:
                return
            try:
                await self.access_changed({})  # the same re-check an announcement starts
            except Exception:  # the socket went away meanwhile: nothing left to check for
                logger.info("access re-check stopped", exc_info=True)
                return

    async def sweep_presence(self):
        raise NotImplementedError

    # Subclasses, all synchronous and run in a database thread:
    def authorize(self, user) -> set[str] | None:
        raise NotImplementedError

    def recheck(self) -> set[str] | None:
        raise NotImplementedError


class TicketConsumer(_MemberConsumer):
    """``ws/w/<slug>/tickets/<number>/``: new messages and header changes of one ticket."""

    route = TICKET

    def authorize(self, user):
        membership = membership_for(user=user, slug=self.slug)
        if membership is None:
            self.refuse(kind=REFUSED_KIND_TICKET, reason=REASON_NOT_MEMBER)
            return None
        self.workspace_id = membership.workspace_id
        self.number = int(self.scope["url_route"]["kwargs"]["number"])
        ticket = ticket_for(membership, self.number)
        if ticket is None:
            self.refuse(kind=REFUSED_KIND_TICKET, reason=REASON_NOT_VISIBLE)
            return None
        self.ticket_id = ticket.pk
        self.queue_id = ticket.queue_id
        self.presence_on = membership.is_staff
        self.keep_access(membership, ticket)
        return self.groups_for(membership)

    def shared(self, group: str) -> bool:
        return group in (ticket_public_group(self.ticket_id), ticket_staff_group(self.ticket_id))

    def takes_messages(self, event) -> bool:
        """Whether a message of a shared subscription may still be written to this socket."""
        return (
            self.accepted
            and not (self.ended or self.gone or self.membership is None)
            and event.get("ticket_id") == self.ticket_id
        )

    def groups_for(self, membership) -> set[str]:
        groups = {ticket_public_group(self.ticket_id), member_group(self.workspace_id, self.user_id)}
        if membership.is_staff:
            groups.add(ticket_staff_group(self.ticket_id))
        self.still_staff = membership.is_staff
        return groups

    def keep_access(self, membership, ticket) -> None:
        """Keep what the last access check found, for new messages (see ``message_created``)."""
        self.membership, self.ticket = membership, ticket
        if membership is None:
            return
        user = membership.user
        self.render_locale = (languages.language_of(user) or "", getattr(user, "time_zone", "") or "")

    def fresh(self):
        """(membership, ticket) as they are now, or (None, None) when access is gone. Every
        full check refreshes the access kept for new messages."""
        membership = current_membership(scope=self.scope, user_id=self.user_id, slug=self.slug)
        ticket = None if membership is None else ticket_for(membership, self.number)
        if ticket is None or ticket.pk != self.ticket_id:
            membership = ticket = None
        self.keep_access(membership, ticket)
        return membership, ticket

    def recheck(self):
        membership, _ticket = self.fresh()
        return None if membership is None else self.groups_for(membership)

    # New messages: the one event a busy ticket sends to every open page at once. The access
    # found at connect is kept and re-checked on ``access.changed`` (a removal, a role or queue
    # change, a participant taken off, a sign-out or a password change: every service that
    # changes access announces it, after commit), on every ticket change (a ticket moved to a
    # queue the agent does not work closes their page) and every ACCESS_RECHECK_SECONDS.
    # The frame comes from tickets.live_render: read once per audience, rendered once per
    # variant, language and zone in this process, then sent as the same text to every socket.

    def message_keys(self, event) -> tuple[tuple, tuple] | None:
        """(message key, frame key without the variant) of an event in tickets.live_render, or
        None when the event cannot be shared (no ``rev``: sent by hand, rendered for this socket
        alone)."""
        rev = event.get("rev")
        if not rev or self.membership is None:
            return None
        base = (self.ticket_id, event["message_id"], rev)
        return (*base, live_render.audience_of(self.membership)), (*base, *self.render_locale)

    def render_variant(self, message) -> tuple:
        """What of this viewer ``tickets/_message.html`` shows (the same filters it calls): the
        render key's variant, so nobody is sent a fragment rendered for another kind of viewer."""
        membership = self.membership
        return (
            live_render.audience_of(membership),
            ticket_tags.may_redact(membership),
            ticket_tags.editable_by(message, membership),
        )

    def cached_message_text(self, event):
        """The frame text of a message event from this process's cache: ``live_render.MISSING``
        when it must be read or rendered first, None when this member may not see it. No
        database, so it runs on the event loop."""
        keys = self.message_keys(event)
        if keys is None:
            return live_render.MISSING
        message_key, frame_key = keys
        message = live_render.messages.get(message_key)
        if message is None or message is live_render.MISSING:
            return message
        return live_render.frames.get((*frame_key, self.render_variant(message)))

    def flight_key(self, event) -> tuple | None:
        """The rendering this socket waits for when another socket of the process is already
        doing it: the same message, audience, language, zone and redaction right (the variant
        but for ``editable_by``, which only the author's sockets differ in)."""
        keys = self.message_keys(event)
        if keys is None:
            return None
        return (*keys[1], live_render.audience_of(self.membership), ticket_tags.may_redact(self.membership))

    def message_text(self, event):
        """The frame text of a message event, read and rendered (and cached) when no other socket
        of this process did it already; None when this member may not see the message."""
        keys = self.message_keys(event)
        message_key = keys[0] if keys else None
        message = live_render.MISSING if keys is None else live_render.messages.get(message_key)
        if message is live_render.MISSING:
            message = self.read_message(event["message_id"])
            if keys is not None:
                live_render.messages.put(message_key, message)
        if message is None:
            return None
        frame_key = None if keys is None else (*keys[1], self.render_variant(message))
        text = live_render.MISSING if frame_key is None else live_render.frames.get(frame_key)
        if text is live_render.MISSING:
            text = json.dumps(self.message_frame(message))
            if frame_key is not None:
                live_render.frames.put(frame_key, text)
        return text

    def read_message(self, message_id: int):
        """The message through the one visibility function, with this socket's kept access."""
        try:
            message = get_message_or_404(self.membership, self.ticket, message_id)
        except Http404:
            return None  # a note, for a requester; or gone meanwhile
        # Read once here, so each rendering of the shared message (another language, zone or
        # variant) costs no query.
        prefetch_related_objects([message], "attachments")
        return message

    def message_frame(self, message) -> dict:
        membership = self.membership
        # The viewer's saved zone and language, as on the page (helpdesk/timezones.py).
        with override_for(membership.user):
            html = render_to_string(
                MESSAGE_TEMPLATE, {"message": message, "ticket": self.ticket, "membership": membership}
            )
        return self.frame(Frame.MESSAGE, id=message.pk, html=html)

    def render_message(self, message_id: int, rev: str | None = None):
        """The frame for a message, None when this member may not see it (tests and tools; the
        socket sends ``message_text``)."""
        event = {"message_id": message_id, "rev": rev}
        text = self.message_text(event)
        return None if text is None else json.loads(text)

    def ticket_frame(self):
        membership, ticket = self.fresh()
        if membership is None:
            return False
        frame = self.frame(
            Frame.TICKET,
            id=ticket.number,
            subject=strip_bidi(ticket.subject),
            status=ticket.status,
            status_label=ticket.get_status_display(),
        )
        if membership.is_staff:
            # Agent-only fields stay out of a requester's frames.
            frame.update(
                priority=ticket.priority,
                priority_label=ticket.get_priority_display(),
                assignee_label=strip_bidi(str(ticket.assignee)) if ticket.assignee_id else "",
                queue_label=ticket.queue.name,
                # The properties form refreshes from these (issue 17): the values it posts back
                # as "seen" and the version they belong to.
                properties={
                    "status": ticket.status,
                    "priority": ticket.priority,
                    "queue": str(ticket.queue_id),
                    "assignee": str(ticket.assignee_id or ""),
                    "version": ticket.version,
                },
                changed_by=strip_bidi(str(ticket.properties_changed_by))
                if ticket.properties_changed_by_id
                else "",
                changed_by_me=ticket.properties_changed_by_id == self.user_id,
            )
        return frame

    async def message_created(self, event):
        if self.ended or event.get("ticket_id") != self.ticket_id or self.membership is None:
            return
        text = self.cached_message_text(event)
        if text is live_render.MISSING:  # the first socket of its kind here: read and render
            flight = self.flight_key(event)
            if flight is not None:
                render = database_sync_to_async(self.message_text)
                text = await live_render.once(flight, lambda: render(event))
                if text is live_render.MISSING:  # another socket rendered meanwhile
                    text = self.cached_message_text(event)
            if text is live_render.MISSING:
                text = await database_sync_to_async(self.message_text)(event)
        if text is not None and not self.ended:
            await self.send(text_data=text)

    async def ticket_changed(self, event):
        if self.ended or event.get("ticket_id") != self.ticket_id:
            return
        frame = await database_sync_to_async(self.ticket_frame)()
        if frame is False:
            await self.revoke()
        else:
            await self.send_json(frame)

    # Presence (tickets.presence): staff sockets only ---------------------------------------

    async def connect(self):
        await super().connect()
        if not self.ended:
            self.start_access_refresh()
        if self.presence_on and not self.ended:
            self.presence_state = None
            self.presence_at = 0.0
            # What this browser shows ({user id: state}); it starts empty, so a lone agent gets
            # no presence frame at all.
            self.presence_shown = {}
            self.presence_lock = asyncio.Lock()
            try:
                await self.presence_put(PresenceState.VIEWING)
            except LAYER_ERRORS:
                await self.end(Close.UNAVAILABLE)
                return
            self.start_presence_sweep()

    async def disconnect(self, code):
        await self.presence_stop()
        await super().disconnect(code)

    async def end(self, code):
        await self.presence_stop()
        await super().end(code)

    async def access_changed(self, event):
        await super().access_changed(event)
        if self.presence_on and not getattr(self, "still_staff", False):
            await self.presence_stop()  # demoted to requester: out of presence, both ways

    async def receive_json(self, content, **kwargs):
        if not self.presence_on or content.get("type") != Inbound.PRESENCE.value:
            return
        try:
            state = PresenceState(content.get("state"))
        except ValueError:
            return
        loop_time = asyncio.get_running_loop().time()
        if state == self.presence_state and loop_time - self.presence_at < PRESENCE_MIN_INTERVAL:
            return
        membership, _ticket = await database_sync_to_async(self.fresh)()
        if membership is None:
            await self.revoke()
            return
        if not membership.is_staff:
            await self.presence_stop()
            return
        try:
            await self.presence_put(state)
        except LAYER_ERRORS:
            await self.end(Close.UNAVAILABLE)

    async def presence_put(self, state: PresenceState) -> None:
        """Write this socket's entry; tell the others when its state changed (a heartbeat or a
        repeated typing state only refreshes the entry)."""
        changed = state != self.presence_state
        self.presence_state = state
        self.presence_at = asyncio.get_running_loop().time()
        await self.with_layer_retries(self.presence_write, state)
        if changed:
            await self.presence_announce()

    async def presence_write(self, state: PresenceState) -> None:
        await presence_set(
            self.channel_layer,
            ticket_id=self.ticket_id,
            channel=self.channel_name,
            user_id=self.user_id,
            state=state,
        )

    async def presence_announce(self) -> None:
        event = presence_event(self.ticket_id, self.number)
        for group in (ticket_staff_group(self.ticket_id), queue_group(self.workspace_id, self.queue_id)):
            await self.with_layer_retries(self.channel_layer.group_send, group, event)

    async def presence_stop(self) -> None:
        """Leave presence: the entry goes and the others hear it at once. Idempotent."""
        if not self.presence_on:
            return
        self.presence_on = False
        self.stop_presence_sweep()
        try:
            await presence_clear(self.channel_layer, ticket_id=self.ticket_id, channel=self.channel_name)
            await self.presence_announce()
        except LAYER_ERRORS:
            logger.info("presence entry left to expire: channel layer unavailable")

    async def presence_changed(self, event):
        if self.ended or not self.presence_on or event.get("ticket_id") != self.ticket_id:
            return
        try:
            await self.sweep_presence()
        except LAYER_ERRORS:  # the next sweep shows it: never a reason to drop the socket
            logger.info("presence not read: channel layer unavailable")

    async def sweep_presence(self):
        """Send the others' presence when it differs from what this browser shows. One read at
        a time (an event and the sweep may both ask), so an older read never overwrites a newer."""
        async with self.presence_lock:
            present = await presence_of(
                self.channel_layer, ticket_id=self.ticket_id, except_user_id=self.user_id
            )
            if present == self.presence_shown or not self.presence_on:
                return
            frame = await database_sync_to_async(self.presence_frame)(present)
            if frame is not False and frame is not None and self.presence_on:
                self.presence_shown = present
                await self.send_json(frame)
        if frame is False:
            await self.revoke()
        elif frame is None:
            await self.presence_stop()

    def presence_frame(self, present):
        """The frame for ``present``; None when the member is no longer staff, False to revoke."""
        membership, ticket = self.fresh()
        if membership is None:
            return False
        if not membership.is_staff:
            return None
        self.queue_id = ticket.queue_id
        return self.frame(Frame.PRESENCE, people=present_people(ticket=ticket, present=present))


class TicketListConsumer(_MemberConsumer):
    """``ws/w/<slug>/tickets/``: rows of the ticket list appear, change and move live.

    Agents and admins listen to one group per queue they may work; requesters to their own
    list group, which hears about their tickets and the ones they take part in.
    """

    route = TICKET_LIST

    def authorize(self, user):
        membership = membership_for(user=user, slug=self.slug)
        if membership is None:
            self.refuse(kind=REFUSED_KIND_LIST, reason=REASON_NOT_MEMBER)
            return None
        self.workspace_id = membership.workspace_id
        self.presence_on = membership.is_staff
        return self.groups_for(membership)

    def groups_for(self, membership) -> set[str]:
        groups = {member_group(self.workspace_id, self.user_id)}
        if membership.is_staff:
            queue_ids = queues_granted_to(membership).values_list("id", flat=True)
            groups.update(queue_group(self.workspace_id, queue_id) for queue_id in queue_ids)
        else:
            groups.add(user_list_group(self.workspace_id, self.user_id))
        self.still_staff = membership.is_staff
        return groups

    def recheck(self):
        membership = current_membership(scope=self.scope, user_id=self.user_id, slug=self.slug)
        return None if membership is None else self.groups_for(membership)

    def row_frame(self, ticket_id: int):
        membership = current_membership(scope=self.scope, user_id=self.user_id, slug=self.slug)
        if membership is None:
            return False
        ticket = find_visible_ticket(membership, ticket_id)
        if ticket is None:
            return None
        ticket.seen_at = reads.seen_at_of(membership=membership, ticket=ticket)
        with override_for(membership.user):
            html = render_to_string(ROW_TEMPLATE, {"ticket": ticket, "membership": membership})
        return self.frame(Frame.ROW, id=ticket.number, html=html)

    async def ticket_changed(self, event):
        if self.ended:
            return
        frame = await database_sync_to_async(self.row_frame)(event["ticket_id"])
        if frame is False:
            await self.revoke()
        elif frame is None:
            if event.get("ticket_number"):
                await self.send_json(self.frame(Frame.ROW_REMOVED, id=event["ticket_number"]))
        else:
            await self.send_json(frame)

    # Presence markers of the rows (tickets.presence): staff lists only ------------------------

    async def connect(self):
        await super().connect()
        if self.presence_on and not self.ended:
            self.rows_shown: dict[int, tuple[int, dict]] = {}  # ticket id -> (number, presence sent)
            self.presence_lock = asyncio.Lock()
            self.start_presence_sweep()

    async def disconnect(self, code):
        self.stop_presence_sweep()
        await super().disconnect(code)

    async def receive_json(self, content, **kwargs):
        if not self.presence_on or content.get("type") != Inbound.WATCH.value:
            return
        numbers = content.get("numbers")
        if not isinstance(numbers, list):
            return
        numbers = [n for n in numbers[:MAX_WATCHED_ROWS] if isinstance(n, int) and not isinstance(n, bool)]
        rows = await database_sync_to_async(self.visible_rows)(numbers)
        if rows is None:
            await self.revoke()
            return
        for ticket_id, number in rows:
            await self.send_row_presence(ticket_id, number)

    def visible_rows(self, numbers: list[int]):
        """(id, number) of the tickets ``numbers`` this member sees; None to revoke."""
        membership = current_membership(scope=self.scope, user_id=self.user_id, slug=self.slug)
        if membership is None:
            return None
        if not membership.is_staff or not numbers:
            return []
        return list(visible_tickets(membership).filter(number__in=numbers).values_list("id", "number"))

    async def presence_changed(self, event):
        if self.ended or not self.presence_on:
            return
        try:
            await self.send_row_presence(event["ticket_id"], event["ticket_number"])
        except LAYER_ERRORS:  # the next sweep shows it: never a reason to drop the socket
            logger.info("row presence not read: channel layer unavailable")

    async def access_changed(self, event):
        await super().access_changed(event)
        if self.presence_on and not getattr(self, "still_staff", False):
            self.presence_on = False  # demoted to requester: no more markers
            self.stop_presence_sweep()

    async def sweep_presence(self):
        for ticket_id, (number, _shown) in list(self.rows_shown.items()):
            await self.send_row_presence(ticket_id, number)

    async def send_row_presence(self, ticket_id: int, number: int) -> None:
        """Send a row's presence when it differs from what this browser shows for it; one row
        at a time (see TicketConsumer.sweep_presence)."""
        async with self.presence_lock:
            await self._send_row_presence(ticket_id, number)

    async def _send_row_presence(self, ticket_id: int, number: int) -> None:
        present = await presence_of(self.channel_layer, ticket_id=ticket_id, except_user_id=self.user_id)
        _number, shown = self.rows_shown.get(ticket_id, (number, {}))
        if present == shown:
            return
        frame = await database_sync_to_async(self.row_presence_frame)(ticket_id, present)
        if frame is False:
            await self.revoke()
            return
        if present:
            self.rows_shown[ticket_id] = (number, present)
        else:
            self.rows_shown.pop(ticket_id, None)
        if frame is not None and self.presence_on and not self.ended:
            await self.send_json(frame)

    def row_presence_frame(self, ticket_id: int, present):
        """The frame of a row's presence; None when this member may not see the ticket (or is no
        longer staff), False to revoke."""
        membership = current_membership(scope=self.scope, user_id=self.user_id, slug=self.slug)
        if membership is None:
            return False
        if not membership.is_staff:
            return None
        ticket = find_visible_ticket(membership, ticket_id)
        if ticket is None:
            return None
        return self.frame(
            Frame.ROW_PRESENCE, id=ticket.number, people=present_people(ticket=ticket, present=present)
        )
