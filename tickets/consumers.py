"""Websocket consumers for the ticket page and the ticket list.

A consumer only reads. It lets a connection in after the same membership lookup and ticket
access check the pages use, joins its groups, and for every event re-reads the row through the
visibility querysets with the member's current membership, then renders the same template
fragment the page renders. Events carry ids only (see ``tickets.realtime``), so what reaches a
browser is decided here, per member, by the one visibility function of each model.
"""

from importlib import import_module

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.http import Http404
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare

from tickets.access import access_message, access_ticket
from tickets.models import Ticket
from tickets.realtime import queue_group, ticket_public_group, ticket_staff_group, user_list_group
from workspaces.access import audit_refused_at, membership_for
from workspaces.models import User
from workspaces.realtime import member_group

# Close codes: 4404 answers "no such page for you" (stranger, anonymous, other workspace,
# someone else's ticket: one answer for all); 4403 ends a connection whose access was revoked.
CLOSE_NOT_FOUND = 4404
CLOSE_FORBIDDEN = 4403

# JSON frame types sent to the browser.
FRAME_MESSAGE = "message"
FRAME_TICKET = "ticket"
FRAME_ROW = "row"
FRAME_ROW_REMOVED = "row.removed"

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
    user = User.objects.filter(pk=user_id).first()
    if user is None or not session_is_current(scope, user):
        return None
    return membership_for(user=user, slug=slug)


def ticket_for(membership, number: int):
    """The ticket page's access check: the ticket, or None for missing and forbidden alike."""
    try:
        return access_ticket(membership=membership, number=number)
    except Http404:
        return None


class _MemberConsumer(AsyncJsonWebsocketConsumer):
    """Shared connect/refuse/revoke handling for consumers under ``/ws/w/<slug>/``."""

    async def connect(self):
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.groups_joined: set[str] = set()
        self.revoked = False
        user = self.scope.get("user")
        groups = None
        if user is not None and user.is_authenticated:
            self.user_id = user.pk
            groups = await database_sync_to_async(self.authorize)(user)
        if groups is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.set_groups(groups)
        await self.accept()

    async def disconnect(self, code):
        await self.set_groups(set())

    async def set_groups(self, groups: set[str]) -> None:
        for group in self.groups_joined - groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in groups - self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = set(groups)

    async def access_changed(self, event):
        """``workspaces.realtime.ACCESS_CHANGED``: re-check everything from the database."""
        if self.revoked:
            return
        groups = await database_sync_to_async(self.recheck)()
        if groups is None:
            await self.revoke()
            return
        await self.set_groups(groups)

    def refuse(self, *, kind: str, reason: str) -> None:
        """Record the refusal of a signed-in person (deduplicated by the audit log)."""
        audit_refused_at(ScopeRequest(self.scope), slug=self.slug, reason=reason, kind=kind)

    async def revoke(self):
        """Leave every group and close; events already queued for this socket are ignored."""
        self.revoked = True
        await self.set_groups(set())
        await self.close(code=CLOSE_FORBIDDEN)

    # Subclasses, all synchronous and run in a database thread:
    def authorize(self, user) -> set[str] | None:
        raise NotImplementedError

    def recheck(self) -> set[str] | None:
        raise NotImplementedError


class TicketConsumer(_MemberConsumer):
    """``ws/w/<slug>/tickets/<number>/``: new messages and header changes of one ticket."""

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
            message = access_message(membership=membership, ticket=ticket, message_id=message_id)
        except Http404:
            return None  # a note, for a requester; or gone meanwhile
        html = render_to_string(
            MESSAGE_TEMPLATE, {"message": message, "ticket": ticket, "membership": membership}
        )
        return {"type": FRAME_MESSAGE, "id": message.pk, "html": html}

    def ticket_frame(self):
        membership, ticket = self.fresh()
        if membership is None:
            return False
        frame = {
            "type": FRAME_TICKET,
            "id": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "status_label": ticket.get_status_display(),
        }
        if membership.is_staff:
            # Agent-only fields stay out of a requester's frames.
            frame.update(
                priority=ticket.priority,
                priority_label=ticket.get_priority_display(),
                assignee_label=str(ticket.assignee) if ticket.assignee_id else "",
                queue_label=ticket.queue.name,
            )
        return frame

    async def message_created(self, event):
        if self.revoked or event.get("ticket_id") != self.ticket_id:
            return
        frame = await database_sync_to_async(self.render_message)(event["message_id"])
        if frame is False:
            await self.revoke()
        elif frame:
            await self.send_json(frame)

    async def ticket_changed(self, event):
        if self.revoked or event.get("ticket_id") != self.ticket_id:
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

    def authorize(self, user):
        membership = membership_for(user=user, slug=self.slug)
        if membership is None:
            self.refuse(kind=REFUSED_KIND_LIST, reason=REASON_NOT_MEMBER)
            return None
        self.workspace_id = membership.workspace_id
        return self.groups_for(membership)

    def groups_for(self, membership) -> set[str]:
        from workspaces.services import queues_granted_to

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
        ticket = (
            Ticket.objects.visible_to(membership)
            .filter(pk=ticket_id)
            .select_related("queue", "requester", "assignee")
            .first()
        )
        if ticket is None:
            return None
        html = render_to_string(ROW_TEMPLATE, {"ticket": ticket, "membership": membership})
        return {"type": FRAME_ROW, "id": ticket.number, "html": html}

    async def ticket_changed(self, event):
        if self.revoked:
            return
        frame = await database_sync_to_async(self.row_frame)(event["ticket_id"])
        if frame is False:
            await self.revoke()
        elif frame is None:
            if event.get("ticket_number"):
                await self.send_json({"type": FRAME_ROW_REMOVED, "id": event["ticket_number"]})
        else:
            await self.send_json(frame)
