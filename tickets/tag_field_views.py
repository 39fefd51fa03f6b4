"""Pages of tags and custom fields (issue 13): staff save a ticket's tags and field values, the
tags autocomplete answers staff, and admins define the workspace's fields (Administration →
Fields). Every view validates a form, calls one service, and redirects or renders."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import apply_service_errors
from tickets import access, custom_fields, tags
from tickets.tag_field_forms import CustomFieldForm, TicketFieldsForm, TicketTagsForm, posted_values
from tickets.tag_field_pages import suggest_url
from tickets.views import CHANGES_NOT_SAVED, STAFF_ROLES, _render_ticket, ticket_unavailable, ticket_url
from workspaces.access import ADMIN_ONLY, NOT_FOUND, workspace_view

TAGS_SAVED = _("Tags saved.")
TAGS_UNCHANGED = _("The tags were not changed.")
FIELDS_SAVED = _("Fields saved.")
FIELDS_UNCHANGED = _("Nothing was changed.")
FIELD_ADDED = _("Field “{label}” added.")
FIELD_SAVED = _("Field “{label}” saved.")
FIELD_ARCHIVED = _("Field “{label}” archived: it is no longer shown or asked. Its values are kept.")
FIELD_RESTORED = _("Field “{label}” is back on every ticket.")


def _staff_ticket(request, membership, number):
    """The ticket for a staff post, or the ticket-unavailable answer (requesters: 404 by role)."""
    try:
        return access.get_ticket_or_404(membership, number), None
    except Http404:
        return None, ticket_unavailable(request, membership, number, refused=CHANGES_NOT_SAVED)


@workspace_view(roles=STAFF_ROLES)
@require_POST
def ticket_tags(request, membership, number):
    """Staff: the ticket's tags as the person edited them (only their changes are applied)."""
    ticket, unavailable = _staff_ticket(request, membership, number)
    if unavailable:
        return unavailable
    form = TicketTagsForm(request.POST, suggest_url=suggest_url(membership))
    if form.is_valid():
        try:
            change = tags.ticket_replace_tags(
                ticket=ticket,
                seen=form.cleaned_data["seen"],
                wanted=form.cleaned_data["tags"],
                actor=membership.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, TAGS_SAVED if change.changed else TAGS_UNCHANGED)
            return redirect(f"{ticket_url(membership, ticket)}#tags")
    return _render_ticket(request, membership, ticket, status=400, tag_field_forms={"tags_form": form})


@never_cache
@workspace_view(roles=STAFF_ROLES)
@require_GET
def tag_suggestions(request, membership):
    """Staff: the workspace's tags matching ``?q=`` as JSON, for the tags autocomplete."""
    names = tags.tag_suggestions(workspace_id=membership.workspace_id, query=request.GET.get("q", "")[:100])
    return JsonResponse({"results": names})


@workspace_view(roles=STAFF_ROLES)
@require_POST
def ticket_fields(request, membership, number):
    """Staff: the values of the ticket's custom fields, all or nothing; required ones must be
    filled in."""
    ticket, unavailable = _staff_ticket(request, membership, number)
    if unavailable:
        return unavailable
    fields = list(custom_fields.fields_for(workspace_id=ticket.workspace_id, for_requester=False))
    form = TicketFieldsForm(request.POST, fields=fields)
    if form.is_valid():
        try:
            changed = custom_fields.ticket_set_field_values(
                ticket=ticket, values=posted_values(form, fields), actor=membership.user, request=request
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, FIELDS_SAVED if changed else FIELDS_UNCHANGED)
            return redirect(f"{ticket_url(membership, ticket)}#fields")
    return _render_ticket(request, membership, ticket, status=400, tag_field_forms={"fields_form": form})


# Administration → Fields --------------------------------------------------------------------


def _definition_values(form) -> dict:
    data = form.cleaned_data
    values = {
        "label": data["label"],
        "options": data.get("options") or "",
        "required": data["required"],
        "visible_to_requesters": data["visible_to_requesters"],
        "personal": data["personal"],
    }
    if data.get("position") is not None:
        values["position"] = data["position"]
    return values


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_fields(request, membership):
    workspace = membership.workspace
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = custom_fields.custom_field_create(
                workspace=workspace,
                kind=form.cleaned_data["kind"],
                actor=request.user,
                request=request,
                **_definition_values(form),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, FIELD_ADDED.format(label=field.label))
            return redirect("admin_fields", slug=workspace.slug)
    context = {
        "membership": membership,
        "form": form,
        "fields": list(custom_fields.admin_fields(workspace)),
        "admin_tab": "fields",
    }
    return render(request, "tickets/admin_fields.html", context, status=400 if form.errors else 200)


def _field_or_404(membership, field_id):
    field = custom_fields.field_of(membership.workspace, field_id)
    if field is None:
        raise Http404(NOT_FOUND)
    return field


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_field(request, membership, field_id: int):
    workspace = membership.workspace
    field = _field_or_404(membership, field_id)
    initial = {
        "label": field.label,
        "kind": field.kind,
        "options": "\n".join(field.options),
        "required": field.required,
        "visible_to_requesters": field.visible_to_requesters,
        "personal": field.personal,
        "position": field.position,
    }
    form = CustomFieldForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            changed = custom_fields.custom_field_update(
                field=field, values=_definition_values(form), actor=request.user, request=request
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            label = form.cleaned_data["label"] if changed else field.label
            messages.success(request, FIELD_SAVED.format(label=" ".join(label.split())))
            return redirect("admin_fields", slug=workspace.slug)
    context = {"membership": membership, "form": form, "field": field, "admin_tab": "fields"}
    return render(request, "tickets/admin_field.html", context, status=400 if form.errors else 200)


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def admin_field_archive(request, membership, field_id: int):
    """Archive the field, or bring it back (``restore=1``)."""
    field = _field_or_404(membership, field_id)
    archived = request.POST.get("restore") != "1"
    field = custom_fields.custom_field_set_archived(
        field=field, archived=archived, actor=request.user, request=request
    )
    messages.success(request, (FIELD_ARCHIVED if archived else FIELD_RESTORED).format(label=field.label))
    return redirect("admin_fields", slug=membership.workspace.slug)
