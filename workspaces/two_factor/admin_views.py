"""/w/<slug>/admin/security/: a workspace admin requires a second factor of the staff."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from workspaces.access import ADMIN_ONLY, workspace_view
from workspaces.privacy_settings import PRIVACY_FIELDS, PrivacySettingsForm, workspace_set_privacy_settings
from workspaces.two_factor import services
from workspaces.two_factor.forms import RequirementForm

REQUIREMENT_ON = _("Admins and agents of this workspace now need a second factor.")
REQUIREMENT_OFF = _("A second factor is no longer required in this workspace.")


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_security(request, membership):
    workspace = membership.workspace
    privacy_initial = {name: getattr(workspace, name) for name in PRIVACY_FIELDS}
    if request.method == "POST" and "privacy_settings" in request.POST:
        privacy_form = PrivacySettingsForm(request.POST, initial=privacy_initial)
        if privacy_form.is_valid():
            if workspace_set_privacy_settings(
                workspace=workspace, values=privacy_form.cleaned_data, actor=request.user, request=request
            ):
                messages.success(request, _("The privacy settings were saved."))
            return redirect("admin_security", slug=workspace.slug)
    privacy_form = PrivacySettingsForm(initial=privacy_initial)
    form = RequirementForm(request.POST or None, initial={"require_two_factor": workspace.require_two_factor})
    if request.method == "POST" and form.is_valid():
        required = form.cleaned_data["require_two_factor"]
        if services.workspace_set_two_factor_requirement(
            workspace=workspace, required=required, actor=request.user, request=request
        ):
            messages.success(request, REQUIREMENT_ON if required else REQUIREMENT_OFF)
        return redirect("admin_security", slug=workspace.slug)
    return render(
        request,
        "workspaces/admin_security.html",
        {
            "membership": membership,
            "form": form,
            "privacy_form": privacy_form,
            "admin_tab": "security",
            "own_factor": services.user_has_factor(request.user),
        },
    )
