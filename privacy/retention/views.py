"""Retention settings and legal holds, for a workspace's admins (everyone else gets the 404)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms import apply_service_errors, service_error_message
from privacy.personal_data.retention_kinds import retention_kind
from privacy.retention import holds as hold_services
from privacy.retention import selectors as retention_selectors
from privacy.retention.account_kinds import account_rows
from privacy.retention.forms import LegalHoldForm, RetentionForm
from privacy.retention.models import HoldScope, LegalHold
from privacy.retention.policies import (
    POLICY_CHANGED_SINCE,
    POLICY_WORDS,
    kind_rows,
    policy_for,
    policy_update,
    policy_values,
    policy_version,
    preview_workspace,
    shortened_kinds,
)
from workspaces.access import ADMIN_ONLY, NOT_FOUND, workspace_view

SAVED = _("Retention settings saved. The next run applies them.")
NOTHING_CHANGED = _("Nothing changed.")
CONFIRM_NEEDED = _("Shortening a period expires data at the next run. Check the figures below and confirm.")
HOLD_PLACED = _("Legal hold placed. Retention and account deletion now skip what it covers.")
HOLD_RELEASED = _("Legal hold released. From the next run, retention treats this data normally.")


def _period(days):
    return "forever" if days is None else f"{days} days"


def _confirmation(request, membership, form, old, new, shorter):
    """The page that shows what a shortening expires at the next run, and asks to confirm."""
    workspace = membership.workspace
    proposed = policy_for(workspace)
    for name, value in new.items():
        setattr(proposed, name, value)
    now_counts = preview_workspace(workspace)
    new_counts = preview_workspace(workspace, policy=proposed)
    changes = [
        {
            "label": retention_kind(kind).label,
            "old": _period(old[retention_kind(kind).days_field]),
            "new": _period(new[retention_kind(kind).days_field]),
            "due_now": now_counts[kind]["due"],
            "due_after": new_counts[kind]["due"],
        }
        for kind in shorter
    ]
    messages.warning(request, CONFIRM_NEEDED)
    return render(
        request,
        "privacy/retention_confirm.html",
        {"membership": membership, "form": form, "changes": changes, "admin_tab": "retention"},
    )


def _retention_post(request, membership, policy):
    """(response, None) when done (saved, unchanged, or the confirmation page), else (form,
    status) to show the settings page again with the form's errors."""
    workspace = membership.workspace
    form = RetentionForm(request.POST)
    if not form.is_valid():
        return form, 400
    seen = form.cleaned_data["seen"] or None
    if seen is not None and seen != policy_version(policy):
        # Refused before the confirmation step too: a stale page would otherwise ask to
        # confirm "shortening" what another admin has just lengthened.
        stale = ValidationError(POLICY_CHANGED_SINCE, code="changed_since")
        return _shown_again(request, policy, stale), 409
    old, new = policy_values(policy), form.cleaned_data["values"]
    if new == old:
        messages.info(request, NOTHING_CHANGED)
        return redirect("retention_settings", workspace.slug), None
    shorter = shortened_kinds(old, new)
    if shorter and not form.cleaned_data["confirm"]:
        return _confirmation(request, membership, form, old, new, shorter), None
    try:
        policy_update(workspace=workspace, actor=request.user, values=new, request=request, seen_version=seen)
    except ValidationError as error:
        if getattr(error, "code", None) != "changed_since":
            apply_service_errors(form, error)
            return form, 400
        return _shown_again(request, policy_for(workspace), error), 409
    messages.success(request, SAVED)
    return redirect("retention_settings", workspace.slug), None


def _shown_again(request, policy, error):
    data = request.POST.copy()
    data["seen"], data["confirm"] = policy_version(policy), ""
    form = RetentionForm(data)
    form.is_valid()
    apply_service_errors(form, error)
    return form


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def retention_settings(request, membership):
    workspace = membership.workspace
    policy = policy_for(workspace)
    if request.method == "POST":
        form, status = _retention_post(request, membership, policy)
        if status is None:
            return form  # a redirect or the confirmation page
        policy = policy_for(workspace)
    else:
        form = RetentionForm(initial=RetentionForm.initial_for(policy))
        status = 200
    counts = preview_workspace(workspace)
    return render(
        request,
        "privacy/retention.html",
        {
            "membership": membership,
            "form": form,
            "policy": policy,
            "policy_words": POLICY_WORDS,
            "rows": kind_rows(policy, counts),
            "installation_rows": account_rows(),
            "active_holds": retention_selectors.active_hold_count(workspace_id=workspace.pk),
            "last_run": retention_selectors.last_audited_run(workspace_id=workspace.pk),
            "admin_tab": "retention",
        },
        status=status,
    )


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET"])
def legal_holds(request, membership):
    holds = list(hold_services.holds_of(membership.workspace))
    active = [h for h in holds if h.is_active()]
    ended = [h for h in holds if not h.is_active()]
    return render(
        request,
        "privacy/legal_holds.html",
        {"membership": membership, "active": active, "ended": ended, "admin_tab": "holds"},
    )


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET", "POST"])
def legal_hold_new(request, membership):
    workspace = membership.workspace
    form = LegalHoldForm(request.POST or None, initial={"scope": HoldScope.PERSON})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = ticket = None
        if data["scope"] == HoldScope.PERSON:
            user = hold_services.person_in_workspace(workspace, data.get("email") or "")
            if user is None:
                form.add_error(
                    "email",
                    hold_services.PERSON_NOT_FOUND if data.get("email") else hold_services.PERSON_REQUIRED,
                )
        elif data["scope"] == HoldScope.TICKET:
            number = data.get("ticket_number")
            ticket = hold_services.ticket_in_workspace(workspace, number) if number else None
            if ticket is None:
                form.add_error(
                    "ticket_number",
                    hold_services.TICKET_NOT_FOUND if number else hold_services.TICKET_REQUIRED,
                )
        if not form.errors:
            try:
                hold = hold_services.legal_hold_place(
                    workspace=workspace,
                    actor=request.user,
                    scope=data["scope"],
                    reason=data["reason"],
                    user=user,
                    ticket=ticket,
                    ends_at=form.ends_at(),
                    request=request,
                )
            except ValidationError as error:
                apply_service_errors(form, error, fields={"ends_at": "ends_on"})
            else:
                messages.success(request, HOLD_PLACED)
                return redirect("legal_hold_detail", workspace.slug, hold.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "privacy/legal_hold_new.html",
        {"membership": membership, "form": form, "admin_tab": "holds"},
        status=status,
    )


def _hold_or_404(membership, hold_id):
    try:
        return hold_services.hold_in(membership.workspace, hold_id)
    except LegalHold.DoesNotExist:
        raise Http404(NOT_FOUND) from None


@workspace_view(roles=ADMIN_ONLY)
@require_http_methods(["GET"])
def legal_hold_detail(request, membership, hold_id):
    hold = _hold_or_404(membership, hold_id)
    tickets, total = hold_services.held_items(hold)
    return render(
        request,
        "privacy/legal_hold_detail.html",
        {
            "membership": membership,
            "hold": hold,
            "active": hold.is_active(),
            "tickets": tickets,
            "total": total,
            "admin_tab": "holds",
        },
    )


@workspace_view(roles=ADMIN_ONLY)
@require_POST
def legal_hold_release(request, membership, hold_id):
    hold = _hold_or_404(membership, hold_id)
    try:
        hold_services.legal_hold_release(hold=hold, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, service_error_message(error))
    else:
        messages.success(request, HOLD_RELEASED)
    return redirect("legal_hold_detail", membership.workspace.slug, hold.pk)
