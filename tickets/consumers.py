"""Websocket consumers for the ticket page and the ticket list.

A consumer only reads. It lets a connection in after the same membership lookup and ticket
access check the pages use, joins its groups, and for every event re-reads the row through the
visibility querysets with the member's current membership, then renders the same template
fragment the page renders. Events carry ids only (see ``tickets.realtime``), so what reaches a
browser is decided here, per member, by the one visibility function of each model.
"""

import asyncio
import logging
from importlib import import_module

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.http import Http404
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from helpdesk.text import strip_bidi
from helpdesk.timezones import override_for
from tickets import reads
from tickets.access import find_visible_ticket, get_message_or_404, get_ticket_or_404
from tickets.live_contract import TICKET, TICKET_LIST, Close, Frame, Route
from tickets.realtime import queue_group, ticket_public_group, ticket_staff_group, user_list_group
from workspaces.access import audit_refused_at, membership_for, queues_granted_to
from workspaces.realtime import member_group
from workspaces.selectors import user_by_id

logger = logging.getLogger(__name__)

# Frame types and close codes are the websocket contract of tickets.live_contract.

# What a channel layer raises when Redis is slow or gone: a read that outlasts the socket timeout
# (a blocking pop on a loaded machine), a dropped or refused connection.
LAYER_ERRORS = (RedisTimeoutError, RedisConnectionError, TimeoutError, ConnectionError)

MESSAGE_TEMPLATE = "tickets/_message.html"
ROW_TEMPLATE = "tickets/_ticket_row.html"

# How refusals are named in the audit log (``kind``) and why (``reason``).
REFUSED_KIND_TICKET = "ws_ticket"
REFUSED_KIND_LIST = "ws_ticket_list"
REASON_NOT_MEMBER = "not_member"
REASON_NOT_VISIBLE = "ticket_not_visible"
# Headers never copied into the request-like object handed to the audit log.
UNCOPIED_HEADERS = {b"cookie", b"authorization"}


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups_joined: set[str] = set()
        self.ended = False

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

    async def disconnect(self, code):
        await self.leave_groups()

    async def set_groups(self, groups: set[str]) -> None:
        """Join ``groups`` and leave the others; ``groups_joined`` follows each call that
        succeeded, so a retry (or a later call) does only what is left."""
        for group in sorted(self.groups_joined - groups):
            await self.with_layer_retries(self.channel_layer.group_discard, group, self.channel_name)
            self.groups_joined.discard(group)
        for group in sorted(groups - self.groups_joined):
            await self.with_layer_retries(self.channel_layer.group_add, group, self.channel_name)
            self.groups_joined.add(group)

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
        return self.groups_for(membership)

    def groups_for(self, membership) -> set[str]:
        groups = {ticket_public_group(self.ticket_id), member_group(self.workspace_id, self.user_id)}
        if membership.is_staff:
            groups.add(ticket_staff_group(self.ticket_id))
        return groups

    def fresh(self):
        """(membership, ticket) as they are now, or (None, None) when access is gone."""
        membership = current_membership(scope=self.scope, user_id=self.user_id, slug=self.slug)
        if membership is None:
            return None, None
        ticket = ticket_for(membership, self.number)
        if ticket is None or ticket.pk != self.ticket_id:
            return None, None
        return membership, ticket

    def recheck(self):
        membership, _ticket = self.fresh()
        return None if membership is None else self.groups_for(membership)

    def render_message(self, message_id: int):
        """The frame for a new message, None when this member may not see it, False to revoke."""
        membership, ticket = self.fresh()
        if membership is None:
            return False
        try:
            message = get_message_or_404(membership, ticket, message_id)
        except Http404:
            return None  # a note, for a requester; or gone meanwhile
        # The viewer's saved zone, as on the page (helpdesk/timezones.py).
        with override_for(membership.user):
            html = render_to_string(
                MESSAGE_TEMPLATE, {"message": message, "ticket": ticket, "membership": membership}
            )
        return self.frame(Frame.MESSAGE, id=message.pk, html=html)

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
        if self.ended or event.get("ticket_id") != self.ticket_id:
            return
        frame = await database_sync_to_async(self.render_message)(event["message_id"])
        if frame is False:
            await self.revoke()
        elif frame:
            await self.send_json(frame)

    async def ticket_changed(self, event):
        if self.ended or event.get("ticket_id") != self.ticket_id:
            return
        frame = await database_sync_to_async(self.ticket_frame)()
        if frame is False:
            await self.revoke()
        else:
            await self.send_json(frame)


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
        return self.groups_for(membership)

    def groups_for(self, membership) -> set[str]:
        groups = {member_group(self.workspace_id, self.user_id)}
        if membership.is_staff:
            queue_ids = queues_granted_to(membership).values_list("id", flat=True)
            groups.update(queue_group(self.workspace_id, queue_id) for queue_id in queue_ids)
        else:
            groups.add(user_list_group(self.workspace_id, self.user_id))
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
