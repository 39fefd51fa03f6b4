from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from helpdesk.forms import apply_service_errors
from helpdesk.single_line import validate_single_line
from workspaces.models import WORKSPACE_SLUG_TAKEN
from workspaces.onboarding import workspace_start
from workspaces.selectors import workspace_slug_taken

SLUG_TAKEN = WORKSPACE_SLUG_TAKEN
RESERVED_SLUGS = {"admin", "api", "static", "media", "new", "accounts", "account", "w"}


WORKSPACE_READY = _("Workspace “{name}” is ready. Invite your team from Admin.")


class WorkspaceStartForm(forms.Form):
    name = forms.CharField(label=_("Workspace name"), max_length=120, validators=[validate_single_line])
    accept_dpa = forms.BooleanField(
        label=_("I accept the data-processing agreement on behalf of my organisation"),
        help_text=_(
            "Your organisation decides what happens to the data put into the workspace; "
            "we process it for you."
        ),
        error_messages={"required": _("Accept the data-processing agreement to create a workspace.")},
    )
    slug = forms.SlugField(
        label=_("Address"),
        max_length=50,
        required=False,
        help_text=_(
            "Lower-case letters, digits and hyphens; the workspace lives at /w/&lt;address&gt;/. "
            "Leave empty to derive it from the name."
        ),
    )

    field_order = ["name", "slug", "accept_dpa"]

    def clean(self):
        cleaned = super().clean()
        # Addresses are compared ignoring case, and stored (and shown) in lower case.
        slug = (cleaned.get("slug") or slugify(cleaned.get("name", ""))[:50]).lower()
        if not slug:
            self.add_error("slug", _("Choose an address made of letters or digits."))
        elif slug in RESERVED_SLUGS or workspace_slug_taken(slug):
            self.add_error("slug", SLUG_TAKEN)
        cleaned["slug"] = slug
        return cleaned


@login_required
@require_http_methods(["GET", "POST"])
def workspace_new(request):
    form = WorkspaceStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = workspace_start(
                name=form.cleaned_data["name"],
                slug=form.cleaned_data["slug"],
                owner=request.user,
                request=request,
                dpa_accepted=form.cleaned_data["accept_dpa"],
            )
        except ValidationError as error:
            # Someone took the address between the form's check and the save.
            apply_service_errors(form, error)
        else:
            messages.success(request, WORKSPACE_READY.format(name=workspace.name))
            return redirect("workspace_home", slug=workspace.slug)
    return render(request, "workspaces/workspace_new.html", {"form": form})
