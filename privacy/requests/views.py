"""The admins' data-subject-request console under ``/w/<slug>/admin/requests/``, and the
person's own requests at ``/account/requests/``."""

import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms import apply_service_errors, service_error_message
from privacy.requests import services
from privacy.requests.forms import AccountRequestForm, ConsoleRequestForm, EraseForm, StatusForm
from privacy.requests.models import RequestKind, RequestVia
from workspaces.access import ADMIN_ONLY, workspace_view
from workspaces.restriction import member_release, member_restrict


def _detail(request_obj):
    return redirect("subject_request_detail", slug=request_obj.workspace.slug, request_id=request_obj.pk)


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def subject_requests(request, membership):
    form = ConsoleRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        person = services.find_person(membership.workspace, form.cleaned_data["email"])
        if person is None:
            form.add_error("email", services.PERSON_NOT_FOUND)
        else:
            try:
                filed = services.request_file(
                    workspace=membership.workspace,
                    subject=person,
                    kind=form.cleaned_data["kind"],
                    details=form.cleaned_data["details"],
                    filed_by=request.user,
                    via=RequestVia.CONSOLE,
                    request=request,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("The request was recorded; it is due in 30 days."))
                return _detail(filed)
    rows = list(services.requests_of(membership.workspace)[:200])
    context = {
        "membership": membership,
        "form": form,
        "open_requests": [r for r in rows if r.is_open],
        "closed_requests": [r for r in rows if not r.is_open],
        "admin_tab": "requests",
    }
    return render(request, "privacy/subject_requests.html", context, status=400 if form.errors else 200)


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def subject_request_detail(request, membership, request_id: int):
    found = services.get_request_or_404(membership, request_id)
    form = StatusForm(
        request.POST if request.method == "POST" else None,
        initial={"status": found.status, "response": found.response},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.request_set_status(
                subject_request=found,
                status=form.cleaned_data["status"],
                response=form.cleaned_data["response"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The request was updated."))
            return _detail(found)
    subject_membership = services.membership_in(found.workspace_id, found.subject_id)
    context = {
        "membership": membership,
        "found": found,
        "subject_membership": subject_membership,
        "holdings": services.holdings(found.workspace_id, found.subject) if found.subject else [],
        "status_form": form,
        "erase_form": EraseForm(),
        "trail": services.trail(found),
        "now": timezone.now(),
        "admin_tab": "requests",
    }
    return render(request, "privacy/subject_request_detail.html", context, status=400 if form.errors else 200)


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def subject_request_export(request, membership, request_id: int):
    found = services.get_request_or_404(membership, request_id)
    archive = tempfile.TemporaryFile()
    try:
        services.request_export(subject_request=found, fileobj=archive, actor=request.user, request=request)
    except ValidationError as error:
        archive.close()
        messages.error(request, service_error_message(error))
        return _detail(found)
    archive.seek(0)
    name = f"{found.workspace.slug}-request-{found.pk}-export.zip"
    return FileResponse(archive, as_attachment=True, filename=name, content_type="application/zip")


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def subject_request_erase(request, membership, request_id: int):
    found = services.get_request_or_404(membership, request_id)
    form = EraseForm(request.POST)
    if not form.is_valid():
        messages.error(request, services.ERASE_NEEDS_CONFIRMATION)
        return _detail(found)
    try:
        services.request_erase(subject_request=found, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, _("Their data in this workspace was erased; the request is completed."))
    return _detail(found)


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def subject_request_restrict(request, membership, request_id: int):
    found = services.get_request_or_404(membership, request_id)
    subject_membership = services.membership_in(found.workspace_id, found.subject_id)
    if subject_membership is None:
        messages.error(request, _("This person is not a member of the workspace any more."))
        return _detail(found)
    try:
        if request.POST.get("action") == "release":
            member_release(membership=subject_membership, actor=request.user, request=request)
            messages.success(request, _("The restriction was released."))
        else:
            member_restrict(
                membership=subject_membership,
                reason=_("Data-subject request #%(id)s") % {"id": found.pk},
                actor=request.user,
                request=request,
            )
            messages.success(request, _("Processing of their data is now restricted in this workspace."))
    except ValidationError as error:
        messages.error(request, service_error_message(error))
    return _detail(found)


# The person's side -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account_requests(request):
    workspaces = services.member_workspaces(request.user)
    form = AccountRequestForm(request.POST if request.method == "POST" else None, workspaces=workspaces)
    if request.method == "POST" and form.is_valid():
        services.request_file(
            workspace=form.cleaned_data["workspace"],
            subject=request.user,
            kind=form.cleaned_data["kind"],
            details=form.cleaned_data["details"],
            filed_by=request.user,
            via=RequestVia.ACCOUNT,
            request=request,
        )
        if form.cleaned_data["kind"] == RequestKind.OBJECTION:
            messages.success(
                request, _("Your request was sent. Your optional consents were withdrawn at once.")
            )
        else:
            messages.success(request, _("Your request was sent. The workspace has 30 days to answer."))
        return redirect("account_requests")
    context = {
        "form": form,
        "workspaces": workspaces,
        "requests": list(services.requests_of_person(request.user)[:50]),
    }
    return render(request, "privacy/account_requests.html", context, status=400 if form.errors else 200)
