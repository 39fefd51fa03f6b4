"""Bulk actions on the tickets a staff member ticked in the list (issue 13, the agent workbench).

``bulk_apply`` changes one property of many tickets in ONE transaction. Per ticket it calls the
very service a single edit calls (``tickets.services.ticket_assign``, ``ticket_set_status``...),
so each change is audited on its own ticket, emails and live updates go out as for a single
edit (after commit), and every rule a service keeps (an assignee must work the ticket's queue, a
restricted person gets no new work) holds in bulk too. A service refusing one ticket rolls back
that ticket's savepoint only; the others go ahead, and the report says why in words.

Locking: the visible tickets among the ones asked for are locked in one query, in id order.
Two bulk changes over overlapping sets therefore queue up behind each other instead of
deadlocking (each takes its locks in the same order), and a single edit (which locks one
ticket, then the audit chain head) never holds a lock a bulk waits for while waiting for one the
bulk holds.

Visibility is re-checked in that same query (``tickets.access.visible_tickets``): a ticket
that moved to a queue the person does not work since the list was shown is counted as "not
visible" and nothing about it is said, exactly like a number that never existed.

The actions are a registry (``ACTIONS``): a name, how to read the chosen value, which property
it changes and the service that applies it. A new action is one more ``BulkAction`` registered
with ``register`` (tags is one: ``tickets.tags.ticket_set_tags``); see ``docs/bulk-actions.md``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.forms import service_error_message
from helpdesk.text import strip_bidi
from privacy.audit import events
from tickets import access, bulk_services, selectors, services, tags
from tickets.models import Priority, Status, Ticket
from workspaces.models import Membership, Queue

# How many tickets one bulk request may change: a page of the list is 50; a few pages at most.
BULK_MAX = 500

UNKNOWN_ACTION = _("Choose what to do with the selected tickets.")
NOTHING_SELECTED = _("Select at least one ticket first.")
TOO_MANY = _("Select at most {limit} tickets at a time.")
UNKNOWN_AGENT = _("Choose one of the listed agents.")
UNKNOWN_QUEUE = _("Choose one of the listed queues.")
NO_TAGS = _("Type the tags to add or remove, separated by commas.")
IS_CLOSED = _("#{number} is Closed: closed tickets are not changed in bulk. Open it to change it.")
STALE = _("#{number} was changed by {name} since you loaded the list: check it and try again.")
SOMEONE = _("someone")

# The property each action changes: what the list's row showed is compared with it (stale check).
SEEN_FIELDS = ("status", "priority", "queue", "assignee")


@dataclass(frozen=True)
class BulkAction:
    """One thing a bulk request can do to each selected ticket.

    ``parse(membership, raw)`` turns the posted value into what ``apply`` takes, or raises
    ``ValidationError`` with a sentence (nothing is changed then). ``current(ticket)`` is the
    comparable value of the property now and ``wanted(value)`` the one asked for: equal means
    "already so", nothing is written. ``apply(ticket=, value=, actor=, request=)`` is the
    single-edit service. ``seen_field`` names the property (one of ``SEEN_FIELDS``) for the stale
    check, or "" for an action without one."""

    name: str
    parse: Callable[[Membership, str], Any]
    current: Callable[[Ticket], Any]
    wanted: Callable[[Any], Any]
    apply: Callable[..., Ticket]
    seen_field: str = ""
    # Closed tickets are final: a bulk change would reopen or rewrite them unnoticed.
    skips_closed: bool = True
    # The batched twin of ``apply`` (tickets/bulk_services.py): ``apply_many(tickets=, value=,
    # actor=, request=)`` -> {ticket pk: refusal}. Without one, ``apply`` runs per ticket, each
    # in its own savepoint (a refusal rolls back that ticket only).
    apply_many: Callable[..., dict[int, str]] | None = None


ACTIONS: dict[str, BulkAction] = {}


def register(action: BulkAction) -> BulkAction:
    ACTIONS[action.name] = action
    return action


def _parse_assignee(membership: Membership, raw: str):
    """ "me", "none" or a staff member's user id; the queue check is the service's, per ticket."""
    if raw == "none":
        return None
    if raw == "me":
        return membership.user
    try:
        user_id = int(raw)
    except ValueError:
        raise ValidationError(UNKNOWN_AGENT) from None
    user = selectors.staff_members(membership.workspace_id).filter(pk=user_id).first()
    if user is None:
        raise ValidationError(UNKNOWN_AGENT)
    return user


def _parse_choice(choices, error):
    def parse(membership: Membership, raw: str) -> str:
        if raw not in choices:
            raise ValidationError(error)
        return raw

    return parse


def _parse_queue(membership: Membership, raw: str) -> Queue:
    # Any queue of the workspace, like the ticket page's properties form.
    queue = (
        Queue.objects.of_workspace(membership.workspace_id).filter(pk=raw).first() if raw.isdigit() else None
    )
    if queue is None:
        raise ValidationError(UNKNOWN_QUEUE)
    return queue


register(
    BulkAction(
        name="assign",
        parse=_parse_assignee,
        current=lambda ticket: ticket.assignee_id,
        wanted=lambda user: user.pk if user is not None else None,
        apply=lambda *, ticket, value, actor, request: services.ticket_assign(
            ticket=ticket, assignee=value, actor=actor, request=request
        ),
        seen_field="assignee",
        apply_many=bulk_services.assign_many,
    )
)
register(
    BulkAction(
        name="status",
        parse=_parse_choice(Status.values, services.UNKNOWN_STATUS),
        current=lambda ticket: ticket.status,
        wanted=lambda status: status,
        apply=lambda *, ticket, value, actor, request: services.ticket_set_status(
            ticket=ticket, status=value, actor=actor, request=request
        ),
        seen_field="status",
        apply_many=bulk_services.set_status_many,
    )
)
register(
    BulkAction(
        name="priority",
        parse=_parse_choice(Priority.values, services.UNKNOWN_PRIORITY),
        current=lambda ticket: ticket.priority,
        wanted=lambda priority: priority,
        apply=lambda *, ticket, value, actor, request: services.ticket_set_priority(
            ticket=ticket, priority=value, actor=actor, request=request
        ),
        seen_field="priority",
        apply_many=bulk_services.set_priority_many,
    )
)
register(
    BulkAction(
        name="queue",
        parse=_parse_queue,
        current=lambda ticket: ticket.queue_id,
        wanted=lambda queue: queue.pk,
        apply=lambda *, ticket, value, actor, request: services.ticket_move_queue(
            ticket=ticket, queue=value, actor=actor, request=request
        ),
        seen_field="queue",
        apply_many=bulk_services.move_queue_many,
    )
)


@dataclass
class BulkReport:
    """What a bulk request did, by ticket number. ``not_visible`` is only a count: the numbers
    asked for that do not exist or the person may not see are never told apart or named."""

    changed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    not_visible: int = 0
    # Changed, and now in a queue the person does not work (a move to another team's queue).
    moved_away: list[int] = field(default_factory=list)

    @property
    def not_changed(self) -> int:
        return len(self.refused) + self.not_visible

    def summary(self) -> str:
        """One paragraph for the list page: "12 tickets updated. 2 could not be changed: ..."."""
        parts = []
        if self.changed:
            parts.append(
                ngettext("%(count)d ticket updated.", "%(count)d tickets updated.", len(self.changed))
                % {"count": len(self.changed)}
            )
        if self.unchanged:
            parts.append(
                ngettext(
                    "%(count)d ticket already had that value.",
                    "%(count)d tickets already had that value.",
                    len(self.unchanged),
                )
                % {"count": len(self.unchanged)}
            )
        if self.moved_away:
            parts.append(
                ngettext(
                    "%(count)d ticket moved to a queue you do not work; it left your list.",
                    "%(count)d tickets moved to a queue you do not work; they left your list.",
                    len(self.moved_away),
                )
                % {"count": len(self.moved_away)}
            )
        if self.not_changed:
            parts.append(
                ngettext(
                    "%(count)d could not be changed:",
                    "%(count)d could not be changed:",
                    self.not_changed,
                )
                % {"count": self.not_changed}
            )
            reasons = [str(reason) for _number, reason in self.refused]
            if self.not_visible:
                reasons.append(
                    ngettext(
                        "%(count)d ticket does not exist or is not visible to you.",
                        "%(count)d tickets do not exist or are not visible to you.",
                        self.not_visible,
                    )
                    % {"count": self.not_visible}
                )
            parts.append(" ".join(reasons))
        return " ".join(parts)


def _parse_tags(membership: Membership, raw: str) -> tuple[str, list[str]]:
    """``"add:urgent, vip"`` or ``"remove:vip"`` (the view joins the chosen change and the typed
    names); names are normalised as on the ticket page."""
    mode, _sep, names = raw.partition(":")
    wanted = tags.split_tag_list(names)
    if mode not in ("add", "remove") or not wanted:
        raise ValidationError(NO_TAGS)
    return mode, wanted


def _apply_tags(*, ticket, value, actor, request) -> Ticket:
    mode, names = value
    return tags.ticket_set_tags(
        ticket=ticket,
        add=names if mode == "add" else [],
        remove=names if mode == "remove" else [],
        actor=actor,
        request=request,
    ).ticket


# Tags run per ticket through the tags service (one audit event per ticket that changed; a ticket
# that already had them is left as it is); no stale check: tags are added or removed, not set.
register(
    BulkAction(
        name="tags",
        parse=_parse_tags,
        current=lambda ticket: None,
        wanted=lambda value: value,
        apply=_apply_tags,
    )
)


def parse_change(raw: str) -> tuple[BulkAction, str]:
    """``"status:pending"`` -> (the status action, "pending"); ``ValidationError`` otherwise."""
    name, _sep, value = (raw or "").partition(":")
    action = ACTIONS.get(name)
    if action is None:
        raise ValidationError(UNKNOWN_ACTION)
    return action, value


NOT_SHOWN = object()


def _seen_value(seen: dict | None, number: int, field_name: str):
    """What the list row showed for ``field_name`` (``"status|priority|queue|assignee"``), or
    ``NOT_SHOWN`` when the request did not say (a hand-made post: no stale check then)."""
    if not seen or not field_name or number not in seen:
        return NOT_SHOWN
    parts = str(seen[number]).split("|")
    if len(parts) != len(SEEN_FIELDS):
        return NOT_SHOWN
    value = parts[SEEN_FIELDS.index(field_name)]
    if field_name in ("queue", "assignee"):
        if value == "-":
            return None
        return int(value) if value.isdigit() else NOT_SHOWN
    return value


def _name(user) -> str:
    return strip_bidi(str(user)) if user is not None else str(SOMEONE)


def bulk_apply(
    *,
    membership: Membership,
    numbers: Iterable[int],
    action: str,
    value: str,
    actor,
    request=None,
    seen: dict[int, str] | None = None,
) -> BulkReport:
    """Apply ``action`` with ``value`` to the tickets ``numbers`` of the member's workspace.

    Staff only (the view checks the role; a requester's visible tickets would still only ever be
    their own). ``seen`` maps a number to what its list row showed
    (``"status|priority|queue_id|assignee_id"``, see ``seen_token``): a ticket whose property
    someone else changed since, to another value than the one asked for, is refused as stale
    instead of being silently overwritten (issue 17's rule, in bulk).

    Raises ``ValidationError`` (nothing changed) for an unknown action or value, an empty
    selection or more than ``BULK_MAX`` tickets. Audits one event per changed ticket (through the
    action's batched twin, or its single-edit service); a request naming tickets out of reach is
    recorded once as refused access.
    """
    bulk = ACTIONS.get(action)
    if bulk is None:
        raise ValidationError(UNKNOWN_ACTION)
    wanted_numbers = sorted({int(n) for n in numbers})
    if not wanted_numbers:
        raise ValidationError(NOTHING_SELECTED)
    if len(wanted_numbers) > BULK_MAX:
        raise ValidationError(TOO_MANY.format(limit=BULK_MAX))
    parsed = bulk.parse(membership, value)
    wanted = bulk.wanted(parsed)
    report = BulkReport()
    with transaction.atomic():
        locked = list(
            access.visible_tickets(membership)
            .filter(number__in=wanted_numbers)
            .select_related("workspace", "queue", "assignee", "properties_changed_by")
            .select_for_update(of=("self",))
            .order_by("id")
        )
        report.not_visible = len(wanted_numbers) - len(locked)
        todo = [
            ticket
            for ticket in sorted(locked, key=lambda t: t.number)
            if _may_apply(bulk, ticket, wanted, seen, report)
        ]
        if bulk.apply_many is not None:
            refused = (
                bulk.apply_many(tickets=todo, value=parsed, actor=actor, request=request) if todo else {}
            )
            for ticket in todo:
                if ticket.pk in refused:
                    report.refused.append((ticket.number, refused[ticket.pk]))
                else:
                    report.changed.append(ticket.number)
        else:
            for ticket in todo:
                _apply_one(bulk, ticket, parsed, actor, request, report)
        report.refused.sort(key=lambda item: item[0])
        if bulk.seen_field == "queue":
            report.moved_away = list(report.changed)
        if report.moved_away:
            still = set(
                access.visible_tickets(membership)
                .filter(number__in=report.moved_away)
                .values_list("number", flat=True)
            )
            report.moved_away = [n for n in report.moved_away if n not in still]
        if report.not_visible and request is not None:
            events.access_refused(
                request, workspace=membership.workspace, reason=events.REFUSED_NOT_VISIBLE, kind="bulk"
            )
    return report


def _may_apply(bulk, ticket, wanted, seen, report) -> bool:
    """False (and the report says why) for a ticket already so, closed, or changed since the
    list showed it; True for one to change."""
    current = bulk.current(ticket)
    if current == wanted:
        report.unchanged.append(ticket.number)
        return False
    if bulk.skips_closed and ticket.status == Status.CLOSED:
        report.refused.append((ticket.number, IS_CLOSED.format(number=ticket.number)))
        return False
    shown = _seen_value(seen, ticket.number, bulk.seen_field)
    if shown is not NOT_SHOWN and shown != current:
        name = _name(ticket.properties_changed_by) if ticket.properties_changed_by_id else str(SOMEONE)
        report.refused.append((ticket.number, STALE.format(number=ticket.number, name=name)))
        return False
    return True


def _apply_one(bulk, ticket, parsed, actor, request, report) -> None:
    try:
        bulk.apply(ticket=ticket, value=parsed, actor=actor, request=request)
    except ValidationError as error:
        report.refused.append((ticket.number, f"#{ticket.number}: {service_error_message(error)}"))
        return
    report.changed.append(ticket.number)


def seen_token(ticket: Ticket) -> str:
    """What a list row shows of the properties, posted with a bulk request (``bulk_apply``)."""
    return "|".join(
        str(v) if v is not None else "-"
        for v in (ticket.status, ticket.priority, ticket.queue_id, ticket.assignee_id)
    )
