"""The list's bulk action bar and the merge page (issue 13). Staff only: requesters get the same
404 as a stranger. Logic lives in tickets/bulk.py and tickets/merge.py; these validate, call one
of them and redirect with a report.

The bar is a plain form (checkboxes + one "change" select + Apply), so it works without
JavaScript; static/js/bulk.js only shows it when rows are ticked and counts them.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms import service_error_message
from tickets import access, bulk, merge
from workspaces.access import workspace_view
from workspaces.models import Role

STAFF_ROLES = (Role.ADMIN, Role.AGENT)
MERGE_DONE = _("#{source} was merged into #{target} and closed. Both tickets have a note about it.")
MERGE_CHOOSE = _("Choose which ticket is merged into the other.")


def _numbers(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()][: bulk.BULK_MAX + 1]


def _list_url(membership, back: str) -> str:
    """The list with the filters and view the bar was posted from (a query string only: a
    posted ``back`` can never send the person to another path or site)."""
    query = QueryDict(back.lstrip("?"), mutable=True)
    for key in ("after", "before"):
        # Rows changed by the bulk may have moved: a cursor would skip or repeat some.
        query.pop(key, None)
    url = reverse("ticket_list", kwargs={"slug": membership.workspace.slug})
    return f"{url}?{query.urlencode()}" if query else url


@workspace_view(roles=STAFF_ROLES)
@require_POST
def ticket_bulk(request, membership):
    numbers = _numbers(request.POST.getlist("tickets"))
    if request.POST.get("all_on_page"):
        numbers = sorted({*numbers, *_numbers(request.POST.get("page_tickets", "").split(","))})
    back = _list_url(membership, request.POST.get("back", ""))
    change = request.POST.get("change", "")
    if change.startswith("tags:"):
        change = f"{change}:{request.POST.get('tag_names', '')}"
    if change == "merge":
        if len(set(numbers)) != 2:
            messages.error(request, merge.MERGE_NEEDS_TWO)
            return redirect(back)
        query = QueryDict(mutable=True)
        query.setlist("tickets", [str(n) for n in sorted(set(numbers))])
        query["back"] = request.POST.get("back", "")
        return redirect(
            f"{reverse('ticket_merge', kwargs={'slug': membership.workspace.slug})}?{query.urlencode()}"
        )
    seen = {}
    for number in numbers:
        token = request.POST.get(f"seen-{number}")
        if token:
            seen[number] = token
    try:
        action, value = bulk.parse_change(change)
        report = bulk.bulk_apply(
            membership=membership,
            numbers=numbers,
            action=action.name,
            value=value,
            actor=membership.user,
            request=request,
            seen=seen,
        )
    except ValidationError as error:
        messages.error(request, service_error_message(error))
        return redirect(back)
    level = messages.success if not report.not_changed else messages.warning
    level(request, report.summary())
    return redirect(back)


def _merge_pair(membership, numbers):
    if len(set(numbers)) != 2:
        return None
    try:
        return [access.get_ticket_or_404(membership, n) for n in sorted(set(numbers))]
    except Http404:
        return None


@workspace_view(roles=STAFF_ROLES)
@require_http_methods(["GET", "POST"])
def ticket_merge(request, membership):
    """GET ``?tickets=M&tickets=N`` (``&source=M`` preselects the one that closes): both tickets
    side by side and which one is merged. POST the same ``tickets`` and the chosen ``source``:
    the merge (the other one is the target)."""
    data = request.POST if request.method == "POST" else request.GET
    back = data.get("back", "")
    numbers = _numbers(data.getlist("tickets"))
    pair = _merge_pair(membership, numbers)
    if pair is None:
        if len(set(numbers)) != 2:
            messages.error(request, merge.MERGE_NEEDS_TWO)
            return redirect(_list_url(membership, back))
        raise Http404(merge.MERGE_NOT_VISIBLE)
    error = None
    if request.method == "POST":
        chosen = data.get("source", "")
        source = next((t for t in pair if str(t.number) == chosen), None)
        target = pair[1] if source is pair[0] else pair[0]
        if source is None:
            error = str(MERGE_CHOOSE)
        else:
            try:
                merge.ticket_merge(
                    membership=membership,
                    source=source,
                    target=target,
                    actor=membership.user,
                    request=request,
                )
            except ValidationError as problem:
                error = service_error_message(problem)
            else:
                messages.success(request, MERGE_DONE.format(source=source.number, target=target.number))
                return redirect("ticket_detail", slug=membership.workspace.slug, number=target.number)
    chosen = data.get("source", "")
    source_number = int(chosen) if chosen.isdigit() else pair[0].number
    options = []
    for source in pair:
        target = pair[1] if source is pair[0] else pair[0]
        problem = merge.merge_problem(source=source, target=target)
        options.append({"source": source, "target": target, "problem": problem, "checked": False})
    possible = [o for o in options if not o["problem"]]
    pick = next(
        (o for o in possible if o["source"].number == source_number), possible[0] if possible else None
    )
    if pick is not None:
        pick["checked"] = True
    context = {
        "membership": membership,
        "tickets": pair,
        "options": options,
        "possible": bool(possible),
        "error": error,
        "back": back,
        "list_url": _list_url(membership, back),
    }
    return render(request, "tickets/ticket_merge.html", context, status=400 if error else 200)
