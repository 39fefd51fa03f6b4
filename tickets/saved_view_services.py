"""Saved views of the ticket list: a name for a set of filters, personal or shared.

An agent or admin saves the filters of the list they are looking at ("Save this view"); the view
then shows next to the built-in views with its count. Personal views are their owner's alone
(anyone else gets the same 404 as for a view that does not exist); an admin can share one of
theirs with the workspace, and then every agent and admin sees it and only admins change it.
Requesters keep the built-in views of their own tickets: saved views are for staff.

A view stores the list's query-string parameters as they were (``{"status": ["open"], ...}``),
unknown ones too, so a filter the list learns later (tags, SLA due...) works in the views that
were saved with it. They are validated by the list's filter form when the view is saved and
every time it is applied, and applied through the same visibility functions as the list: a view
that names a queue the viewer does not work shows nothing of it.

Counts: like the built-ins, each a ``COUNT`` over at most ``COUNT_CAP`` rows. Only the first
``COUNTED_VIEWS`` saved views of a person get a count, so the list page costs at most that many
count queries more, however many views there are; a view with a search text counts through the
same capped search as the list.
"""

from dataclasses import astuple, replace

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk import compiled_queries
from privacy.audit import events
from tickets import list_views, search
from tickets.forms import TicketFilterForm
from tickets.models import SavedView
from tickets.selectors import (
    TicketFilters,
    capped_filter_counts,
    filtered_tickets,
    member_shape,
    searchable_messages,
)
from workspaces.access import NOT_FOUND

# How many saved views one person's list shows (their own and the shared ones), and how many of
# those get a count: the list page's queries stay bounded whatever people save.
LISTED_VIEWS = 30
COUNTED_VIEWS = 10
# How many personal views one person may keep in a workspace.
OWN_VIEWS_MAX = 30
# Never stored: where the list was (pages), and which view it showed.
NOT_SAVED = frozenset({"view", "after", "before", "csrfmiddlewaretoken", "name"})

VIEW_NAME_REQUIRED = _("Give the view a name.")
VIEW_NAME_TAKEN = _("You already have a view named “{name}”.")
TOO_MANY_VIEWS = _("You can keep at most {limit} views. Delete one you no longer use first.")
VIEW_FILTERS_INVALID = _("These filters cannot be saved: {problems}")


class SavedViewNameForm(forms.Form):
    name = forms.CharField(
        label=_("View name"),
        max_length=60,
        strip=True,
        error_messages={"required": VIEW_NAME_REQUIRED},
    )


# Reads ------------------------------------------------------------------------------------------------


def listed_views(membership) -> list[SavedView]:
    """The saved views on the member's list: shared ones first, then their own. One query."""
    if not membership.is_staff:
        return []

    def build(workspace_id, user_id):
        views = SavedView.objects.filter(workspace_id=workspace_id).filter(
            Q(shared=True) | Q(owner_id=user_id)
        )
        return views.order_by("-shared", "position", "id")[:LISTED_VIEWS]

    # Every staff list view asks this: its SQL is compiled once (helpdesk.compiled_queries).
    ids = {"workspace_id": membership.workspace_id, "user_id": membership.user_id}
    return compiled_queries.rows_of(("listed_views", connection.vendor), build, ids)


def chosen(views: list[SavedView], key: str | None) -> SavedView | None:
    """The saved view that ``?view=`` names among those listed, or None."""
    return next((view for view in views if view.key == key), None) if key else None


def get_saved_view_or_404(membership, pk: int, *, manage: bool = False) -> SavedView:
    """A view the member may see (``manage``: may change): their own, or a shared one (for
    ``manage``, admins only). Missing and forbidden answer the same 404."""
    if not membership.is_staff:
        raise Http404(NOT_FOUND)
    seen = Q(owner_id=membership.user_id, shared=False)
    if not manage or membership.is_admin:
        seen |= Q(shared=True)
    view = SavedView.objects.filter(seen, workspace_id=membership.workspace_id, pk=pk).first()
    if view is None:
        raise Http404(NOT_FOUND)
    return view


def can_manage(membership, view: SavedView) -> bool:
    if view.shared:
        return membership.is_admin
    return view.owner_id == membership.user_id


# Filters ----------------------------------------------------------------------------------------------


def params_of(query: QueryDict) -> dict[str, list[str]]:
    """The list filters of a query string, as stored: empty values and page cursors left out."""
    params = {}
    for key, values in query.lists():
        values = [value for value in values if value != ""]
        if key not in NOT_SAVED and values:
            params[key] = values
    return params


def query_of(params: dict, request_params: QueryDict | None = None) -> QueryDict:
    """The view's parameters with what the request chose on top (a page cursor, a new sort)."""
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, list(values))
    for key, values in (request_params or QueryDict()).lists():
        if key != "view":
            query.setlist(key, values)
    return query


# TicketFilters fields whose query-string parameter has another name (or none).
_PARAM_OF_FIELD = {"queue_id": "queue", "descending": None}


def query_to_save(view, params: QueryDict) -> str:
    """The query string "Save this view" stores: the filters on the page (page cursors left
    out), over the preset of the built-in view it is in ("My open" + urgent = mine, open, urgent)."""
    query = QueryDict(mutable=True)
    for name, value in view.preset.items() if view is not None else ():
        key = _PARAM_OF_FIELD.get(name, name)
        if key and value not in ("", None):
            query[key] = str(value)
    for key, values in params_of(params).items():
        query.setlist(key, values)
    return query.urlencode()


def filter_values(form, params: dict) -> tuple[dict, bool]:
    """The filter values of a form bound to a view's parameters, and whether the view names a
    queue the viewer does not work. That queue still narrows the list, so the view shows what
    the viewer may see of it (nothing) rather than every ticket they have."""
    values = form.values()
    queue = (params.get("queue") or [""])[0]
    unseen = "queue" in form.errors and queue.isdigit()
    if unseen:
        values["queue_id"] = int(queue)
        del form.errors["queue"]
    return values, unseen


def _reader(membership, choices=None):
    """One filter form for every view to be counted (its choices are read once, or are the
    list page's)."""
    return TicketFilterForm(membership=membership, choices=choices)


def _filters_with(form, params: dict) -> TicketFilters:
    form.data, form.is_bound, form._errors = query_of(params), True, None
    values, _unseen = filter_values(form, params)
    return TicketFilters(**values)


def validate_params(membership, params: dict) -> dict:
    """The parameters, if the list's filter form accepts them; else a ValidationError in words."""
    form = TicketFilterForm(query_of(params), membership=membership)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label}: {' '.join(errs)}" for name, errs in form.errors.items()
        )
        raise ValidationError(VIEW_FILTERS_INVALID.format(problems=problems), code="invalid_filters")
    return params


# Counts -----------------------------------------------------------------------------------------------


def count_of(membership, filters: TicketFilters, choices=None) -> int:
    """Tickets of the view, at most COUNT_CAP: one capped count, or the list's capped search.
    ``choices``: ``selectors.list_choices``, if read: the granted queues are then named by id,
    as on the list page. Joined in as guardian's subquery, PostgreSQL ANDed a scan of each
    granted queue's tickets (124,612 index entries a queue at 1M) into a saved search's subject
    lookup: 19.5 ms against 5.0 ms for the bench agent's two queues."""
    tickets = filtered_tickets(membership=membership, filters=filters, choices=choices)
    query = filters.q.strip()
    if query:
        # Everything the search's statements are built from but its words (compiled_queries).
        shape = ("saved search count", *member_shape(membership, choices), astuple(replace(filters, q="")))
        messages = searchable_messages(membership)
        # Counted no further than the subjects' cap when they fill it: the count stops there.
        best_first = search.SEARCH_CAP >= list_views.COUNT_CAP
        hits = search.search(
            tickets, messages, query, staff=membership.is_staff, shape=shape, best_first=best_first
        )
        return min(hits.count, list_views.COUNT_CAP)
    return tickets.order_by().values("id")[: list_views.COUNT_CAP].count()


def count_parts(
    membership, views: list[SavedView], choices=None, *, searches: bool = True
) -> tuple[dict, dict[str, int]]:
    """For the first COUNTED_VIEWS of ``views``: ({key: filters to count}, {key: count}). A view
    with a search is counted by the search itself (not at all with ``searches=False``); the
    others are left to one capped count query with the built-in views' (``list_views.counts``)."""
    counted = views[:COUNTED_VIEWS]
    if not counted:
        return {}, {}
    form = _reader(membership, choices)
    to_count, known = {}, {}
    for view in counted:
        filters = _filters_with(form, view.params)
        if filters.q.strip():
            if searches:
                known[view.key] = count_of(membership, filters, choices)
        else:
            to_count[view.key] = filters
    return to_count, known


def searched_views(views: list[SavedView]) -> set[str]:
    """Keys of the counted views that hold a search text."""
    return {view.key for view in views[:COUNTED_VIEWS] if any(v.strip() for v in view.params.get("q", []))}


def counts(membership, views: list[SavedView]) -> dict[str, int]:
    """{view key: count} for the first COUNTED_VIEWS of ``views``."""
    to_count, known = count_parts(membership, views)
    cap = list_views.COUNT_CAP
    counted = capped_filter_counts(membership=membership, filters=to_count, cap=cap)
    return {**counted, **known}


def list_counts(membership, views: list[SavedView], choices=None, *, searches: bool = True) -> dict[str, int]:
    """{key: count} of the built-in views and the counted saved views: one query for all of
    them but the saved searches, each its own search (left out with ``searches=False``: the list
    page has them counted after it loads, static/js/view_counts.js). ``choices``: the page's
    ``selectors.list_choices``."""
    to_count, known = count_parts(membership, views, choices, searches=searches)
    return {**list_views.counts(membership, to_count, choices), **known}


def views_with_counts(
    membership, views: list[SavedView], counted: dict[str, int] | None = None, *, later: bool = False
) -> list[tuple[SavedView, str | None]]:
    """The views, each with its count as shown ("999+" past the cap; None past COUNTED_VIEWS;
    "" for a saved search not counted yet, or with ``later`` for every counted view: the page
    fetches those once loaded)."""
    if later:
        counted, later_keys = {}, {view.key for view in views[:COUNTED_VIEWS]}
    else:
        counted = counts(membership, views) if counted is None else counted
        later_keys = searched_views(views)

    def shown(view):
        if view.key in counted:
            return list_views.count_label(counted[view.key])
        return "" if view.key in later_keys else None

    return [(view, shown(view)) for view in views]


# Writes -----------------------------------------------------------------------------------------------


def _check_name(membership, name: str, *, shared: bool, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": VIEW_NAME_REQUIRED})
    same = SavedView.objects.filter(workspace_id=membership.workspace_id, name__iexact=name)
    same = same.filter(shared=True) if shared else same.filter(shared=False, owner_id=membership.user_id)
    if exclude is not None:
        same = same.exclude(pk=exclude)
    if same.exists():
        raise ValidationError({"name": VIEW_NAME_TAKEN.format(name=name)})
    return name


@transaction.atomic
def saved_view_create(*, membership, name: str, params: dict) -> SavedView:
    """A personal view of the member's, last of theirs. Staff only (the caller's view checks)."""
    if not membership.is_staff:
        raise Http404(NOT_FOUND)
    own = SavedView.objects.select_for_update().filter(
        workspace_id=membership.workspace_id, owner_id=membership.user_id, shared=False
    )
    if len(own.values_list("id", flat=True)) >= OWN_VIEWS_MAX:
        raise ValidationError({"name": TOO_MANY_VIEWS.format(limit=OWN_VIEWS_MAX)})
    view = SavedView(
        workspace_id=membership.workspace_id,
        owner_id=membership.user_id,
        name=_check_name(membership, name, shared=False),
        params=validate_params(membership, params),
        position=(own.aggregate(last=Max("position"))["last"] or 0) + 1,
    )
    view.full_clean()
    view.save()
    return view


@transaction.atomic
def saved_view_rename(*, membership, view: SavedView, name: str, request=None) -> SavedView:
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    view.name = _check_name(membership, name, shared=view.shared, exclude=view.pk)
    view.updated_at = timezone.now()
    view.full_clean()
    view.save(update_fields=["name", "updated_at"])
    if view.shared:
        events.saved_view_changed(view=view, change="renamed", actor=membership.user, request=request)
    return view


@transaction.atomic
def saved_view_set_shared(*, membership, view: SavedView, shared: bool, request=None) -> SavedView:
    """Share a view with the workspace, or take it back (admins only, as the caller checks). A
    view taken back becomes the acting admin's own."""
    if not membership.is_admin:
        raise Http404(NOT_FOUND)
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    if view.shared == shared:
        return view
    view.shared = shared
    if not shared:
        view.owner_id = membership.user_id
    _check_name(membership, view.name, shared=shared, exclude=view.pk)
    view.updated_at = timezone.now()
    view.full_clean()
    view.save(update_fields=["shared", "owner", "updated_at"])
    if shared:
        events.saved_view_shared(view=view, actor=membership.user, request=request)
    else:
        events.saved_view_changed(view=view, change="unshared", actor=membership.user, request=request)
    return view


@transaction.atomic
def saved_view_delete(*, membership, view: SavedView, request=None) -> None:
    if view.shared:
        events.saved_view_deleted(view=view, actor=membership.user, request=request)
    SavedView.objects.filter(pk=view.pk).delete()
