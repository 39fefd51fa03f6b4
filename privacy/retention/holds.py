"""Legal holds: what a preservation order keeps from retention and from account erasure.

A hold covers a whole workspace, a person, or one ticket. What a person hold covers in its
workspace: the tickets they requested, take part in, are assigned or wrote in, the messages they
wrote, the files they uploaded, their membership, their exports and the audit events about them.
A ticket hold covers the ticket, its messages and files, and the audit events about it.

``holds_in`` reads the active holds of one workspace (one query); the ``*_held_q`` helpers turn
them into filters the retention selectors (privacy/retention/policies.py) apply, so the preview and the
sweep spare exactly the same rows. ``held_objects_for`` is the account-erasure hook
(privacy/account/erasure.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from privacy.account.anonymizers import HeldObjects
from privacy.audit import actions
from privacy.audit.log import audit_record
from privacy.retention.models import HoldScope, LegalHold

REASON_REQUIRED = "Say why the data must be kept (the case, the order or the request)."
PERSON_REQUIRED = "Enter the email address of a person of this workspace."
PERSON_NOT_FOUND = "No person with this email address is a member of this workspace or on one of its tickets."
TICKET_REQUIRED = "Enter the number of a ticket of this workspace."
TICKET_NOT_FOUND = "This workspace has no ticket with that number."
ENDS_IN_PAST = "The end date must be in the future (or leave it empty to keep the hold until released)."
ALREADY_RELEASED = "This hold was already released."


@dataclass(frozen=True)
class HoldSet:
    """The active holds of one workspace at one moment, reduced to what they cover."""

    workspace: bool = False
    user_ids: frozenset[int] = frozenset()
    ticket_ids: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return self.workspace or bool(self.user_ids or self.ticket_ids)


def holds_in(workspace_id: int, *, now=None) -> HoldSet:
    rows = (
        LegalHold.objects.active(now)
        .filter(workspace_id=workspace_id)
        .values_list("scope", "user_id", "ticket_id")
    )
    workspace, users, tickets = False, set(), set()
    for scope, user_id, ticket_id in rows:
        if scope == HoldScope.WORKSPACE:
            workspace = True
        elif scope == HoldScope.PERSON:
            users.add(user_id)
        elif scope == HoldScope.TICKET:
            tickets.add(ticket_id)
    return HoldSet(workspace, frozenset(users), frozenset(tickets))


# Filters (for querysets of the hold's workspace) --------------------------------------------------------


def ticket_held_q(holds: HoldSet) -> Q:
    """Tickets covered by the holds (a workspace hold is handled by the callers)."""
    from tickets.models import Message, TicketParticipant

    q = Q(pk__in=sorted(holds.ticket_ids))
    if holds.user_ids:
        users = sorted(holds.user_ids)
        q |= Q(requester_id__in=users) | Q(assignee_id__in=users)
        q |= Q(Exists(TicketParticipant.objects.filter(ticket_id=OuterRef("pk"), user_id__in=users)))
        q |= Q(Exists(Message.objects.filter(ticket_id=OuterRef("pk"), author_id__in=users)))
    return q


def held_tickets(workspace_id: int, holds: HoldSet):
    from tickets.models import Ticket

    return Ticket.objects.filter(workspace_id=workspace_id).filter(ticket_held_q(holds)).values("pk")


def message_held_q(workspace_id: int, holds: HoldSet) -> Q:
    if not holds:
        return Q(pk__in=[])
    return Q(ticket_id__in=held_tickets(workspace_id, holds)) | Q(author_id__in=sorted(holds.user_ids))


def attachment_held_q(workspace_id: int, holds: HoldSet) -> Q:
    if not holds:
        return Q(pk__in=[])
    return Q(ticket_id__in=held_tickets(workspace_id, holds)) | Q(uploaded_by_id__in=sorted(holds.user_ids))


def person_held_anywhere(user_ids, *, now=None) -> set[int]:
    """Of ``user_ids``, those under an active person hold in any workspace."""
    return set(
        LegalHold.objects.active(now)
        .filter(scope=HoldScope.PERSON, user_id__in=list(user_ids))
        .values_list("user_id", flat=True)
    )


# Account erasure hook ---------------------------------------------------------------------------------


def held_objects_for(user, *, now=None) -> HeldObjects:
    """What active legal holds keep from ``user``'s account erasure, with the reasons to tell them.

    In a workspace under a workspace hold or a person hold on them: their tickets (requested or
    taking part), the messages they wrote and the files they uploaded there, and the files on
    those tickets. A ticket hold on a ticket they are on keeps that ticket, its messages and files.
    """
    from tickets.models import Attachment, Message, Ticket, TicketParticipant

    holds = list(
        LegalHold.objects.active(now).select_related("workspace", "ticket").order_by("placed_at", "pk")
    )
    if not holds:
        return HeldObjects()
    ticket_ids, message_ids, attachment_ids, reasons = set(), set(), set(), []
    mine = Q(requester_id=user.pk) | Q(
        Exists(TicketParticipant.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk))
    )
    mine |= Q(Exists(Message.objects.filter(ticket_id=OuterRef("pk"), author_id=user.pk)))
    for hold in holds:
        if hold.scope == HoldScope.PERSON and hold.user_id != user.pk:
            continue
        if hold.scope == HoldScope.TICKET:
            tickets = set(Ticket.objects.filter(pk=hold.ticket_id).filter(mine).values_list("pk", flat=True))
            messages = set(Message.objects.filter(ticket_id__in=tickets).values_list("pk", flat=True))
            files = set(Attachment.objects.filter(ticket_id__in=tickets).values_list("pk", flat=True))
        else:
            workspace_id = hold.workspace_id
            tickets = set(
                Ticket.objects.filter(workspace_id=workspace_id).filter(mine).values_list("pk", flat=True)
            )
            messages = set(
                Message.objects.filter(workspace_id=workspace_id, author_id=user.pk).values_list(
                    "pk", flat=True
                )
            )
            files = set(
                Attachment.objects.filter(workspace_id=workspace_id)
                .filter(Q(uploaded_by_id=user.pk) | Q(ticket_id__in=tickets))
                .values_list("pk", flat=True)
            )
        if not (tickets or messages or files):
            continue
        ticket_ids |= tickets
        message_ids |= messages
        attachment_ids |= files
        reasons.append(
            {
                "hold": hold.pk,
                "workspace": hold.workspace.name,
                "scope": hold.scope,
                "reason": hold.reason,
                "placed_at": hold.placed_at.isoformat(),
                "ends_at": hold.ends_at.isoformat() if hold.ends_at else None,
                "tickets": len(tickets),
                "messages": len(messages),
                "files": len(files),
            }
        )
    return HeldObjects(
        ticket_ids=frozenset(ticket_ids),
        message_ids=frozenset(message_ids),
        attachment_ids=frozenset(attachment_ids),
        reasons=tuple(reasons),
    )


# Selectors ----------------------------------------------------------------------------------------------


def holds_of(workspace):
    """The workspace's holds, newest first, with the people and tickets they name (one query)."""
    return LegalHold.objects.filter(workspace_id=workspace.pk).select_related(
        "user", "ticket", "placed_by", "released_by"
    )


def hold_in(workspace, hold_id: int) -> LegalHold:
    """The hold of this workspace or ``LegalHold.DoesNotExist`` (views answer 404)."""
    return holds_of(workspace).get(pk=hold_id)


def person_in_workspace(workspace, email: str):
    """The person with this address among the workspace's members and its tickets' people."""
    from tickets.models import Ticket, TicketParticipant
    from workspaces.models import Membership, User

    email = (email or "").strip().lower()
    if not email:
        return None
    connected = (
        Q(pk__in=Membership.objects.filter(workspace_id=workspace.pk).values("user_id"))
        | Q(pk__in=Ticket.objects.filter(workspace_id=workspace.pk).values("requester_id"))
        | Q(pk__in=TicketParticipant.objects.filter(workspace_id=workspace.pk).values("user_id"))
    )
    return User.objects.filter(email__iexact=email).filter(connected).first()


def ticket_in_workspace(workspace, number: int):
    from tickets.models import Ticket

    return Ticket.objects.filter(workspace_id=workspace.pk, number=number).first()


def held_items(hold: LegalHold, *, limit: int = 50):
    """(tickets covered, total) for the hold's page: the newest ``limit`` tickets it keeps."""
    from tickets.models import Ticket

    if hold.scope == HoldScope.WORKSPACE:
        tickets = Ticket.objects.filter(workspace_id=hold.workspace_id)
    else:
        holds = HoldSet(
            user_ids=frozenset([hold.user_id]) if hold.user_id else frozenset(),
            ticket_ids=frozenset([hold.ticket_id]) if hold.ticket_id else frozenset(),
        )
        tickets = Ticket.objects.filter(workspace_id=hold.workspace_id).filter(ticket_held_q(holds))
    total = tickets.count()
    rows = list(tickets.select_related("queue", "requester").order_by("-updated_at", "-id")[:limit])
    return rows, total


# Services -----------------------------------------------------------------------------------------------


@transaction.atomic
def legal_hold_place(
    *,
    workspace,
    actor,
    scope: str,
    reason: str,
    user=None,
    ticket=None,
    ends_at=None,
    request=None,
) -> LegalHold:
    """Place a hold. The caller has resolved ``user`` / ``ticket`` inside ``workspace``.
    Audits ``legal_hold.placed`` (scope, target ids, end date; never the reason text)."""
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = REASON_REQUIRED
    if scope == HoldScope.PERSON and user is None:
        errors["email"] = PERSON_REQUIRED
    if scope == HoldScope.TICKET and (ticket is None or ticket.workspace_id != workspace.pk):
        errors["ticket_number"] = TICKET_REQUIRED
    if ends_at is not None and ends_at <= timezone.now():
        errors["ends_at"] = ENDS_IN_PAST
    if errors:
        raise ValidationError(errors)
    hold = LegalHold(
        workspace=workspace,
        scope=scope,
        user=user if scope == HoldScope.PERSON else None,
        ticket=ticket if scope == HoldScope.TICKET else None,
        reason=reason.strip(),
        placed_by=actor,
        placed_at=timezone.now(),
        ends_at=ends_at,
    )
    hold.full_clean()
    hold.save()
    audit_record(
        action=actions.LEGAL_HOLD_PLACED,
        request=request,
        actor=actor,
        workspace=workspace,
        target=hold,
        detail={
            "scope": scope,
            "user_id": hold.user_id,
            "ticket": ticket.number if hold.ticket_id else None,
            "ends_at": ends_at.isoformat() if ends_at else None,
        },
    )
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, actor, request=None) -> LegalHold:
    """Release a hold (locks its row). Retention and erasure treat the data normally from the
    next run. Audits ``legal_hold.released``."""
    hold = LegalHold.objects.select_for_update().select_related("workspace").get(pk=hold.pk)
    if hold.released_at is not None:
        raise ValidationError(ALREADY_RELEASED)
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_by"])
    audit_record(
        action=actions.LEGAL_HOLD_RELEASED,
        request=request,
        actor=actor,
        workspace=hold.workspace,
        target=hold,
        detail={"scope": hold.scope, "placed_at": hold.placed_at.isoformat()},
    )
    return hold
