"""The list's bulk action bar (tickets/bulk_views.py): what each row posts (the bar's own values:
tickets/list_page.py)."""

from django import template

from tickets import bulk, merge

register = template.Library()


@register.filter
def bulk_seen(ticket) -> str:
    """What the row shows of the ticket's properties, posted with the bar (stale check)."""
    return bulk.seen_token(ticket)


@register.simple_tag
def merged_target(ticket):
    """The ticket ``ticket`` was merged into, or None (a query only for a closed ticket)."""
    return merge.merged_into(ticket)
