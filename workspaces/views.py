"""Workspace pages: the workspace entry point, the admin pages under ``/w/<slug>/admin/`` and the
invitation page at ``/invitations/<token>/``.

Admin pages are ``workspace_view(roles=ADMIN_ONLY)``: any other role, a stranger or an id of
another workspace gets the same 404. Views validate a form, call one service and redirect.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import apply_service_errors, service_error_message
from privacy.audit import events
from workspaces import access, selectors, services
from workspaces.access import ADMIN_ONLY, workspace_view
from workspaces.admin_forms import (
    AcceptNewAccountForm,
    InviteForm,
    MemberQueuesForm,
    QueueForm,
    RestrictForm,
    RoleForm,
)
from workspaces.models import Role

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"

ROLE_PHRASES = {Role.ADMIN: "an admin", Role.AGENT: "an agent", Role.REQUESTER: "a requester"}
ROLE_CHANGED = _("{name} is now {role}.")
ROLE_CHANGED_SELF = _("You are now {role} in {workspace}; the admin pages are no longer available to you.")
ROLE_INVALID = _("Choose one of the listed roles.")
ROLE_FORM_OUT_OF_DATE = _("This form is out of date: reload the page and choose the role again.")
MEMBER_REMOVED = _("{name} no longer has access to {workspace}.")
MEMBER_REMOVED_SELF = _("You left {workspace}.")
QUEUES_UPDATED = _("Queue access of {name} updated.")
QUEUES_UNCHANGED = _("Nothing changed: {name} already had exactly these queues.")
INVITATION_SENT = _("Invitation sent to {email}. The link works for {days} days.")
INVITATION_NOT_SENT = _(
    "The invitation of {email} was saved, but its email could not be sent. Check the address "
    "and the mail settings, then invite {email} again to send a new link."
)
INVITATION_REVOKED_DONE = _("The invitation of {email} was withdrawn; its link no longer works.")
QUEUE_CREATED = _("Queue “{name}” created.")
QUEUE_RENAMED = _("Queue renamed to “{name}”.")
INVITATION_SIGN_IN = _("Sign in as {email} to accept the invitation to {workspace}.")
INVITATION_WELCOME = _("Welcome to {workspace}.")
# Workspace entry ---------------------------------------------------------------------------------


@workspace_view()
@require_GET
def workspace_home(request, membership):
    return redirect("ticket_list", slug=membership.workspace.slug)


# Members --------------------------------------------------------------------------------------


@workspace_view(roles=ADMIN_ONLY)
@require_GET
def admin_home(request, membership):
    return redirect("admin_members", slug=membership.workspace.slug)


@workspace_view(roles=ADMIN_ONLY)
@require_GET
def admin_members(request, membership):
    workspace = membership.workspace
    return render(
        request,
        "workspaces/admin_members.html",
        {
            "membership": membership,
            "rows": selectors.member_rows(workspace=workspace),
            "invitations": selectors.pending_invitations(workspace=workspace),
            "role_choices": Role.choices,
            "admin_tab": "members",
        },
    )


@workspace_view(roles=ADMIN_ONLY)
@require_GET
def admin_member(request, membership, member_id: int):
    workspace = membership.workspace
    member = access.get_member_or_404(membership, member_id)
    queues_form = None
    if member.is_agent:
        queues_form = MemberQueuesForm(
            queues=selectors.queues_of(workspace=workspace),
            initial={"queues": selectors.member_granted_queue_ids(membership=member)},
        )
    return render(
        request,
        "workspaces/admin_member.html",
        {
            "membership": membership,
            "member": member,
            "role_form": RoleForm(initial={"role": member.role, "seen_role": member.role}),
            "queues_form": queues_form,
            "restrict_form": RestrictForm(),
            "is_last_admin": member.is_admin and selectors.admin_count(workspace=workspace) == 1,
            "admin_tab": "members",
        },
    )


def _back_to(request, membership, member):
    """Where a member form returns: the list it was posted from, or the member's page."""
    if request.POST.get("return_to") == "members":
        return redirect("admin_members", slug=membership.workspace.slug)
    return redirect("admin_member", slug=membership.workspace.slug, member_id=member.pk)


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def admin_member_role(request, membership, member_id: int):
    workspace = membership.workspace
    member = access.get_member_or_404(membership, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, ROLE_INVALID if "role" in form.errors else ROLE_FORM_OUT_OF_DATE)
        return _back_to(request, membership, member)
    try:
        member = services.member_set_role(
            membership=member,
            role=form.cleaned_data["role"],
            seen_role=form.cleaned_data["seen_role"],
            actor=request.user,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, service_error_message(error))
        return _back_to(request, membership, member)
    role_phrase = ROLE_PHRASES[member.role]
    if member.pk == membership.pk and not member.is_admin:
        messages.success(request, ROLE_CHANGED_SELF.format(role=role_phrase, workspace=workspace.name))
        return redirect("workspace_home", slug=workspace.slug)
    messages.success(request, ROLE_CHANGED.format(name=member.user, role=role_phrase))
    return _back_to(request, membership, member)


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def admin_member_queues(request, membership, member_id: int):
    workspace = membership.workspace
    member = access.get_member_or_404(membership, member_id)
    form = MemberQueuesForm(request.POST, queues=selectors.queues_of(workspace=workspace))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back_to(request, membership, member)
    try:
        granted, revoked = services.member_queues_set(
            membership=member, queues=form.cleaned_data["queues"], actor=request.user, request=request
        )
    except ValidationError as error:
        messages.error(request, service_error_message(error))
        return _back_to(request, membership, member)
    template = QUEUES_UPDATED if granted or revoked else QUEUES_UNCHANGED
    messages.success(request, template.format(name=member.user))
    return _back_to(request, membership, member)


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_member_remove(request, membership, member_id: int):
    workspace = membership.workspace
    member = access.get_member_or_404(membership, member_id)
    is_last_admin = member.is_admin and selectors.admin_count(workspace=workspace) == 1
    if request.method == "POST":
        try:
            services.member_remove(membership=member, actor=request.user, request=request)
        except ValidationError as error:
            messages.error(request, service_error_message(error))
            return redirect("admin_member", slug=workspace.slug, member_id=member.pk)
        if member.pk == membership.pk:
            messages.success(request, MEMBER_REMOVED_SELF.format(workspace=workspace.name))
            return redirect("home")
        messages.success(request, MEMBER_REMOVED.format(name=member.user, workspace=workspace.name))
        return redirect("admin_members", slug=workspace.slug)
    return render(
        request,
        "workspaces/admin_member_remove.html",
        {
            "membership": membership,
            "member": member,
            "is_last_admin": is_last_admin,
            "last_admin_message": services.LAST_ADMIN,
            "admin_tab": "members",
        },
    )


# Invitations --------------------------------------------------------------------------------


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_invite(request, membership):
    workspace = membership.workspace
    form = InviteForm(request.POST or None, queues=selectors.queues_of(workspace=workspace))
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                workspace=workspace,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                queues=form.cleaned_data["queues"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if invitation.email_sent is False:
                messages.error(request, INVITATION_NOT_SENT.format(email=invitation.email))
            else:
                messages.success(
                    request,
                    INVITATION_SENT.format(email=invitation.email, days=settings.INVITATION_VALID_DAYS),
                )
            return redirect("admin_members", slug=workspace.slug)
    return render(
        request,
        "workspaces/admin_invite.html",
        {"membership": membership, "form": form, "admin_tab": "members"},
    )


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def admin_invitation_revoke(request, membership, invitation_id: int):
    workspace = membership.workspace
    invitation = access.get_invitation_or_404(membership, invitation_id)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user, request=request)
    except services.InvitationError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, INVITATION_REVOKED_DONE.format(email=invitation.email))
    return redirect("admin_members", slug=workspace.slug)


# Queues -------------------------------------------------------------------------------------------


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_queues(request, membership):
    workspace = membership.workspace
    form = QueueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            queue = services.queue_create(
                workspace=workspace, name=form.cleaned_data["name"], actor=request.user, request=request
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, QUEUE_CREATED.format(name=queue.name))
            return redirect("admin_queues", slug=workspace.slug)
    return render(
        request,
        "workspaces/admin_queues.html",
        {
            "membership": membership,
            "queues": selectors.queues_with_counts(workspace=workspace),
            "form": form,
            "admin_tab": "queues",
        },
    )


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_queue(request, membership, queue_id: int):
    workspace = membership.workspace
    queue = access.get_queue_or_404(membership, queue_id)
    form = QueueForm(request.POST or None, initial={"name": queue.name})
    if request.method == "POST" and form.is_valid():
        try:
            queue = services.queue_rename(
                queue=queue, name=form.cleaned_data["name"], actor=request.user, request=request
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, QUEUE_RENAMED.format(name=queue.name))
            return redirect("admin_queues", slug=workspace.slug)
    return render(
        request,
        "workspaces/admin_queue.html",
        {"membership": membership, "queue": queue, "form": form, "admin_tab": "queues"},
    )


# Accepting an invitation ------------------------------------------------------------------------


# The page shows the sentence; the audit log keeps a short code for it.
_REFUSAL_REASONS = {
    services.INVITATION_EXPIRED: "expired",
    services.INVITATION_USED: "used",
    services.INVITATION_REVOKED: "revoked",
    services.INVITATION_WRONG_ACCOUNT: "wrong_account",
    services.INVITATION_ALREADY_MEMBER: "already_member",
    services.INVITATION_ACCOUNT_EXISTS: "account_exists",
}


def _refuse(request, message: str, *, status: int, invitation=None):
    if invitation is not None:
        reason = _REFUSAL_REASONS.get(message, "other")
        events.invitation_refused(invitation=invitation, reason=reason, request=request)
    return render(
        request,
        "workspaces/invitation_invalid.html",
        {"message": message, "invitation": invitation},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    """The page an invitation email links to. GET shows; only POST accepts.

    Signed in as the invited email: a button creates the membership. No account for the email:
    a form asks for name and password and creates a confirmed account. An account exists but is
    not signed in: off to the login page, coming back here afterwards.
    """
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        return _refuse(request, services.INVITATION_UNKNOWN, status=404)
    problem = services.invitation_problem(invitation)
    if problem:
        return _refuse(request, problem, status=410, invitation=invitation)
    workspace = invitation.workspace
    user = request.user
    if user.is_authenticated:
        if BaseUserManager.normalize_email(user.email) != invitation.email.lower():
            return _refuse(request, services.INVITATION_WRONG_ACCOUNT, status=403, invitation=invitation)
        existing = user.memberships.filter(workspace=workspace).first()
        if existing is not None and not services.invitation_completes(invitation, existing):
            return _refuse(request, services.INVITATION_ALREADY_MEMBER, status=409, invitation=invitation)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=user, request=request)
            except services.InvitationError as error:
                return _refuse(request, service_error_message(error), status=409, invitation=invitation)
            messages.success(request, INVITATION_WELCOME.format(workspace=workspace.name))
            return redirect("workspace_home", slug=workspace.slug)
        return render(request, "workspaces/invitation_accept.html", {"invitation": invitation})

    # An account nobody can sign in to yet (a placeholder made when staff opened a ticket for this
    # address, or an unconfirmed sign-up) is taken up by the form below: the link proves the mailbox.
    if selectors.email_has_account(invitation.email, include_pending=False):
        messages.info(request, INVITATION_SIGN_IN.format(email=invitation.email, workspace=workspace.name))
        return redirect_to_login(request.get_full_path())

    form = AcceptNewAccountForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.invitation_accept_new_account(
                invitation=invitation,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except services.InvitationError as error:
            return _refuse(request, service_error_message(error), status=409, invitation=invitation)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            login(request, membership.user, backend=LOGIN_BACKEND)
            messages.success(request, INVITATION_WELCOME.format(workspace=workspace.name))
            return redirect("workspace_home", slug=workspace.slug)
    return render(request, "workspaces/invitation_signup.html", {"invitation": invitation, "form": form})
