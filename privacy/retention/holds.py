"""Legal holds: what a preservation order keeps from retention and from account erasure.

A hold covers a whole workspace, a person, or one ticket. What a person hold covers in its
workspace: the tickets they requested, take part in, are assigned or wrote in, the messages they
wrote, the files they uploaded, their membership, their exports and the audit events about them.
A ticket hold covers the ticket, its messages and files, and the audit events about it.

``holds_in`` reads the active holds of one workspace (one query) as a ``HoldSet``; the retention
kinds (privacy/personal_data/retention_kinds.py) turn it into the filters their selectors apply,
so the preview and the sweep spare exactly the same rows. What a hold covers among tickets and
people is answered by the registered ``HoldLookups`` (tickets/holds.py). ``held_objects_for`` is
the account-erasure hook (privacy/account/erasure.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.audit import events
from privacy.audit.log import ACCOUNT_CHAIN
from privacy.personal_data.erasure_context import HeldObjects
from privacy.personal_data.retention_kinds import HoldSet, hold_lookups
from privacy.retention.models import HoldScope, LegalHold
from workspaces.retention_kinds import workspaces_of_people

REASON_REQUIRED = _("Say why the data must be kept (the case, the order or the request).")
PERSON_REQUIRED = _("Enter the email address of a person of this workspace.")
PERSON_NOT_FOUND = _(
    "No person with this email address is a member of this workspace or on one of its tickets."
)
TICKET_REQUIRED = _("Enter the number of a ticket of this workspace.")
TICKET_NOT_FOUND = _("This workspace has no ticket with that number.")
ENDS_IN_PAST = _("The end date must be in the future (or leave it empty to keep the hold until released).")
ALREADY_RELEASED = _("This hold was already released.")


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
    A person hold also keeps their export archives and the audit events about them (that
    workspace's and their account's); a workspace hold keeps the audit events of that workspace
    and, for a member, their exports. The reasons name holds by id: never the reason an admin
    typed, which may quote the very address being erased.
    """
    holds = list(LegalHold.objects.active(now).order_by("placed_at", "pk"))
    if not holds:
        return HeldObjects()
    held_for = hold_lookups().erasure
    member_of = set(workspaces_of_people([user.pk]).get(user.pk, []))
    ticket_ids, message_ids, attachment_ids, reasons = set(), set(), set(), []
    exports, chains = False, set()
    for hold in holds:
        if hold.scope == HoldScope.PERSON and hold.user_id != user.pk:
            continue
        if hold.scope == HoldScope.TICKET:
            tickets, messages, files = held_for(user.pk, ticket_id=hold.ticket_id)
        else:
            tickets, messages, files = held_for(user.pk, workspace_id=hold.workspace_id)
        keeps_exports = hold.scope == HoldScope.PERSON or (
            hold.scope == HoldScope.WORKSPACE and hold.workspace_id in member_of
        )
        keeps_events = hold.scope == HoldScope.PERSON or (
            hold.scope == HoldScope.WORKSPACE and (hold.workspace_id in member_of or tickets or messages)
        )
        if not (tickets or messages or files or keeps_exports or keeps_events):
            continue
        ticket_ids |= tickets
        message_ids |= messages
        attachment_ids |= files
        exports |= keeps_exports
        if keeps_events:
            chains.add(f"ws:{hold.workspace_id}")
            if hold.scope == HoldScope.PERSON:
                chains.add(ACCOUNT_CHAIN)
        reasons.append(
            {
                "hold": hold.pk,
                # Ids, never the hold's reason: free text an admin typed may hold the address.
                "workspace_id": hold.workspace_id,
                "scope": hold.scope,
                "placed_at": hold.placed_at.isoformat(),
                "ends_at": hold.ends_at.isoformat() if hold.ends_at else None,
                "tickets": len(tickets),
                "messages": len(messages),
                "files": len(files),
                "exports": keeps_exports,
                "audit_events": keeps_events,
            }
        )
    return HeldObjects(
        ticket_ids=frozenset(ticket_ids),
        message_ids=frozenset(message_ids),
        attachment_ids=frozenset(attachment_ids),
        reasons=tuple(reasons),
        exports=exports,
        audit_chains=frozenset(chains),
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
    return hold_lookups().find_person(workspace, email)


def ticket_in_workspace(workspace, number: int):
    return hold_lookups().find_ticket(workspace, number)


def held_items(hold: LegalHold, *, limit: int = 50):
    """(tickets covered, total) for the hold's page: the newest ``limit`` tickets it keeps."""
    if hold.scope == HoldScope.WORKSPACE:
        holds = HoldSet(workspace=True)
    else:
        holds = HoldSet(
            user_ids=frozenset([hold.user_id]) if hold.user_id else frozenset(),
            ticket_ids=frozenset([hold.ticket_id]) if hold.ticket_id else frozenset(),
        )
    return hold_lookups().items(hold.workspace_id, holds, limit)


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
    events.legal_hold_placed(hold=hold, workspace=workspace, ticket=ticket, actor=actor, request=request)
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
    events.legal_hold_released(hold=hold, actor=actor, request=request)
    return hold
