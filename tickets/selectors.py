"""Reads for the ticket pages. Every function takes the acting membership (or a ticket already
reached through ``tickets.access``) and answers only what that member may see.

The ticket list pages with keyset ("seek") pagination on (sort key, id): a page is one indexed
range scan with ``LIMIT page_size + 1``, never ``OFFSET`` and never ``COUNT(*)``, so the first
page and the ten-thousandth cost the same. Search runs through the same visibility functions
as the pages: a requester's search never matches the text of an internal note.
"""

import re
from dataclasses import astuple, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import IntegerField, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from helpdesk import compiled_queries
from helpdesk.id_arrays import InIdArray, id_array_literal
from privacy.audit.events import viewed_window_start, with_viewed_recently
from tickets import custom_fields, reads, search, workspace_cache
from tickets.access import messages_of_ticket, visible_messages, visible_tickets
from tickets.macros.access import workspace_macros
from tickets.mail.outgoing import with_any_failed_email
from tickets.mail.selectors import email_full_text_of_message
from tickets.models import Attachment, Message, Status, Ticket, TicketParticipant
from tickets.tags import tickets_tagged, with_tag_names
from workspaces.access import granted_queue_ids, queue_grants, queues_granted_to
from workspaces.models import Membership, Queue, Role, User, Workspace

PAGE_SIZE = 50
SEARCH_MAX_LENGTH = 200

# Sort name -> (model field, kind of value in the cursor).
SORTS = {
    "updated": ("updated_at", "datetime"),
    "created": ("created_at", "datetime"),
    "priority": ("priority_rank", "int"),
    "number": ("number", "int"),
    # Service levels (staff only): the running target's due time; "descending" is the most
    # urgent first, as for priority, so the soonest (and the overdue) come first.
    "due": ("sla_due_at", "datetime"),
}
# Sorts in which "descending" means ascending values (most urgent first).
URGENCY_SORTS = ("due",)
STAFF_ONLY_SORTS = ("priority", "due")
# Requesters sort "updated" by the last change they can see: an internal note or an agent-only
# change must not move a ticket up their list (nor show in its "Updated" column).
REQUESTER_SORT_FIELDS = {"updated": "public_updated_at"}
DEFAULT_SORT = "updated"
SORT_LABELS = {
    "updated": _("Last updated"),
    "created": _("Created"),
    "priority": _("Priority"),
    "number": _("Number"),
    "relevance": _("Best match"),
    "due": _("Due (most urgent first)"),
}
# Columns a list row never shows (tickets.list_rows): each row would otherwise read every
# column of the ticket and of two users (password hashes included), and every timestamp costs
# a parse in Python. A row rendered elsewhere (live rows) gets the whole ticket as before.
_ROW_UNUSED = (
    "properties_changed_by",
    "closed_at",
    "anonymized_at",
    "sla_paused_seconds",
    "sla_breach_check_at",
    *(
        f"{who}__{name}"
        for who in ("requester", "assignee")
        for name in (
            "password",
            "last_login",
            "is_superuser",
            "is_staff",
            "date_joined",
            "email_confirmed_at",
            "language",
            "time_zone",
        )
    ),
)
# With a search and no sort chosen, the best matches come first.
RELEVANCE = "relevance"
# Filter values of ``status`` besides the statuses themselves.
STATUS_OPEN = "open_any"
STATUS_DONE = "done"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"^(\d{1,20})_(\d{1,20})$")


@dataclass(frozen=True)
class TicketFilters:
    status: str = ""
    queue_id: int | None = None
    assignee: str = ""  # "", "me", "none" or a user id
    priority: str = ""
    q: str = ""
    tag: str = ""  # staff only: a tag name as typed (tickets/tags.py normalises it)
    sort: str = ""  # "" = the default: relevance when searching, else DEFAULT_SORT
    descending: bool = True


@dataclass
class TicketPage:
    tickets: list[Ticket] = field(default_factory=list)
    # Cursors for the links; None when there is no such page.
    newer_cursor: str | None = None
    older_cursor: str | None = None
    # With a search: what matched (count, capped, close spellings) and an excerpt per ticket.
    hits: search.SearchHits | None = None
    snippets: dict = field(default_factory=dict)


# Cursors ------------------------------------------------------------------------------------


def sort_field(sort: str, membership: Membership) -> str:
    """The column ``sort`` orders by for this member."""
    if not membership.is_staff and sort in REQUESTER_SORT_FIELDS:
        return REQUESTER_SORT_FIELDS[sort]
    return SORTS[sort][0]


def encode_cursor(ticket: Ticket, sort: str, field: str | None = None) -> str:
    kind = SORTS[sort][1]
    value = getattr(ticket, field or SORTS[sort][0])
    if kind == "datetime":
        value = (value - _EPOCH) // _MICROSECOND
    return f"{int(value)}_{ticket.pk}"


def decode_cursor(raw: str | None, sort: str):
    """(sort value, id) from a cursor, or None for a missing or malformed one."""
    match = _CURSOR.match(raw or "")
    if match is None:
        return None
    value, pk = int(match.group(1)), int(match.group(2))
    if SORTS[sort][1] == "datetime":
        try:
            value = _EPOCH + timedelta(microseconds=value)
        except OverflowError:
            return None
    return value, pk


# The ticket list ----------------------------------------------------------------------------


def queues_for_filter(membership: Membership):
    """The queues a member may filter on: the ones they work (none for requesters)."""
    return queues_granted_to(membership).order_by("name")


class StaffChoice(NamedTuple):
    """An agent or admin as the list's assignee filter and bulk bar offer them: what
    ``STAFF_CHOICE_FIELDS`` reads, shown by name as a user is (``User.__str__``)."""

    pk: int
    email: str
    display_name: str
    is_active: bool

    def __str__(self) -> str:
        return self.display_name or self.email


@dataclass
class ListChoices:
    """What the list's filter form and bulk bar offer, read once per page (two queries, staff)."""

    queues: list = field(default_factory=list)  # the queues the member may filter on
    all_queues: list = field(default_factory=list)  # every queue of the workspace (bulk "Move to")
    staff: list[StaffChoice] = field(default_factory=list)  # agents and admins, active or not

    @property
    def active_staff(self) -> list:
        return [user for user in self.staff if user.is_active]


def list_choices(membership: Membership) -> ListChoices:
    """The filter form's and bulk bar's choices: the workspace's queues, each marked ``granted``
    when the member may work it (``queues_for_filter``), and its staff. None for requesters."""
    if not membership.is_staff:
        return ListChoices()
    workspace_id = membership.workspace_id
    shown = workspace_cache.read(
        workspace_id,
        {
            workspace_cache.QUEUES: lambda: workspace_queues(workspace_id),
            workspace_cache.STAFF: lambda: staff_rows(workspace_id),
        },
    )
    all_queues = shown[workspace_cache.QUEUES]
    granted = all_queues
    if not membership.is_admin:
        # Read on every request: a revoked grant hides the queue's tickets at once. With the
        # membership when it was read with it (workspaces.access.memberships_of, PostgreSQL),
        # else through kept SQL: building guardian's query cost more than running it.
        ids = getattr(membership, "granted_queue_ids", None)
        if ids is None:
            rows = compiled_queries.tuples_of(
                ("granted_queue_ids", connection.vendor),
                lambda user_id, workspace_id: granted_queue_ids(user_id, workspace_id).values_list(
                    "content_object_id"
                ),
                {"user_id": membership.user_id, "workspace_id": workspace_id},
            )
            ids = [queue_id for (queue_id,) in rows]
        ids = set(ids)
        granted = [queue for queue in all_queues if queue.pk in ids]
    # Kept as plain values: the page unpickled every agent of the workspace as a user (60 at the
    # bench's 1M tickets) to show their names.
    staff = [StaffChoice._make(row) for row in shown[workspace_cache.STAFF]]
    return ListChoices(queues=granted, all_queues=all_queues, staff=staff)


def workspace_queues(workspace_id: int) -> list[Queue]:
    """Every queue of the workspace, by name."""
    return list(Queue.objects.of_workspace(workspace_id).order_by("name"))


def cached_workspace_queues(workspace_id: int) -> list[Queue]:
    """``workspace_queues`` through the cache (tickets.workspace_cache)."""
    return workspace_cache.read(
        workspace_id, {workspace_cache.QUEUES: lambda: workspace_queues(workspace_id)}
    )[workspace_cache.QUEUES]


def ticket_page_workspace(membership: Membership) -> dict:
    """What a staff ticket page shows of its workspace, cached: its queues (the properties form),
    each queue's staff (its assignee choices), its macros (the reply box picks the viewer's) and
    whether it has custom fields (without any, their values are not asked for). One cache round
    trip."""
    workspace_id = membership.workspace_id
    return workspace_cache.read(
        workspace_id,
        {
            workspace_cache.QUEUES: lambda: workspace_queues(workspace_id),
            workspace_cache.QUEUE_STAFF: lambda: staff_by_queue(workspace_id),
            workspace_cache.MACROS: lambda: workspace_macros(workspace_id),
            workspace_cache.CUSTOM_FIELDS: lambda: custom_fields.has_active_fields(workspace_id),
        },
    )


def staff_by_queue(workspace_id: int) -> dict[int, list[tuple]]:
    """``queue_staff_choices`` of every queue of the workspace, ``{queue id: [(id, email, name,
    active), ...]}``: one kept query per queue, read only when the cache has forgotten them.
    Plain values, not users: a page unpickles every queue's (140 users at the bench's 1M
    tickets took 0.6-0.9 ms as model instances) and shows one queue's."""
    return {
        queue.pk: [
            tuple(getattr(user, name) for name in STAFF_CHOICE_FIELDS)
            for user in queue_staff_choices(queue=queue)
        ]
        for queue in workspace_queues(workspace_id)
    }


def queue_staff_of(shown: dict, queue_id: int) -> list[StaffChoice] | None:
    """One queue's staff from ``ticket_page_workspace``'s ``staff_by_queue`` (None for a queue
    it does not know): plain values with a user's ``pk``, ``email`` and ``display_name``, as the
    assignee choices show them. Making a user of each (``User.from_db``, its signals and all)
    cost more than the rest of the form."""
    rows = shown[workspace_cache.QUEUE_STAFF].get(queue_id)
    if rows is None:
        return None
    return [StaffChoice._make(row) for row in rows]


def restricted_user_ids(workspace_id: int):
    """Ids of the people whose processing is restricted in the workspace, as a subquery."""
    return Membership.objects.filter(workspace_id=workspace_id, restricted_at__isnull=False).values("user_id")


def _with_ticket_page_reads(tickets, membership: Membership, viewed_since=None):
    """What staff's ticket page reads along with the ticket (``access.get_ticket_or_404``'s
    ``extras``): since when the requester's processing is restricted, the tag names, when the
    member last saw it (``reads.mark_seen`` then writes only when that changes a marker),
    whether any email about it failed (``outgoing.failed_emails`` then asks only if one did),
    and whether their view was recorded since ``viewed_since`` (``events.ticket_viewed`` then
    asks nothing more)."""
    if not membership.is_staff:
        return tickets
    requester = Membership.objects.filter(
        workspace_id=OuterRef("workspace_id"), user_id=OuterRef("requester_id")
    )
    restricted_at = Subquery(requester.order_by().values("restricted_at")[:1])
    tickets = reads.with_seen_at(tickets.annotate(requester_restricted_at=restricted_at), membership)
    tickets = with_viewed_recently(tickets, user_id=membership.user_id, since=viewed_since)
    return with_any_failed_email(with_tag_names(tickets))


def _ticket_page_values(membership: Membership) -> dict:
    if not membership.is_staff:
        return {}
    return {"viewed_since": viewed_window_start()}


TICKET_PAGE_READS = ("ticket_page", _with_ticket_page_reads, _ticket_page_values)


def requester_restricted_since(ticket: Ticket):
    """``restricted_since`` of the ticket's requester: read with the ticket when it came with
    ``TICKET_PAGE_READS``, else now."""
    if hasattr(ticket, "requester_restricted_at"):
        return ticket.requester_restricted_at
    return restricted_since(ticket.workspace_id, ticket.requester_id)


def restricted_since(workspace_id: int, user_id: int | None):
    """When processing of the person's data was restricted in the workspace, or None."""
    if user_id is None:
        return None

    # One row at most: ordered by id, not by the model's workspace name (a join for nothing).
    def build(workspace_id, user_id):
        rows = Membership.objects.filter(workspace_id=workspace_id, user_id=user_id)
        return rows.order_by("pk").values_list("restricted_at")[:1]

    shape = ("restricted_since", connection.vendor)
    rows = compiled_queries.tuples_of(shape, build, {"workspace_id": workspace_id, "user_id": user_id})
    return rows[0][0] if rows else None


def staff_rows(workspace_id: int) -> list[tuple]:
    """``staff_members`` as plain ``STAFF_CHOICE_FIELDS`` values, by name (``StaffChoice``)."""
    return list(staff_members(workspace_id).values_list(*STAFF_CHOICE_FIELDS))


def staff_members(workspace_id: int):
    """Agents and admins of the workspace, as users, for the assignee filter."""
    return (
        User.objects.filter(
            memberships__workspace_id=workspace_id, memberships__role__in=[Role.ADMIN, Role.AGENT]
        )
        .order_by("display_name", "email")
        .distinct()
        # A choice shows the name and needs the id; nobody's password hash or dates.
        .only(*STAFF_CHOICE_FIELDS)
    )


def listed_tickets(
    membership: Membership, choices: ListChoices | None = None, *, queue_id: int | None = None
):
    """The tickets the member's list may show, before any filter (``filtered_tickets``).

    With the page's ``choices``, an agent's tickets are those of the queues just read as
    granted (``list_choices``), named by id: the same rows as ``visible_tickets`` within the
    request, without the grant tables joined again into the page's and each count's SQL.
    ``queue_id``: the list is filtered to that queue; if granted, it is the only one named.
    """
    if choices is not None and membership.is_agent:
        granted = [queue.pk for queue in choices.queues]
        if queue_id in granted:
            # With every granted queue beside the chosen one ("queue in (2, 4, 3, 1) and queue
            # = 1") PostgreSQL misjudged the rows and read and sorted the whole queue's tickets
            # (2.6 ms at 10k), instead of walking its index in order (0.4 ms).
            granted = [queue_id]
        tickets = Ticket.objects.filter(workspace_id=membership.workspace_id, queue_id__in=granted)
    else:
        tickets = visible_tickets(membership)
    if membership.is_agent:
        # A person whose processing is restricted is hidden from agents' lists and search;
        # admins still find them (the restriction is marked on the ticket page).
        tickets = tickets.exclude(requester_id__in=restricted_user_ids(membership.workspace_id))
    return tickets


def filtered_tickets(*, membership: Membership, filters: TicketFilters, base=None, choices=None):
    """The member's visible tickets narrowed by ``filters`` (no ordering, no slicing).

    ``base``: ``listed_tickets(membership)`` already built, when narrowing it several ways (the
    views' counts), so the visibility subqueries are put together once. Else it is built here,
    with the page's ``choices`` if read (``listed_tickets``: the granted queues named by id).
    """
    if base is None:
        queue_id = filters.queue_id if membership.is_staff else None
        base = listed_tickets(membership, choices, queue_id=queue_id)
    tickets = base
    if filters.status == STATUS_OPEN:
        tickets = tickets.open()
    elif filters.status == STATUS_DONE:
        tickets = tickets.filter(status__in=[Status.SOLVED, Status.CLOSED])
    elif filters.status in Status.values:
        tickets = tickets.filter(status=filters.status)
    if membership.is_staff:
        if filters.queue_id is not None:
            tickets = tickets.filter(queue_id=filters.queue_id)
        if filters.assignee == "me":
            tickets = tickets.filter(assignee_id=membership.user_id)
        elif filters.assignee == "none":
            tickets = tickets.filter(assignee__isnull=True)
        elif filters.assignee.isdigit():
            tickets = tickets.filter(assignee_id=int(filters.assignee))
        if filters.priority:
            tickets = tickets.filter(priority=filters.priority)
        if filters.tag:
            tickets = tickets.filter(
                id__in=tickets_tagged(workspace_id=membership.workspace_id, name=filters.tag)
            )
    return tickets


class _CappedCount(Subquery):
    """``count(*)`` of a sliced query, as a scalar subquery (the slice is the cap)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped_count)"
    output_field = IntegerField()


# (everything the counts' SQL is built from) -> (keys, sql, params); see capped_filter_counts.
_COUNT_SQL: dict = {}
_COUNT_SQL_KEPT = 2048


def capped_filter_counts(
    *,
    membership: Membership,
    filters: dict,
    cap: int,
    choices: ListChoices | None = None,
) -> dict[str, int]:
    """{key: the member's tickets matching ``filters[key]`` (``TicketFilters``), at most
    ``cap``}, every count in one query.

    Each count reads at most ``cap`` ids of an indexed range, as one ``.count()`` of a sliced
    query would; one round trip for the page's views instead of one per view.

    The query's SQL depends only on the member (workspace, person, role), the queues just read
    as granted (``choices``), the filters and the cap: it is put together once per process for
    each of these and run again with the same parameters. Building and compiling a dozen
    subqueries for every list page was a sixth of its Python calls. Whatever changes with the
    data (tickets, restrictions, tags) is read by the SQL itself, never frozen into it.
    On PostgreSQL the values are written into the statement (``compiled_queries.
    with_values_written_in``): it is prepared with a plan made for them.
    """
    granted = None
    if choices is not None and membership.is_agent:
        granted = tuple(queue.pk for queue in choices.queues)
    shape = (
        connection.vendor,
        membership.workspace_id,
        membership.user_id,
        membership.role,
        granted,
        cap,
        tuple(filters.items()),
    )
    compiled = _COUNT_SQL.get(shape)
    if compiled is None:
        bases = _count_bases(membership, choices)
        tickets = {
            (key, part): filtered_tickets(membership=membership, filters=chosen, base=base)
            for key, chosen in filters.items()
            for part, base in bases.items()
        }
        compiled = _capped_count_sql(membership.workspace_id, tickets, cap)
        if len(_COUNT_SQL) >= _COUNT_SQL_KEPT:
            _COUNT_SQL.clear()
        _COUNT_SQL[shape] = compiled
    counts = dict.fromkeys(filters, 0)
    counted_parts = _run_counts(*compiled)
    for (key, _part), counted in counted_parts.items():
        counts[key] = min(cap, counts[key] + counted)
    return counts


def _count_bases(membership: Membership, choices: ListChoices | None) -> dict:
    """The member's tickets as the counts read them: staff's in one piece; a requester's as the
    tickets they requested and, apart, those they take part in without having requested them
    (together the requester's ``visible_tickets``). Counted apart and added up, the requested
    ones are read from the requester index alone; as one "id in (either)" set, each count
    looked up every one of the requester's tickets by id (1,000 row reads per count)."""
    if membership.is_staff:
        return {"all": listed_tickets(membership, choices)}
    requested, taking_part = requester_parts(membership.workspace_id, membership.user_id)
    return {"requested": requested, "taking_part": taking_part}


def requester_parts(workspace_id: int, user_id: int):
    """A requester's ``visible_tickets`` in two parts that do not overlap: the tickets they
    requested, and those they take part in without having requested them."""
    taking_part = TicketParticipant.objects.filter(workspace_id=workspace_id, user_id=user_id)
    return (
        Ticket.objects.filter(workspace_id=workspace_id, requester_id=user_id),
        Ticket.objects.filter(workspace_id=workspace_id, id__in=taking_part.values("ticket_id")).exclude(
            requester_id=user_id
        ),
    )


def _capped_count_sql(workspace_id: int, tickets: dict, cap: int):
    keys = list(tickets)
    if not keys:
        return keys, None, None
    counts = {
        f"count_{i}": _CappedCount(tickets[key].order_by().values("id")[:cap]) for i, key in enumerate(keys)
    }
    query = Workspace.objects.filter(pk=workspace_id).order_by().values(**counts).query
    try:
        sql, params = query.sql_with_params()
    except EmptyResultSet:  # e.g. an agent granted no queue: nothing to count
        return keys, None, None
    # No value changes from run to run: planned once for them and kept (a generic plan of
    # saved views' counts read 58 ms at 1M tickets where the plan for their values read 43, and
    # planning them on every run cost 1.4 ms of the list page).
    return keys, *compiled_queries.with_values_written_in(sql, params)


def _run_counts(keys: list, sql: str | None, params) -> dict[str, int]:
    row = None
    if sql is not None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return {key: (row[i] if row else 0) or 0 for i, key in enumerate(keys)}


def search_query(filters: TicketFilters) -> str:
    return filters.q.strip()[:SEARCH_MAX_LENGTH]


def sort_in_effect(filters: TicketFilters) -> str:
    """The order the list is really in: best match for a search unless another was chosen."""
    if search_query(filters):
        return filters.sort or RELEVANCE
    return filters.sort if filters.sort in SORTS else DEFAULT_SORT


def ticket_list_page(
    *,
    membership: Membership,
    filters: TicketFilters,
    after: str | None = None,
    before: str | None = None,
    page_size: int = PAGE_SIZE,
    choices: ListChoices | None = None,
) -> TicketPage:
    """One page of the member's tickets in the chosen order. One query.

    ``choices``: the page's ``list_choices``, if read (``listed_tickets``).
    ``after`` (the "Older"/next link) continues past a row in display order, ``before`` (the
    "Newer"/previous link) goes back. Rows that change meanwhile simply move: a seek page never
    repeats or skips because of rows inserted before it.
    """
    query = search_query(filters)
    sort = filters.sort if filters.sort in SORTS else DEFAULT_SORT
    if sort in STAFF_ONLY_SORTS and not membership.is_staff:
        sort = DEFAULT_SORT
    if query:
        best_first = filters.sort in ("", RELEVANCE)
        # Best first, a page needs the hits up to its end and one more (is there a next?).
        needed = min(_relevance_offset(after, before) + page_size + 1, search.SEARCH_CAP) if best_first else 0
        tickets, hits, shape = _searched(membership, filters, choices, needed)
        if best_first:
            return _relevance_page(membership, tickets, hits, after, before, page_size, choices, shape)
    else:
        hits = None
    name = sort_field(sort, membership)
    descending = filters.descending
    if sort in URGENCY_SORTS:
        descending = not descending
    forward = True
    cursor = decode_cursor(after, sort)
    if cursor is None:
        cursor = decode_cursor(before, sort)
        forward = cursor is None
    # Walking down the index: a descending list read forwards, or an ascending one read back.
    down = descending == forward
    order = (f"-{name}", "-id") if down else (name, "id")
    # SQLite cannot limit the parts of a UNION: a requester's list reads both parts whole there.
    can_limit_parts = connection.features.supports_slicing_ordering_in_compound
    in_parts = hits is None and not membership.is_staff and can_limit_parts

    def build(value=None, pk=None):
        if in_parts:
            # A requester's page is one page of each part of their tickets, merged: the
            # requested part seeks (workspace, requester, public_updated_at, id) and stops after
            # a page, where "id in (either part)" read every one of their tickets by id and
            # sorted them (1,000 row reads for the bench's requester).
            requested, taking_part = (
                seek(filtered_tickets(membership=membership, filters=filters, base=part), value, pk)
                for part in requester_parts(membership.workspace_id, membership.user_id)
            )
            return requested.union(taking_part, all=True).order_by(*order)[: page_size + 1]
        tickets = _page_base(membership, filters, choices)
        if hits is not None:
            tickets = tickets.filter(id__in=hits.ranked_ids)
            bodies = search.page_bodies(searchable_messages(membership), hits.ranked_ids, hits)
            if bodies is not None:
                _name, annotate, values = bodies
                tickets = annotate(tickets, **values)
        return seek(tickets, value, pk)

    def seek(tickets, value, pk):
        if sort in URGENCY_SORTS:
            # Only tickets with something due: paused, solved and SLA-less tickets have no place
            # in an order of due times (and the partial index covers exactly these rows).
            tickets = tickets.filter(**{f"{name}__isnull": False})
        if value is not None:
            if down:
                tickets = tickets.filter(Q(**{f"{name}__lt": value}) | Q(**{name: value, "id__lt": pk}))
                tickets = tickets.filter(**{f"{name}__lte": value})
            else:
                tickets = tickets.filter(Q(**{f"{name}__gt": value}) | Q(**{name: value, "id__gt": pk}))
                tickets = tickets.filter(**{f"{name}__gte": value})
        return tickets.order_by(*order)[: page_size + 1]

    values = {"value": cursor[0], "pk": cursor[1]} if cursor is not None else {}
    if hits is not None:
        rows = list(build(**values))
    else:
        # Everything the SQL is made of but the cursor (see compiled_queries).
        shape = (
            "ticket_list_page",
            *member_shape(membership, choices),
            astuple(filters),
            sort,
            down,
            page_size,
        )
        # Staff lists are planned for their own values: the generic plan of "my open tickets"
        # sorted all of an agent's open tickets (24 ms at 100k tickets, against 1.4 ms). A first
        # page has its values written in and keeps that plan; a later one (its cursor) is planned
        # on every run (compiled_queries.rows_of). A requester's list keeps its prepared plan:
        # planning its UNION costs more than the generic plan's reading (measured at 10k, 100k
        # and 1M).
        rows = compiled_queries.rows_of(shape, build, values, custom_plan=membership.is_staff)
    more = len(rows) > page_size
    rows = rows[:page_size]
    _attach_queues(rows, membership, choices)
    if not forward:
        rows.reverse()
    page = TicketPage(tickets=rows, hits=hits)
    if not rows:
        return page
    if hits is not None:
        _mark_matches(page, membership, hits)
    if forward:
        page.older_cursor = encode_cursor(rows[-1], sort, name) if more else None
        page.newer_cursor = encode_cursor(rows[0], sort, name) if cursor is not None else None
    else:
        page.newer_cursor = encode_cursor(rows[0], sort, name) if more else None
        page.older_cursor = encode_cursor(rows[-1], sort, name)
    return page


def _searched(
    membership: Membership, filters: TicketFilters, choices: ListChoices | None, newest_subjects: int = 0
):
    """(the searched tickets, the hits, the search's shape) of the filters' search words."""
    shape = _search_shape(membership, filters, choices)
    # Built once per shape: with every statement compiled once, building it was a tenth of
    # a search's time.
    tickets = compiled_queries.queryset_of(shape, lambda: _page_base(membership, filters, choices))
    hits = search.search(
        tickets,
        searchable_messages(membership),
        search_query(filters),
        staff=membership.is_staff,
        shape=shape,
        best_first=filters.sort in ("", RELEVANCE),
        newest_subjects=newest_subjects,
        workspace_id=membership.workspace_id,
    )
    return tickets, hits, shape


def counted_search(*, membership: Membership, filters: TicketFilters, choices: ListChoices | None = None):
    """Every hit of the filters' search (up to the cap), counted: what a page of the newest
    subject matches leaves uncounted (``SearchHits.counted``)."""
    return _searched(membership, filters, choices)[1]


def member_shape(membership: Membership, choices: ListChoices | None = None) -> tuple:
    """What a member's kept statements (compiled_queries) are built from besides their filters:
    the database, the member, and the queues just read as granted (``choices``), if read."""
    granted = tuple(queue.pk for queue in choices.queues) if choices is not None else None
    return (
        connection.vendor,
        membership.workspace_id,
        membership.user_id,
        membership.role,
        choices is None,
        granted,
    )


def _search_shape(membership: Membership, filters: TicketFilters, choices: ListChoices | None) -> tuple:
    """Everything a search's statements are built from but its words: the member and the
    filters besides the words."""
    return ("search", *member_shape(membership, choices), astuple(replace(filters, q="")))


def _page_base(membership: Membership, filters: TicketFilters, choices: ListChoices | None):
    """The member's filtered tickets as a list page reads them: the row's related people, the
    read markers."""
    tickets = filtered_tickets(membership=membership, filters=filters, choices=choices)
    if membership.is_staff:
        # Requesters' rows show no queue, requester nor assignee (tickets.list_rows). The queue
        # is taken from the page's choices when read (every queue of the workspace is there).
        related = ("requester", "assignee") if choices is not None else ("queue", "requester", "assignee")
        tickets = tickets.select_related(*related).defer(*_ROW_UNUSED)
        tickets = with_tag_names(tickets)  # the rows' tag chips
    return reads.with_seen_at(tickets, membership)


def _attach_queues(rows, membership, choices) -> None:
    if choices is None or not membership.is_staff:
        return
    by_id = {queue.pk: queue for queue in choices.all_queues}
    for ticket in rows:
        queue = by_id.get(ticket.queue_id)
        if queue is not None:
            ticket.queue = queue


def _tickets_by_id(tickets, ids, shape, bodies=None) -> dict:
    """``tickets.in_bulk(ids)``; on PostgreSQL with the ids as one array parameter, the SQL
    compiled once per ``shape`` (compiled_queries) instead of built for every page of results.
    ``bodies``: what ``search.page_bodies`` says to read along, there."""
    if shape is None or connection.vendor != "postgresql" or not ids:
        return tickets.in_bulk(ids)
    name, annotate, values = bodies or ("", None, {})

    def build(ids, **values):
        page = tickets.filter(InIdArray("id", ids))
        return annotate(page, **values) if annotate else page

    rows = compiled_queries.rows_of(
        (*shape, "page of results", name), build, {"ids": id_array_literal(ids), **values}
    )
    return {ticket.pk: ticket for ticket in rows}


_OFFSET_CURSOR = re.compile(r"^r(\d{1,6})$")


def _relevance_offset(after: str | None, before: str | None) -> int:
    """Where a page of search results starts among them (its cursor is an offset)."""
    cursor = _OFFSET_CURSOR.match(after or before or "")
    return int(cursor.group(1)) if cursor else 0


def _relevance_page(
    membership, tickets, hits, after, before, page_size, choices=None, shape=None
) -> TicketPage:
    """A page of search results, best first. The ranked ids are capped, so an offset is cheap."""
    offset = min(_relevance_offset(after, before), len(hits.ranked_ids))
    page_ids = hits.ranked_ids[offset : offset + page_size]
    by_id = _tickets_by_id(
        tickets, page_ids, shape, search.page_bodies(searchable_messages(membership), page_ids, hits)
    )
    page = TicketPage(tickets=[by_id[pk] for pk in page_ids if pk in by_id], hits=hits)
    _attach_queues(page.tickets, membership, choices)
    if offset + page_size < len(hits.ranked_ids):
        page.older_cursor = f"r{offset + page_size}"
    if offset > 0:
        page.newer_cursor = f"r{max(0, offset - page_size)}"
    _mark_matches(page, membership, hits)
    return page


def searchable_messages(membership: Membership):
    """The messages a search may read; the search itself keeps to the tickets it is given.

    Staff read every message of the tickets they see, notes included, so the ticket filter alone
    is their visibility (visible_messages would join the visible tickets a second time, the
    costliest part of a search); requesters go through visible_messages, which drops notes.
    """
    shape = ("searchable_messages", *member_shape(membership))
    if membership.is_staff:
        return compiled_queries.queryset_of(
            shape, lambda: Message.objects.filter(workspace_id=membership.workspace_id)
        )
    return compiled_queries.queryset_of(shape, lambda: visible_messages(membership))


def _mark_matches(page: TicketPage, membership, hits) -> None:
    # Set on the rows, so the row template (shared with live updates, which have no search)
    # shows them when present.
    if connection.vendor == "postgresql":  # the bodies were read with the page (search.page_bodies)
        bodies = {t.pk: getattr(t, search.PAGE_BODIES, None) or () for t in page.tickets}
        page.snippets = search.excerpts(bodies, hits.words)
    else:
        page.snippets = search.snippets(searchable_messages(membership), [t.pk for t in page.tickets], hits)
    for ticket in page.tickets:
        ticket.search_subject = search.highlight(ticket.subject, hits.words)
        ticket.search_snippet = page.snippets.get(ticket.pk)


# One ticket ---------------------------------------------------------------------------------


_AUTHOR_UNSHOWN = ("password", "last_login", "date_joined", "email_confirmed_at")


def ticket_messages(*, membership: Membership, ticket: Ticket, full_emails: bool = False) -> list[Message]:
    """The conversation of ``ticket`` (reached through ``tickets.access``) as this member may read
    it: no notes for requesters. Two queries: the messages with their authors, then the files of
    those messages, set on each as ``shown_attachments`` (grouped here: a ``prefetch_related``
    cost more than both queries together).

    ``full_emails`` (staff): each message also carries ``email_full_text``, the whole email its
    body was trimmed from ("" for none), read in the same query.
    """

    def build(ticket_id):
        # The author is shown by name: their sign-in times and password hash stay unread (three
        # datetimes to parse per message were a fifth of this function's time).
        rows = (
            messages_of_ticket(membership, Ticket(pk=ticket_id))
            .select_related("author")
            .defer(*(f"author__{name}" for name in _AUTHOR_UNSHOWN))
        )
        if full_emails:
            rows = rows.annotate(email_full_text=email_full_text_of_message())
        return rows.order_by("created_at", "id")

    shape = ("ticket_messages", connection.vendor, membership.workspace_id, membership.role, full_emails)
    conversation = compiled_queries.rows_of(shape, build, {"ticket_id": ticket.pk})
    files = {}
    if conversation:

        def build_files(ticket_id):
            shown = messages_of_ticket(membership, Ticket(pk=ticket_id)).values("id")
            return Attachment.objects.filter(
                workspace_id=membership.workspace_id, ticket_id=ticket_id, message__in=shown
            ).order_by("created_at", "id")

        shape = ("ticket_message_files", connection.vendor, membership.workspace_id, membership.role)
        for attachment in compiled_queries.rows_of(shape, build_files, {"ticket_id": ticket.pk}):
            files.setdefault(attachment.message_id, []).append(attachment)
    for message in conversation:
        if full_emails and message.email_full_text is None:
            message.email_full_text = ""
        message.shown_attachments = files.get(message.pk, [])
    return conversation


def participant_candidates(*, ticket: Ticket):
    """Members of the ticket's workspace who could be added (not the requester, not yet in)."""
    taking_part = TicketParticipant.objects.filter(ticket_id=ticket.pk).values("user_id")
    users = User.objects.filter(
        memberships__workspace_id=ticket.workspace_id, memberships__restricted_at__isnull=True, is_active=True
    ).exclude(pk__in=taking_part)
    if ticket.requester_id is not None:
        users = users.exclude(pk=ticket.requester_id)
    return users.order_by("display_name", "email")


def queue_staff(*, queue: Queue):
    """Active admins of the queue's workspace and active agents granted the queue: the people
    who may be assigned its tickets and who hear about new ones."""
    return _queue_staff(workspace_id=queue.workspace_id, queue_id=queue.pk)


# What an assignee choice shows of a person (and the cache keeps, staff_by_queue).
STAFF_CHOICE_FIELDS = ("id", "email", "display_name", "is_active")


def queue_staff_choices(*, queue: Queue) -> list:
    """``queue_staff`` as a select shows them (id, name, address, active), read through SQL
    kept per process (compiled_queries): the ticket page's assignee choices, whose queryset took
    longer to build and compile (2 ms) than the database took to answer."""

    def build(workspace_id, queue_id):
        staff = _queue_staff(workspace_id=workspace_id, queue_id=queue_id)
        return staff.only(*STAFF_CHOICE_FIELDS)

    shape = ("queue_staff_choices", connection.vendor)
    return compiled_queries.rows_of(shape, build, {"workspace_id": queue.workspace_id, "queue_id": queue.pk})


def _queue_staff(*, workspace_id: int, queue_id: int):
    granted = queue_grants().filter(content_object_id=queue_id).values("user_id")
    # One filter call: its conditions on ``memberships`` hold for the same membership. Split in
    # two calls, the role was checked on any membership of the person, so an admin of another
    # workspace who was a requester here counted as this queue's staff.
    return (
        User.objects.filter(
            Q(memberships__role=Role.ADMIN) | Q(memberships__role=Role.AGENT, pk__in=granted),
            is_active=True,
            memberships__workspace_id=workspace_id,
            memberships__restricted_at__isnull=True,
        )
        .order_by("display_name", "email")
        .distinct()
    )


def queue_agents(*, queue: Queue):
    """Active agents granted the queue (not admins): who hears a requester's reply on an
    unassigned ticket, so admins of a large workspace are not told of every reply."""
    granted = queue_grants().filter(content_object_id=queue.pk).values("user_id")
    return (
        User.objects.filter(
            is_active=True,
            memberships__workspace_id=queue.workspace_id,
            memberships__role=Role.AGENT,
            pk__in=granted,
        )
        .order_by("display_name", "email")
        .distinct()
    )


def workspace_admins(*, workspace_id: int):
    return User.objects.filter(
        is_active=True, memberships__workspace_id=workspace_id, memberships__role=Role.ADMIN
    ).order_by("display_name", "email")


def workspace_people(*, workspace_id: int):
    """Every active member of the workspace, as users (staff choosing a ticket's requester)."""
    return User.objects.filter(
        memberships__workspace_id=workspace_id, memberships__restricted_at__isnull=True, is_active=True
    ).order_by("display_name", "email")


def workspace_users(*, workspace_id: int, user_ids) -> list:
    """The members of the workspace among ``user_ids`` (others are silently left out)."""
    return list(
        User.objects.filter(memberships__workspace_id=workspace_id, pk__in=list(user_ids)).order_by("pk")
    )


def mention_candidates(*, ticket: Ticket, query: str, limit: int = 8) -> list:
    """Staff who can see ``ticket`` (admins, agents granted its queue) whose name or email
    contains ``query``: who a note on it may mention."""
    people = queue_staff(queue=ticket.queue)
    query = query.strip()
    if query:
        people = people.filter(Q(display_name__icontains=query) | Q(email__icontains=query))
    return list(people[:limit])


def mentions_unreachable(*, ticket: Ticket, mentions: list[tuple[int, str]]) -> list[str]:
    """The names (as written) of the people in ``mentions`` who cannot see ``ticket`` as staff,
    so a mention of them notifies nobody."""
    if not mentions:
        return []
    staff = queue_staff(queue=ticket.queue).filter(pk__in=[uid for uid, _ in mentions])
    reachable = set(staff.values_list("pk", flat=True))
    return [name for uid, name in mentions if uid not in reachable]


def memberships_of_user(*, user_id: int) -> list[Membership]:
    return list(
        Membership.objects.select_related("workspace", "user")
        .filter(user_id=user_id)
        .order_by("workspace__name", "workspace_id")
    )


def membership_of(*, workspace_id: int, user_id: int) -> Membership | None:
    return (
        Membership.objects.select_related("workspace", "user")
        .filter(workspace_id=workspace_id, user_id=user_id)
        .first()
    )


# Reads of background jobs (emails), which act for no member: they load by id, then ask
# ``tickets.access`` for each recipient before showing anything.


def ticket_by_id(*, ticket_id: int) -> Ticket | None:
    return (
        Ticket.objects.select_related("workspace", "queue", "requester", "assignee")
        .filter(pk=ticket_id)
        .first()
    )


def message_ticket_and_author(*, message_id: int) -> dict | None:
    """``{"ticket_id", "author_id"}`` of a message, without its text, or None."""
    return Message.objects.filter(pk=message_id).values("ticket_id", "author_id").first()
