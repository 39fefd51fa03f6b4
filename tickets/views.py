from django.shortcuts import render

from tickets.models import Ticket
from workspaces.access import workspace_view

PAGE_SIZE = 50


@workspace_view()
def ticket_list(request, membership):
    tickets = (
        Ticket.objects.visible_to(membership)
        .select_related("queue", "requester", "assignee")
        .order_by("-updated_at", "-id")[:PAGE_SIZE]
    )
    return render(request, "tickets/ticket_list.html", {"tickets": tickets, "membership": membership})
