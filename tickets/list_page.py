"""What the ticket list's template (tickets/ticket_list.jinja) shows besides the page's data:
the rows' markup, the live and presence attributes, the bulk bar's values. Plain functions, so
the Jinja2 template needs no template tags (helpdesk/jinja.py)."""

from django.utils.safestring import mark_safe

from tickets.list_rows import RowRenderer, escape_text, inline_html
from tickets.models import Priority, Status
from tickets.templatetags.live_tags import live_attributes, presence_labels


def parts(*, request, membership, tickets, choices) -> dict:
    """The template's values for ``tickets`` (the page's rows), as ``membership`` sees them."""
    shown = {
        "rows": RowRenderer(membership).rows(tickets),
        "live_attributes": live_attributes("ticket_list", slug=membership.workspace.slug),
    }
    if membership.is_staff:
        shown["presence_labels"] = presence_labels("list")
        shown["bulk_bar"] = bulk_bar(request=request, tickets=tickets, choices=choices)
    return shown


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
