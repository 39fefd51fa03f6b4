"""/help/<slug>/: a workspace's Get help link, the way in for people it did not invite.

404 unless the workspace opened it (``workspaces.intake``). A signed-in person joins as a
requester and goes on to the new-ticket form; an anonymous visitor is asked to sign in or sign up
(``signup``) or fills in the public form (``public``), which answers the same page whatever the
address.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from helpdesk.forms import service_error_message
from privacy.account import signup as signup_services
from privacy.account.help import help_request_submit
from privacy.account.signup_forms import SIGNUP_LIMIT_ADDRESS, SIGNUP_LIMIT_IP, HelpRequestForm
from privacy.audit import events
from privacy.audit.log import client_ip
from workspaces.intake import intake_refusal, membership_in, requester_join, workspace_for_help_or_404
from workspaces.models import Intake

JOINED = _("You can now open tickets in {workspace}.")


def _signed_in(request, workspace):
    membership = membership_in(workspace=workspace, user=request.user)
    if membership is not None:
        return redirect("ticket_new", slug=workspace.slug)
    refusal = intake_refusal(workspace, request.user.email)
    if request.method == "POST" and refusal is None:
        try:
            requester_join(workspace=workspace, user=request.user, request=request)
        except ValidationError as error:
            refusal = service_error_message(error)
        else:
            messages.success(request, JOINED.format(workspace=workspace.name))
            return redirect("ticket_new", slug=workspace.slug)
    return render(
        request,
        "workspaces/intake_join.html",
        {"workspace": workspace, "refusal": refusal},
        status=403 if refusal else 200,
    )


def _public_form(request, workspace, policies):
    form = HelpRequestForm(request.POST or None, policies=policies)
    context = {"workspace": workspace, "form": form}
    if request.method != "POST" or not form.is_valid():
        return render(request, "workspaces/intake_help.html", context, status=400 if form.is_bound else 200)
    data = form.cleaned_data
    refusal = intake_refusal(workspace, data["email"])
    if refusal:
        form.add_error("email", refusal)
        return render(request, "workspaces/intake_help.html", context, status=400)
    limit = signup_services.signup_rate_limit(email=data["email"], ip=client_ip(request))
    if limit is not None:
        events.rate_limit_refused(action="signup", scope=limit.scope, request=request)
        template = SIGNUP_LIMIT_ADDRESS if limit.scope == "address" else SIGNUP_LIMIT_IP
        form.add_error(None, template.format(wait=limit.wait))
        response = render(request, "workspaces/intake_help.html", context, status=429)
        response["Retry-After"] = str(limit.retry_after)
        return response
    help_request_submit(
        workspace=workspace,
        display_name=data["display_name"],
        email=data["email"],
        password=data["password1"],
        subject=data["subject"],
        description=data["description"],
        policy_ids=policies.ids,
        request=request,
        age_confirmed=data["age_confirmed"],
    )
    return render(
        request,
        "workspaces/intake_sent.html",
        {"workspace": workspace, "email": data["email"], "hours": signup_services.confirmation_hours()},
    )


@never_cache
@sensitive_post_parameters("password1", "password2", "description")
@require_http_methods(["GET", "POST"])
def get_help(request, slug):
    workspace = workspace_for_help_or_404(slug)
    if request.user.is_authenticated:
        return _signed_in(request, workspace)
    if workspace.intake != Intake.PUBLIC:
        if request.method == "POST":
            return redirect("get_help", slug=workspace.slug)
        return render(request, "workspaces/intake_sign_in.html", {"workspace": workspace})
    try:
        policies = signup_services.policies_current()
    except signup_services.PoliciesMissing as error:
        return render(request, "accounts/signup_closed.html", {"message": str(error)}, status=503)
    return _public_form(request, workspace, policies)
