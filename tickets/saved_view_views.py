"""Pages for saved views of the ticket list (tickets/saved_view_services.py): save the list's filters under
a name, and manage one's views (rename, delete; admins also share and take back). Staff only:
anyone else, and anyone asking for a view that is not theirs to see, gets the 404 of a missing
page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms import service_error_message
from tickets import saved_view_services
from tickets.saved_view_services import SavedViewNameForm
from workspaces.access import NOT_FOUND, workspace_view
from workspaces.models import Role

STAFF_ROLES = (Role.ADMIN, Role.AGENT)

VIEW_SAVED = _("The view “{name}” was saved. It is in the row of views above the list.")
VIEW_NOT_SAVED = _("The view was not saved: {problem}")
VIEW_RENAMED = _("The view is now named “{name}”.")
VIEW_SHARED = _("“{name}” is now shared: every agent and admin of the workspace sees it.")
VIEW_UNSHARED = _("“{name}” is no longer shared: only you see it now.")
VIEW_DELETED = _("The view “{name}” was deleted.")
VIEW_NOT_CHANGED = _("The view was not changed: {problem}")


def _list_url(membership, view=None) -> str:
    url = reverse("ticket_list", kwargs={"slug": membership.workspace.slug})
    return f"{url}?view={view.key}" if view is not None else url


def _manage_url(membership) -> str:
    return reverse("saved_views", kwargs={"slug": membership.workspace.slug})


@workspace_view(roles=STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def saved_views_page(request, membership):
    """GET: the person's views and the shared ones, to manage. POST: save the list's filters
    (the list's query string, sent back by the "Save this view" form) under a name."""
    if request.method == "POST":
        form = SavedViewNameForm(request.POST)
        filters = QueryDict(request.POST.get("filters", "")[:4000])
        if form.is_valid():
            try:
                view = saved_view_services.saved_view_create(
                    membership=membership,
                    name=form.cleaned_data["name"],
                    params=saved_view_services.params_of(filters),
                )
            except ValidationError as error:
                messages.error(request, VIEW_NOT_SAVED.format(problem=service_error_message(error)))
            else:
                messages.success(request, VIEW_SAVED.format(name=view.name))
                return redirect(_list_url(membership, view))
        else:
            messages.error(request, VIEW_NOT_SAVED.format(problem=" ".join(form.errors.get("name", []))))
        back = _list_url(membership)
        query = filters.urlencode()
        return redirect(f"{back}?{query}" if query else back)
    views = [
        (view, saved_view_services.can_manage(membership, view))
        for view in saved_view_services.listed_views(membership)
    ]
    context = {"membership": membership, "views": views, "counted": saved_view_services.COUNTED_VIEWS}
    return render(request, "tickets/saved_views.html", context)


@workspace_view(roles=STAFF_ROLES)
@require_POST
def saved_view_update(request, membership, saved_view_id):
    """Rename (``name``) or, for admins, share or take back (``shared`` = 1 or 0)."""
    view = saved_view_services.get_saved_view_or_404(membership, saved_view_id, manage=True)
    try:
        if "shared" in request.POST:
            if not membership.is_admin:
                raise Http404(NOT_FOUND)
            shared = request.POST["shared"] == "1"
            view = saved_view_services.saved_view_set_shared(
                membership=membership, view=view, shared=shared, request=request
            )
            messages.success(request, (VIEW_SHARED if shared else VIEW_UNSHARED).format(name=view.name))
        else:
            form = SavedViewNameForm(request.POST)
            if not form.is_valid():
                raise ValidationError(" ".join(form.errors.get("name", [])))
            view = saved_view_services.saved_view_rename(
                membership=membership, view=view, name=form.cleaned_data["name"], request=request
            )
            messages.success(request, VIEW_RENAMED.format(name=view.name))
    except ValidationError as error:
        messages.error(request, VIEW_NOT_CHANGED.format(problem=service_error_message(error)))
    return redirect(_manage_url(membership))


@workspace_view(roles=STAFF_ROLES)
@require_POST
def saved_view_delete(request, membership, saved_view_id):
    view = saved_view_services.get_saved_view_or_404(membership, saved_view_id, manage=True)
    saved_view_services.saved_view_delete(membership=membership, view=view, request=request)
    messages.success(request, VIEW_DELETED.format(name=view.name))
    return redirect(_manage_url(membership))
