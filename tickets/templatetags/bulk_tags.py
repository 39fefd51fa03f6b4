"""The list's bulk action bar (tickets/bulk_views.py): its choices, and what each row posts."""

from django import template
from django.utils.safestring import mark_safe

from tickets import bulk, merge, selectors
from tickets.list_rows import escape_text, inline_html
from tickets.models import Priority, Status
from workspaces.models import Queue

register = template.Library()


@register.inclusion_tag("tickets/_bulk_bar.html", takes_context=True)
def bulk_bar(context):
    """The bar above the list: the workspace's agents and admins, its queues. Read from the
    page's ``list_choices`` (selectors.list_choices) when it has them, else two queries."""
    membership = context["membership"]
    request = context.get("request")
    tickets = context.get("tickets") or []
    choices = context.get("list_choices")
    if choices is not None:
        agents, queues = choices.active_staff, choices.all_queues
    else:
        agents = list(selectors.staff_members(membership.workspace_id).filter(is_active=True))
        queues = list(Queue.objects.of_workspace(membership.workspace_id).order_by("name"))
    return {
        "csrf_token": context.get("csrf_token"),
        "membership": membership,
        "back": request.GET.urlencode() if request is not None else "",
        "page_tickets": ",".join(str(t.number) for t in tickets),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        # Written here rather than looped over in the template: a workspace's every agent and
        # queue, on every list page. Safe: each name is escaped where it is put in.
        "agent_options": mark_safe(  # noqa: S308  # nosec B308 B703
            "".join(f'<option value="assign:{agent.pk}">{inline_html(agent)}</option>' for agent in agents)
        ),
        "queue_options": mark_safe(  # noqa: S308  # nosec B308 B703
            "".join(f'<option value="queue:{q.pk}">{escape_text(q.name)}</option>' for q in queues)
        ),
    }


@register.filter
def bulk_seen(ticket) -> str:
    """What the row shows of the ticket's properties, posted with the bar (stale check)."""
    return bulk.seen_token(ticket)


@register.simple_tag
def merged_target(ticket):
    """The ticket ``ticket`` was merged into, or None (a query only for a closed ticket)."""
    return merge.merged_into(ticket)
