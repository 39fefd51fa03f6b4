"""Retention kinds and legal-hold lookups, registered by the apps that own the data.

Each app that keeps data a workspace's retention policy limits registers, in
``AppConfig.ready()``, one ``RetentionKind`` per kind of data: its label and policy field, the
selector of what is due, and what the sweep does with a batch of it. Tickets registers closed
tickets, internal notes and attachments; workspaces inactive requesters; privacy finished exports
and the audit log. The app holding the data legal holds cover (tickets) registers the
``HoldLookups`` the hold pages and account erasure ask. privacy/retention (the policy page, the
preview and the sweep) walks these registrations, so it never imports the models it expires.

This module imports no models, so models modules can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketAction(models.TextChoices):
    ANONYMIZE = "anonymize", _("Anonymize (keep the figures, remove who and what)")
    DELETE = "delete", _("Delete completely")


class ErasureFiles(models.TextChoices):
    """What account erasure does with a file on the erased person's tickets that may name them
    and whose content it cannot rewrite (tickets/file_mentions.py)."""

    REVIEW = "review", _("List it for staff to review")
    DELETE = "delete", _("Delete it")


class AttachmentBasis(models.TextChoices):
    UPLOAD = "upload", _("from upload")
    CLOSED = "closed", _("from the ticket's closing")


@dataclass(frozen=True)
class HoldSet:
    """The active holds of one workspace at one moment, reduced to what they cover."""

    workspace: bool = False
    user_ids: frozenset[int] = frozenset()
    ticket_ids: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return self.workspace or bool(self.user_ids or self.ticket_ids)


def cutoff(days: int | None, now):
    return None if days is None else now - timedelta(days=days)


def none_of(model):
    return model._base_manager.none()


def split_held(expired, holds: HoldSet, held):
    """``(due, spared)``: a workspace hold spares all of ``expired``; otherwise the rows
    matching ``held`` (a ``Q``) are spared (none when ``held`` is None: nothing is held)."""
    if holds.workspace:
        return none_of(expired.model), expired
    if held is None:
        return expired, none_of(expired.model)
    return expired.exclude(held), expired.filter(held)


@dataclass(frozen=True)
class Batch:
    """One batch of one kind, handed to the kind's ``act`` inside the sweep's transaction."""

    workspace_id: int
    ids: list[int]
    policy: object
    holds: HoldSet
    now: datetime
    # The sweep's outbox: names of files whose rows this batch removes (deleted after commit).
    queue_files: Callable[[Iterable[str]], object]
    # Account erasure's own path (legal holds respected, ``account.deleted`` audited), for a
    # person the batch leaves in no workspace.
    erase_account: Callable[[object], None]
    # The same for several people at once (the same effects and events, one registry walk for
    # all of them); None: ``erase_account`` one after the other.
    erase_accounts: Callable[[list], None] | None = None


@dataclass(frozen=True)
class RetentionKind:
    """One kind of data a retention policy limits.

    Either taken in batches: ``due(workspace_id, policy, holds, now) -> (due, spared)`` querysets
    (disjoint from the other kinds'), ``act(batch) -> rows done``, ``file_names(ids)`` (the files
    the rows take with them) and ``order_by`` (the order batches are taken in); or cut once per
    run: ``cut(workspace, policy, holds, now)`` (with ``before``, ``due`` and ``spared``) and
    ``purge(workspace, cut) -> rows deleted``.
    """

    name: str
    label: str
    help: str
    days_field: str
    # The sweep acts on the kinds in this order.
    position: int
    # The retention page's verb: a string, or ``f(policy) -> str``.
    action: str | Callable[[object], str] = "deleted"
    # Other policy fields whose change can bring rows forward (shown as a shortening).
    moved_by: tuple[str, ...] = ()
    due: Callable | None = None
    act: Callable[[Batch], int] | None = None
    file_names: Callable[[list[int]], list[str]] | None = None
    order_by: tuple[str, ...] = ("pk",)
    cut: Callable | None = None
    purge: Callable | None = None

    def __post_init__(self):
        batched = self.due is not None and self.act is not None
        whole = self.cut is not None and self.purge is not None
        if batched == whole:
            raise ValueError(f"Retention kind {self.name!r}: give either due and act, or cut and purge.")

    def action_for(self, policy) -> str:
        return self.action(policy) if callable(self.action) else self.action


@dataclass(frozen=True)
class LeadIn:
    """Part of a kind's work that an app does ahead of the kind's own batches, in batches of
    its own taken in primary-key order, so each table is read and written once from start to
    end instead of once per batch of the kind (an inactive requester's tickets lie all over the
    tickets table: erased with their owners, 2,000 people at a time, every batch touched pages
    everywhere, three times the cost per ticket of the closed-tickets kind).

    Only a head start: nothing is counted (the kind's batches count their rows), and the kind's
    batches still do whatever the lead-in left (a run killed in it, rows another worker held),
    so it never changes what a run ends with. ``due(workspace_id, policy, holds, now)``: the
    rows still to do (a queryset: the sweep lists them once, then asks again for each batch's
    own rows), ``act(batch)``, ``file_names(ids)``: the files the rows take with them."""

    kind: str
    due: Callable
    act: Callable[[Batch], object]
    file_names: Callable[[list[int]], list[str]] | None = None


_LEAD_INS: list[LeadIn] = []


def register_lead_in(lead_in: LeadIn) -> None:
    if lead_in not in _LEAD_INS:
        _LEAD_INS.append(lead_in)


def lead_ins(kind: str) -> tuple[LeadIn, ...]:
    return tuple(lead_in for lead_in in _LEAD_INS if lead_in.kind == kind)


_KINDS: dict[str, RetentionKind] = {}


def register_retention_kind(kind: RetentionKind) -> RetentionKind:
    existing = _KINDS.get(kind.name)
    if existing is not None and existing != kind:
        raise ValueError(f"Retention kind {kind.name!r} is registered twice.")
    _KINDS[kind.name] = kind
    return kind


def retention_kinds() -> tuple[RetentionKind, ...]:
    return tuple(sorted(_KINDS.values(), key=lambda kind: kind.position))


def retention_kind(name: str) -> RetentionKind:
    return _KINDS[name]


# An inactive requester leaving a workspace ------------------------------------------------------------

_REQUESTER_EXPIRY: list[Callable] = []


def register_requester_expiry(expire: Callable[[Batch, int], dict[str, int]]) -> None:
    """``expire(batch, user_id) -> counts``: what an app removes of an inactive requester in the
    batch's workspace before their membership ends (their tickets, words and files there)."""
    if expire not in _REQUESTER_EXPIRY:
        _REQUESTER_EXPIRY.append(expire)


def requester_expiry_hooks() -> tuple[Callable, ...]:
    return tuple(_REQUESTER_EXPIRY)


_REQUESTERS_EXPIRY: list[Callable] = []


def register_requesters_expiry(expire: Callable[[Batch, list[int]], dict[str, int]]) -> None:
    """``expire(batch, user_ids) -> counts``: the ``register_requester_expiry`` hook of an app
    for several requesters of the batch's workspace at once (set-based: the sweep's batches).
    An app registering both must do the same thing in both."""
    if expire not in _REQUESTERS_EXPIRY:
        _REQUESTERS_EXPIRY.append(expire)


def requesters_expiry_hooks() -> tuple[Callable, ...]:
    return tuple(_REQUESTERS_EXPIRY)


# Legal holds ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldLookups:
    """What legal holds cover, answered by the app that holds the data.

    - ``find_person(workspace, email)``: the person with this address among the workspace's
      members and its tickets' people, or None;
    - ``find_ticket(workspace, number)``: the workspace's ticket with this number, or None;
    - ``items(workspace_id, holds, limit) -> (rows, total)``: the newest ``limit`` tickets the
      holds cover (all of them under a workspace hold);
    - ``erasure(user_id, *, workspace_id=None, ticket_id=None) -> (ticket ids, message ids,
      attachment ids)``: what of the person's a hold on the workspace (or that ticket) keeps;
    - ``audit_targets(workspace_id, holds) -> {target_type: [target_id, ...]}``: the audit
      events about held data.
    """

    find_person: Callable
    find_ticket: Callable
    items: Callable
    erasure: Callable
    audit_targets: Callable


_HOLD_LOOKUPS: list[HoldLookups] = []

NO_HOLD_LOOKUPS = "No app registered the legal-hold lookups (register_hold_lookups in AppConfig.ready)."


def register_hold_lookups(lookups: HoldLookups) -> None:
    if _HOLD_LOOKUPS and _HOLD_LOOKUPS[0] != lookups:
        raise ValueError("The legal-hold lookups are registered twice.")
    _HOLD_LOOKUPS[:] = [lookups]


def hold_lookups() -> HoldLookups:
    if not _HOLD_LOOKUPS:
        raise LookupError(NO_HOLD_LOOKUPS)
    return _HOLD_LOOKUPS[0]
