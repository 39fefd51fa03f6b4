"""/w/<slug>/admin/members/<id>/restriction/: an admin restricts or releases a member's data."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from helpdesk.forms import service_error_message
from workspaces import access
from workspaces.access import ADMIN_ONLY, workspace_view
from workspaces.admin_forms import RestrictForm
from workspaces.restriction import member_release, member_restrict


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def admin_member_restriction(request, membership, member_id: int):
    member = access.get_member_or_404(membership, member_id)
    try:
        if request.POST.get("action") == "release":
            member_release(membership=member, actor=request.user, request=request)
            messages.success(
                request,
                _("The restriction was released: %(name)s's data is processed again.")
                % {"name": member.user},
            )
        else:
            form = RestrictForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            else:
                member_restrict(
                    membership=member, reason=form.cleaned_data["reason"], actor=request.user, request=request
                )
                messages.success(
                    request, _("Processing of %(name)s's data is now restricted.") % {"name": member.user}
                )
    except ValidationError as error:
        messages.error(request, service_error_message(error))
    return redirect("admin_member", slug=membership.workspace.slug, member_id=member.pk)
