"""Tags on tickets: the workspace's own labels ("billing", "vip", "printer"), put on and taken
off tickets by staff. Requesters never see them.

Writes: ``ticket_set_tags`` is the one way to change a ticket's tags (the ticket page, and later
bulk actions and macros call it). Reads: ``ticket_tag_names``, ``tag_names_by_ticket`` (the list,
one query per page), ``tag_suggestions`` (the autocomplete) and ``tickets_tagged`` (the filter).

A name is stored normalised (``normalize_tag_name``): lower case, surrounding space removed, inner
runs of spaces made one, so "VIP", " vip " and "Vip" are one tag of the workspace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy

from helpdesk import compiled_queries
from helpdesk.text import strip_bidi
from privacy.audit import events
from tickets import realtime
from tickets.models import TAG_NAME_MAX_LENGTH, Tag, Ticket, TicketTag

TAG_TOO_LONG = gettext_lazy("A tag can be at most {limit} characters long: “{name}” is longer.")
TAG_BAD_CHARACTERS = gettext_lazy("A tag cannot contain commas, line breaks or control characters.")
TOO_MANY_TAGS = gettext_lazy("A ticket can have at most {limit} tags.")
MAX_TAGS_PER_TICKET = 30
SUGGESTION_LIMIT = 10

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_tag_name(raw: str) -> str:
    """The stored form of a tag typed as ``raw`` ("" for blank). Raises ``ValidationError``
    (``TAG_TOO_LONG``, ``TAG_BAD_CHARACTERS``) for what cannot be a tag."""
    name = _SPACES.sub(" ", strip_bidi(raw or "")).strip().casefold()
    if not name:
        return ""
    if "," in name or _CONTROL.search(name):
        raise ValidationError(TAG_BAD_CHARACTERS, code="bad_characters")
    if len(name) > TAG_NAME_MAX_LENGTH:
        raise ValidationError(TAG_TOO_LONG.format(limit=TAG_NAME_MAX_LENGTH, name=name[:60]), code="too_long")
    return name


def split_tag_list(text: str) -> list[str]:
    """Normalised, de-duplicated names from comma-separated ``text`` (in typed order)."""
    names = []
    for part in (text or "").split(","):
        name = normalize_tag_name(part)
        if name and name not in names:
            names.append(name)
    return names


# Writes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagChange:
    """What ``ticket_set_tags`` did: the ticket as saved, and the names really added/removed."""

    ticket: Ticket
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _tag_ensure(workspace_id: int, name: str) -> Tag:
    """The workspace's tag ``name``, created if missing. Two people creating the same new tag at
    once both get the one row (the unique constraint decides; the loser re-reads)."""
    tag = Tag.objects.filter(workspace_id=workspace_id, name=name).first()
    if tag is not None:
        return tag
    try:
        with transaction.atomic():
            return Tag.objects.create(workspace_id=workspace_id, name=name)
    except IntegrityError:
        return Tag.objects.get(workspace_id=workspace_id, name=name)


@transaction.atomic
def ticket_set_tags(*, ticket: Ticket, add: list[str], remove: list[str], actor, request=None) -> TagChange:
    """Add the tags named in ``add`` and take off those in ``remove`` (names as typed: they are
    normalised here; unknown tags in ``add`` are created for the ticket's workspace, unknown or
    absent ones in ``remove`` are ignored; a name in both is added).

    Locks the ticket row (two people tagging the same ticket are serialised, so each event says
    what really changed). When something changed: bumps ``updated_at`` and the ticket's version
    (``properties_changed_by`` = ``actor``; ``public_updated_at`` is untouched: requesters do
    not see tags), writes ONE ``ticket.tags_changed`` audit event, and after commit announces the
    change to staff only (the ticket's staff group and its queue's lists). Nothing changed:
    nothing written, nothing announced. Raises ``ValidationError`` for a name that cannot be a
    tag or when the ticket would carry more than ``MAX_TAGS_PER_TICKET`` tags; then nothing is
    saved. The caller decides who may call it (staff: ``tickets.access.is_staff``).
    """
    wanted = split_tag_list(",".join(add))
    unwanted = [name for name in split_tag_list(",".join(remove)) if name not in wanted]
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("workspace", "queue")
        .get(pk=ticket.pk, workspace_id=ticket.workspace_id)
    )
    current = dict(
        TicketTag.objects.filter(ticket_id=locked.pk, workspace_id=locked.workspace_id).values_list(
            "tag__name", "pk"
        )
    )
    to_add = [name for name in wanted if name not in current]
    to_remove = [name for name in unwanted if name in current]
    if not to_add and not to_remove:
        return TagChange(ticket=locked, added=(), removed=())
    if len(current) + len(to_add) - len(to_remove) > MAX_TAGS_PER_TICKET:
        raise ValidationError({"tags": TOO_MANY_TAGS.format(limit=MAX_TAGS_PER_TICKET)})
    now = timezone.now()
    if to_remove:
        TicketTag.objects.filter(pk__in=[current[name] for name in to_remove]).delete()
    TicketTag.objects.bulk_create(
        [
            TicketTag(
                workspace_id=locked.workspace_id,
                ticket=locked,
                tag=_tag_ensure(locked.workspace_id, name),
                added_at=now,
            )
            for name in to_add
        ]
    )
    locked.updated_at = max(now, locked.updated_at)
    locked.version += 1
    locked.properties_changed_by = actor
    locked.save(update_fields=["updated_at", "version", "properties_changed_by"])
    events.ticket_tags_changed(ticket=locked, added=to_add, removed=to_remove, actor=actor, request=request)
    transaction.on_commit(lambda: realtime.broadcast_ticket(locked, public=False), robust=True)
    return TagChange(ticket=locked, added=tuple(to_add), removed=tuple(to_remove))


def ticket_replace_tags(
    *, ticket: Ticket, seen: list[str], wanted: list[str], actor, request=None
) -> TagChange:
    """The ticket page's form: the person saw ``seen`` and asks for ``wanted``. Only what they
    changed is applied (``ticket_set_tags``), so a tag someone else added meanwhile stays."""
    seen_names, wanted_names = split_tag_list(",".join(seen)), split_tag_list(",".join(wanted))
    return ticket_set_tags(
        ticket=ticket,
        add=[n for n in wanted_names if n not in seen_names],
        remove=[n for n in seen_names if n not in wanted_names],
        actor=actor,
        request=request,
    )


# Reads ----------------------------------------------------------------------------------------


def ticket_tag_names(ticket: Ticket) -> list[str]:
    """The ticket's tags, by name: those read with it (``with_tag_names``), else one query, its
    SQL kept per process (the ticket page's)."""
    read_with_it = getattr(ticket, "tag_names", None)
    if read_with_it is not None:
        return list(read_with_it)

    def build(ticket_id, workspace_id):
        rows = TicketTag.objects.filter(ticket_id=ticket_id, workspace_id=workspace_id)
        return rows.order_by("tag__name").values_list("tag__name")

    shape = ("ticket_tag_names", connection.vendor)
    values = {"ticket_id": ticket.pk, "workspace_id": ticket.workspace_id}
    return [name for (name,) in compiled_queries.tuples_of(shape, build, values)]


def tag_names_by_ticket(tickets) -> dict[int, list[str]]:
    """``{ticket id: [names]}`` for many tickets of one workspace. One query."""
    tickets = list(tickets)
    if not tickets:
        return {}
    by_ticket: dict[int, list[str]] = {t.pk: [] for t in tickets}
    rows = (
        TicketTag.objects.filter(workspace_id=tickets[0].workspace_id, ticket_id__in=list(by_ticket))
        .order_by("tag__name")
        .values_list("ticket_id", "tag__name")
    )
    for ticket_id, name in rows:
        by_ticket[ticket_id].append(name)
    return by_ticket


def with_tag_names(tickets):
    """``tickets`` (a queryset) with each row's tag names read in the same statement, as
    ``tag_names``, on PostgreSQL (an array subquery per row of the page, through the
    ``(ticket, tag)`` index); elsewhere unchanged, and ``attach_tag_names`` reads them.

    The list page's separate tag query was a tenth of its CPU: built and compiled by the ORM on
    every view. Inside the page's query, which is compiled once per process
    (helpdesk.compiled_queries), it costs only its run."""
    if connection.vendor != "postgresql":
        return tickets
    names = (
        TicketTag.objects.filter(ticket_id=OuterRef("pk"), workspace_id=OuterRef("workspace_id"))
        .order_by("tag__name")
        .values("tag__name")
    )
    return tickets.annotate(tag_names=ArraySubquery(names))


def attach_tag_names(tickets) -> None:
    """Set ``tag_names`` on each ticket of a page (what the list rows show) that was not read
    with them (``with_tag_names``). One query, none when every ticket has them."""
    tickets = [ticket for ticket in tickets if getattr(ticket, "tag_names", None) is None]
    if not tickets:
        return
    names = tag_names_by_ticket(tickets)
    for ticket in tickets:
        ticket.tag_names = names.get(ticket.pk, [])


def tag_suggestions(*, workspace_id: int, query: str, limit: int = SUGGESTION_LIMIT) -> list[str]:
    """Names of the workspace's tags that start with ``query`` (then those containing it), the
    most used first within each group. For the autocomplete; empty query: the most used."""
    try:
        query = normalize_tag_name(query[:TAG_NAME_MAX_LENGTH])
    except ValidationError:
        return []
    tags = Tag.objects.filter(workspace_id=workspace_id).annotate(uses=Count("ticket_links"))
    if not query:
        return list(tags.order_by("-uses", "name").values_list("name", flat=True)[:limit])
    starting = list(
        tags.filter(name__startswith=query).order_by("-uses", "name").values_list("name", flat=True)[:limit]
    )
    if len(starting) < limit:
        containing = (
            tags.filter(name__contains=query)
            .exclude(name__startswith=query)
            .order_by("-uses", "name")
            .values_list("name", flat=True)[: limit - len(starting)]
        )
        starting += list(containing)
    return starting


def tickets_tagged(*, workspace_id: int, name: str):
    """Ids of the workspace's tickets carrying tag ``name`` (as typed), as a subquery."""
    try:
        name = normalize_tag_name(name)
    except ValidationError:
        name = ""
    return TicketTag.objects.filter(
        workspace_id=workspace_id, tag__workspace_id=workspace_id, tag__name=name
    ).values("ticket_id")
