"""The ticket list's bulk action bar (tickets/_bulk_bar.jinja, tickets/bulk_views.py): its
choices, from what the list page has read already."""

from django.utils.safestring import mark_safe

from tickets.list_rows import escape_text, inline_html
from tickets.models import Priority, Status


def bulk_bar(*, request, tickets, choices) -> dict:
    """The values of the bar above the list (tickets/_bulk_bar.jinja): the workspace's active
    agents and admins and its queues, from the page's ``list_choices`` (selectors.list_choices)."""
    agents, queues = choices.active_staff, choices.all_queues
    return {
        "back": request.GET.urlencode(),
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
