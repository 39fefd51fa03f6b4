"""/w/<slug>/admin/requesters/: an admin chooses who may open tickets without an invitation."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from helpdesk.forms import apply_service_errors
from helpdesk.site import absolute_url
from workspaces.access import ADMIN_ONLY, workspace_view
from workspaces.intake import intake_domains_parse, intake_domains_text, intake_settings_set
from workspaces.models import Intake

INTAKE_SAVED = _("Saved: {choice}.")


class IntakeForm(forms.Form):
    intake = forms.ChoiceField(
        label=_("Who may open tickets"),
        choices=Intake.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Invited people only: nobody else gets in, and the Get help link answers “not found”. "
            "Anyone who signs up: a signed-in person who opens the Get help link can join as a requester. "
            "Public Get help form: also anonymous visitors, who confirm their address by email before "
            "their request becomes a ticket."
        ),
    )
    intake_domains = forms.CharField(
        label=_("Only these email domains (optional)"),
        required=False,
        max_length=500,
        help_text=_("For example: example.com example.org. Leave empty to accept any address."),
    )

    def clean_intake_domains(self):
        try:
            return " ".join(intake_domains_parse(self.cleaned_data["intake_domains"]))
        except ValidationError as error:
            raise ValidationError(error.message_dict["intake_domains"])


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_requesters(request, membership):
    workspace = membership.workspace
    initial = {"intake": workspace.intake, "intake_domains": intake_domains_text(workspace)}
    form = IntakeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = intake_settings_set(
                workspace=workspace,
                intake=form.cleaned_data["intake"],
                domains=form.cleaned_data["intake_domains"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, INTAKE_SAVED.format(choice=workspace.get_intake_display()))
            return redirect("admin_requesters", slug=workspace.slug)
    return render(
        request,
        "workspaces/intake_admin.html",
        {
            "membership": membership,
            "form": form,
            "admin_tab": "requesters",
            "help_url": absolute_url(reverse("get_help", args=[workspace.slug])),
            "help_open": workspace.intake != Intake.INVITED,
        },
        status=400 if form.is_bound else 200,
    )
