"""/w/<slug>/admin/service-levels/: admins set the workspace's SLA targets, business hours and
holidays (tickets/sla.py applies them)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from helpdesk.forms import apply_service_errors
from tickets import sla
from tickets.sla_forms import SlaPolicyForm
from workspaces.access import ADMIN_ONLY, workspace_view

POLICY_SAVED = _("Service levels saved. Open tickets get their new due times in a moment.")
POLICY_UNCHANGED = _("Nothing was changed.")
FIX_BELOW = _("Please fix the problems below; nothing was saved.")


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_sla(request, membership):
    workspace = membership.workspace
    policy = sla.policy_of(workspace)
    form = SlaPolicyForm(request.POST or None, initial=SlaPolicyForm.initial_from(policy))
    if request.method == "POST":
        if form.is_valid():
            try:
                _policy, changed = sla.policy_save(
                    workspace=workspace, values=form.values(), actor=request.user, request=request
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, POLICY_SAVED if changed else POLICY_UNCHANGED)
                return redirect("admin_sla", slug=workspace.slug)
        messages.error(request, FIX_BELOW)
    context = {"membership": membership, "form": form, "policy": policy, "admin_tab": "sla"}
    return render(request, "tickets/sla_admin.html", context, status=400 if form.errors else 200)
