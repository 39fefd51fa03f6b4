"""The ticket list's built-in views: "My open", "Unassigned", "All unsolved", "Pending",
"Recently solved" and "All tickets", each a preset of the list's filters, with a count.

Staff land on "My open"; requesters keep their own list ("My tickets", everything of theirs). A
view's preset narrows the list but does not fill the filter form: a search typed in the box,
submitted with the form, looks through every ticket the person may see unless they pick filters.

Counts stay cheap at any size: each is a ``COUNT`` over at most ``COUNT_CAP`` rows of an indexed
range (``SELECT count(*) FROM (SELECT id ... LIMIT 1000)``), shown as "999+" beyond, never a
count over the whole table; all the page's counts (saved views' too) go in one query.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tickets.selectors import (
    STATUS_DONE,
    STATUS_OPEN,
    TicketFilters,
    capped_filter_counts,
)

COUNT_CAP = 1000
DEFAULT_STAFF_VIEW = "mine"


@dataclass(frozen=True)
class ListView:
    key: str
    label: str
    preset: dict  # TicketFilters fields

    def filters(self) -> TicketFilters:
        return TicketFilters(**self.preset)


STAFF_VIEWS = [
    ListView("mine", _("My open"), {"assignee": "me", "status": STATUS_OPEN}),
    ListView("unassigned", _("Unassigned"), {"assignee": "none", "status": STATUS_OPEN}),
    ListView("unsolved", _("All unsolved"), {"status": STATUS_OPEN}),
    ListView("pending", _("Pending"), {"status": "pending"}),
    ListView("solved", _("Recently solved"), {"status": "solved"}),
    ListView("all", _("All tickets"), {}),
]
REQUESTER_VIEWS = [
    ListView("all", _("My tickets"), {}),
    ListView("open", _("Open"), {"status": STATUS_OPEN}),
    ListView("done", _("Solved or closed"), {"status": STATUS_DONE}),
]


def views_for(membership) -> list[ListView]:
    return STAFF_VIEWS if membership.is_staff else REQUESTER_VIEWS


def chosen_view(membership, params) -> ListView | None:
    """The view the request asks for (``?view=``), or the default when it asks for nothing."""
    by_key = {view.key: view for view in views_for(membership)}
    key = params.get("view")
    if key is None and not params and membership.is_staff:
        key = DEFAULT_STAFF_VIEW
    return by_key.get(key or "")


def with_view(view: ListView | None, values: dict) -> dict:
    """The filter values of the form, with the view's preset under what the person chose."""
    if view is None:
        return values
    merged = dict(values)
    for name, value in view.preset.items():
        if not merged.get(name):
            merged[name] = value
    return merged


def counts(membership, more: dict | None = None, choices=None) -> dict[str, int]:
    """{view key: number of tickets, at most COUNT_CAP} for the member's views, and for the
    filters of ``more`` ({key: TicketFilters}: saved views), all in one query.
    ``choices``: the page's ``selectors.list_choices``, if read."""
    filters = {view.key: view.filters() for view in views_for(membership)}
    return capped_filter_counts(
        membership=membership,
        filters={**filters, **(more or {})},
        cap=COUNT_CAP,
        choices=choices,
    )


def count_label(count: int) -> str:
    return f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count)


def views_with_counts(
    membership, counted: dict[str, int] | None = None, *, later: bool = False
) -> list[tuple[ListView, str]]:
    """The member's views, each with its count as shown ("999+" past the cap); with ``later``,
    "" for every view: the page fetches the counts once loaded (static/js/view_counts.js)."""
    if later:
        return [(view, "") for view in views_for(membership)]
    counted = counts(membership) if counted is None else counted
    return [(view, count_label(counted[view.key])) for view in views_for(membership)]
