from django.shortcuts import redirect

from workspaces.access import workspace_view


@workspace_view()
def workspace_home(request, membership):
    return redirect("ticket_list", slug=membership.workspace.slug)
