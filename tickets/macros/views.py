"""Macro pages (staff only): the list of shared and personal macros, new, change, delete; and the
reply box's two doors: the rendered text of a macro for one ticket (JSON, for macros.js) and
"Insert" without JavaScript (a form round trip that keeps the typed text).

Requesters get the same 404 as a stranger (``workspace_view(roles=...)``); a macro out of reach
(someone else's personal one, another workspace's) is the 404 of a missing one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import apply_service_errors
from tickets import access
from tickets.forms import ReplyForm
from tickets.macros import access as macro_access
from tickets.macros import placeholders, services
from tickets.macros.display import effects_text
from tickets.macros.forms import MacroForm
from tickets.views import STAFF_ROLES, _reachable_ticket, _render_ticket, ticket_unavailable
from workspaces.access import workspace_view

MACRO_CREATED = gettext_lazy("Macro “{name}” was created.")
MACRO_SAVED = gettext_lazy("Macro “{name}” was saved.")
MACRO_DELETED = gettext_lazy("Macro “{name}” was deleted.")
MACRO_INSERTED = gettext_lazy(
    "Macro “{name}” was added to your message. Check it, then send it with one of the buttons."
)
CHOOSE_A_MACRO = gettext_lazy("Choose a macro to insert.")
MACRO_NOT_INSERTED = gettext_lazy("The macro was not inserted")
FIX_BELOW = gettext_lazy("Please fix the problems below; nothing was lost.")


def _values(macro) -> dict:
    return {
        "name": macro.name,
        "shortcut": macro.shortcut,
        "kind": macro.get_kind_display(),
        "status": macro.get_status_display() if macro.status else "",
        "priority": macro.get_priority_display() if macro.priority else "",
        "tags": ", ".join(macro.tags or []),
    }


@workspace_view(roles=STAFF_ROLES)
@require_GET
def macro_list(request, membership):
    macros = list(macro_access.visible_macros(membership))
    context = {
        "membership": membership,
        "shared": [m for m in macros if m.is_shared],
        "personal": [m for m in macros if not m.is_shared],
        "may_share": macro_access.can_manage_shared(membership),
        "placeholders": placeholders.PLACEHOLDERS,
    }
    return render(request, "tickets/macros/macro_list.html", context)


@workspace_view(roles=STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def macro_new(request, membership):
    may_share = macro_access.can_manage_shared(membership)
    initial = {"scope": "shared"} if may_share and request.GET.get("scope") == "shared" else None
    form = MacroForm(request.POST or None, initial=initial, may_share=may_share)
    if request.method == "POST":
        if form.is_valid():
            try:
                macro = services.macro_create(
                    workspace=membership.workspace,
                    owner=None if (may_share and form.shared()) else membership.user,
                    values=form.values(),
                    actor=membership.user,
                    request=request,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, MACRO_CREATED.format(name=macro.name))
                return redirect("macro_list", slug=membership.workspace.slug)
        messages.error(request, FIX_BELOW)
    context = {"membership": membership, "form": form, "macro": None}
    return render(request, "tickets/macros/macro_form.html", context, status=400 if form.errors else 200)


@workspace_view(roles=STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def macro_edit(request, membership, macro_id):
    macro = macro_access.get_manageable_macro_or_404(membership, macro_id)
    form = MacroForm(request.POST or None, initial=MacroForm.initial_of(macro), may_share=False, editing=True)
    current = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                macro = services.macro_update(
                    macro=macro,
                    values=form.values(),
                    seen_version=form.cleaned_data["version"],
                    actor=membership.user,
                    request=request,
                )
            except ValidationError as error:
                if getattr(error, "code", None) == "changed_since":
                    # The person's text stays in the form, which now carries the newer version:
                    # they see what the macro holds now and save again on purpose.
                    macro = macro_access.get_manageable_macro_or_404(membership, macro_id)
                    data = request.POST.copy()
                    data["version"] = macro.version
                    form = MacroForm(data, may_share=False, editing=True)
                    form.is_valid()
                    current = _values(macro)
                    current["body"] = macro.body
                    status = 409
                apply_service_errors(form, error)
            else:
                messages.success(request, MACRO_SAVED.format(name=macro.name))
                return redirect("macro_list", slug=membership.workspace.slug)
        status = status if status != 200 else 400
    context = {"membership": membership, "form": form, "macro": macro, "current": current}
    return render(request, "tickets/macros/macro_form.html", context, status=status)


@workspace_view(roles=STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def macro_delete(request, membership, macro_id):
    macro = macro_access.get_manageable_macro_or_404(membership, macro_id)
    if request.method == "POST":
        services.macro_delete(macro=macro, actor=membership.user, request=request)
        messages.success(request, MACRO_DELETED.format(name=macro.name))
        return redirect("macro_list", slug=membership.workspace.slug)
    return render(request, "tickets/macros/macro_delete.html", {"membership": membership, "macro": macro})


# The reply box ----------------------------------------------------------------------------------


@never_cache
@workspace_view(roles=STAFF_ROLES)
@require_GET
def ticket_macro_render(request, membership, number, macro_id):
    """The macro's text for this ticket and this agent, placeholders filled in (JSON). Staff who
    see the ticket and the macro; 404 otherwise, as for a missing one."""
    ticket = access.get_ticket_or_404(membership, number)
    macro = macro_access.get_macro_or_404(membership, macro_id)
    text = placeholders.render(macro.body, ticket=ticket, agent=membership.user)
    return JsonResponse(
        {
            "id": macro.pk,
            "name": macro.name,
            "kind": macro.kind,
            "text": text,
            "effects": effects_text(macro),
        }
    )


@workspace_view(roles=STAFF_ROLES)
@require_POST
def ticket_macro_insert(request, membership, number):
    """The reply box without JavaScript: the picked macro's text is added after what was typed
    and the ticket page shown again with it (and the macro to apply when sent)."""
    ticket = _reachable_ticket(membership, number)
    if ticket is None:
        return ticket_unavailable(request, membership, number, refused=MACRO_NOT_INSERTED)
    typed = request.POST.get("body", "")
    macro = macro_access.find_usable_macro(membership, request.POST.get("macro_pick"))
    if macro is None:
        messages.error(request, CHOOSE_A_MACRO)
        form = ReplyForm(initial={"body": typed}, membership=membership)
        return _render_ticket(request, membership, ticket, reply_form=form, status=400)
    text = placeholders.render(macro.body, ticket=ticket, agent=membership.user)
    body = f"{typed.rstrip()}\n\n{text}" if typed.strip() else text
    form = ReplyForm(initial={"body": body, "macro": macro.pk}, membership=membership)
    messages.info(request, MACRO_INSERTED.format(name=macro.name))
    return _render_ticket(request, membership, ticket, reply_form=form)
