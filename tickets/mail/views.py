"""/w/<slug>/admin/mailboxes/: admins add and change support mailboxes and see what became of
the mail each one took in (a refused message shows its reason: "No From address" ...)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from helpdesk.forms import apply_service_errors
from tickets.mail.forms import MailboxForm
from tickets.mail.selectors import mailbox_of, mailboxes_of, recent_inbound
from tickets.mail.services import mailbox_create, mailbox_update
from workspaces.access import ADMIN_ONLY, NOT_FOUND, workspace_view

RECENT = 50
MAILBOX_ADDED = "Mailbox {address} added."
MAILBOX_SAVED = "Mailbox {address} saved."


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_mailboxes(request, membership):
    workspace = membership.workspace
    form = MailboxForm(request.POST or None, workspace=workspace, has_secret=False)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = mailbox_create(
                workspace=workspace,
                values=form.values(),
                secret=form.cleaned_data["imap_secret"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _(MAILBOX_ADDED).format(address=mailbox.address))
            return redirect("admin_mailboxes", slug=workspace.slug)
    context = {
        "membership": membership,
        "form": form,
        "mailboxes": mailboxes_of(workspace),
        "recent": recent_inbound(workspace, limit=RECENT),
        "admin_tab": "mailboxes",
    }
    return render(request, "tickets/mail/admin_mailboxes.html", context, status=400 if form.errors else 200)


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def admin_mailbox(request, membership, mailbox_id: int):
    workspace = membership.workspace
    mailbox = mailbox_of(workspace, mailbox_id)
    if mailbox is None:
        raise Http404(NOT_FOUND)
    initial = {name: getattr(mailbox, name) for name in ("address", "queue", "unknown_reply", "is_active")}
    initial.update(
        {
            name: getattr(mailbox, name)
            for name in ("imap_host", "imap_port", "imap_security", "imap_user", "imap_folder")
        }
    )
    form = MailboxForm(
        request.POST or None,
        initial=initial,
        workspace=workspace,
        has_secret=bool(mailbox.imap_secret_sealed),
    )
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = mailbox_update(
                mailbox=mailbox,
                values=form.values(),
                secret=form.cleaned_data["imap_secret"],
                actor=request.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _(MAILBOX_SAVED).format(address=mailbox.address))
            return redirect("admin_mailbox", slug=workspace.slug, mailbox_id=mailbox.pk)
    context = {
        "membership": membership,
        "form": form,
        "mailbox": mailbox,
        "recent": recent_inbound(workspace, mailbox, limit=RECENT),
        "admin_tab": "mailboxes",
    }
    return render(request, "tickets/mail/admin_mailbox.html", context, status=400 if form.errors else 200)
