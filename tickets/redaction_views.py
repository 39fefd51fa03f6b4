"""Redaction pages: staff with the right role replace part of a message with "[redacted]" or
remove a whole attachment (tickets/redaction.py holds the rules). Anyone else gets the 404 of a
missing page, as for every agent-only action."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from helpdesk.forms import apply_service_errors
from tickets import access, redaction
from tickets.forms import AttachmentRedactForm, MessageRedactForm
from tickets.views import ticket_url
from workspaces.access import NOT_FOUND, workspace_view


def _allowed_or_404(membership) -> None:
    if not access.can_redact(membership):
        raise Http404(NOT_FOUND)


@workspace_view()
@require_http_methods(["GET", "POST"])
def message_redact(request, membership, number, message_id):
    _allowed_or_404(membership)
    ticket = access.get_ticket_or_404(membership, number)
    message = access.get_message_or_404(membership, ticket, message_id)
    form = MessageRedactForm(request.POST or None, initial={"text": request.GET.get("text", "")[:2000]})
    if request.method == "POST" and form.is_valid():
        try:
            message = redaction.message_redact(
                message=message,
                text=form.cleaned_data["text"],
                reason=form.cleaned_data["reason"],
                actor=membership.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The text was redacted."))
            return redirect(f"{ticket_url(membership, ticket)}#message-{message.pk}")
    context = {"membership": membership, "ticket": ticket, "message": message, "form": form}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "tickets/message_redact.html", context, status=status)


@workspace_view()
@require_http_methods(["GET", "POST"])
def attachment_redact(request, membership, number, attachment_id):
    _allowed_or_404(membership)
    ticket = access.get_ticket_or_404(membership, number)
    attachment = access.get_attachment_or_404(membership, number, attachment_id)
    form = AttachmentRedactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            redaction.attachment_redact(
                attachment=attachment,
                reason=form.cleaned_data["reason"],
                actor=membership.user,
                request=request,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The file was redacted and deleted from storage."))
            anchor = f"#message-{attachment.message_id}" if attachment.message_id else ""
            return redirect(f"{ticket_url(membership, ticket)}{anchor}")
    context = {"membership": membership, "ticket": ticket, "attachment": attachment, "form": form}
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "tickets/attachment_redact.html", context, status=status)
