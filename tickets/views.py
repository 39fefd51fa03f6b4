"""Ticket pages. Each view validates a form, calls one service or selector, and renders.

Tickets are only ever reached through ``tickets.access`` (never through a model manager here), and
every refusal is the same 404 as a missing ticket.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import apply_service_errors, service_error_message
from helpdesk.markdown import mentions_in
from helpdesk.text import strip_bidi
from privacy.audit import events
from tickets import (
    access,
    custom_fields,
    list_page,
    list_views,
    reads,
    saved_view_services,
    selectors,
    services,
    tag_field_pages,
    tags,
    workspace_cache,
)
from tickets.attachments import attachments_record_rejected
from tickets.forms import (
    MessageEditForm,
    ParticipantAddForm,
    ReplyForm,
    TicketCreateForm,
    TicketFilterForm,
    TicketPropertiesForm,
)
from tickets.macros import send as macro_send
from tickets.macros import services as macro_services
from tickets.mail import outgoing
from tickets.mail import selectors as mail_selectors
from tickets.models import MessageKind, Status
from tickets.tag_field_forms import add_value_fields, posted_values
from workspaces.access import NOT_FOUND, workspace_view
from workspaces.models import Role

STAFF_ROLES = (Role.ADMIN, Role.AGENT)

PAGE_SIZE = selectors.PAGE_SIZE

TICKET_CREATED = _("Ticket #{number} was opened.")
REQUESTER_INVITED = _("{email} is now a requester here and was emailed an invitation to follow the ticket.")
TICKET_CREATED_ELSEWHERE = _(
    "Ticket #{number} was opened in the {queue} queue. You do not work that queue, so it is not in your list."
)
REPLY_POSTED = _("Your reply was posted.")
REPLY_POSTED_STATUS = _("Your reply was posted and the ticket is now {status}.")
NOTE_POSTED = _("Your internal note was added. Only agents and admins can see it.")
TICKET_UPDATED = _("The ticket was updated.")
TICKET_UNCHANGED = _("Nothing was changed.")
TICKET_CLOSED = _("The ticket is closed. Reply to it if you need to open it again.")
TICKET_MOVED_AWAY = _("Ticket #{number} moved to {queue}; you no longer see it.")
PARTICIPANT_ADDED = _("{name} was added to the ticket.")
PARTICIPANT_REMOVED = _("{name} was removed from the ticket.")
MESSAGE_EDITED = _("Your message was updated.")
MENTION_NOT_NOTIFIED = _(
    "Not notified: {names}. Only agents and admins who can see this ticket are told about a mention."
)
MENTION_LIMIT = 8
FIX_BELOW = _("Please fix the problems below; nothing was lost.")
# A ticket the person cannot reach: one answer for missing, forbidden and moved away (so nothing
# tells them which), and a refused post says so and keeps what was typed.
TICKET_UNAVAILABLE = _("Ticket #{number} does not exist, or you no longer have access to it.")
TICKET_UNAVAILABLE_STAFF = _(
    "Ticket #{number} does not exist, or you no longer have access to it: it may have moved to a "
    "queue you do not work, or your access to its queue was changed."
)
REPLY_NOT_SENT = _("Your message was not sent")
CHANGES_NOT_SAVED = _("Your changes were not saved")


def _forbid_unless(allowed: bool) -> None:
    if not allowed:
        raise Http404(NOT_FOUND)


def ticket_url(membership, ticket) -> str:
    return reverse("ticket_detail", kwargs={"slug": membership.workspace.slug, "number": ticket.number})


# The list -----------------------------------------------------------------------------------


def _page_link(request, view=None, **cursor) -> str:
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    if view is not None:
        params["view"] = view.key  # the default view, named, so the next page stays in it
    params.update(cursor)
    return "?" + params.urlencode()


@dataclass
class _ListRequest:
    """What a list request asks for: its view or saved view, and the filters they and the
    filter form make."""

    params: QueryDict
    saved: list
    saved_view: object
    view: object
    choices: object
    form: TicketFilterForm
    filters: selectors.TicketFilters
    unseen_queue: bool


def _list_request(request, membership) -> _ListRequest:
    params = request.GET.copy()
    saved = saved_view_services.listed_views(membership)
    saved_view = saved_view_services.chosen(saved, params.get("view"))
    view = list_views.chosen_view(membership, params)
    if saved_view is not None:
        params = saved_view_services.query_of(saved_view.params, params)
    params.pop("view", None)
    # The queues and staff offered by the filters and the bulk bar: read once for the page.
    choices = selectors.list_choices(membership)
    form = TicketFilterForm(params or None, membership=membership, choices=choices)
    values = form.values()
    unseen_queue = False
    if saved_view is not None:
        values, unseen_queue = saved_view_services.filter_values(form, saved_view.params)
    filters = selectors.TicketFilters(**list_views.with_view(view, values))
    return _ListRequest(params, saved, saved_view, view, choices, form, filters, unseen_queue)


@workspace_view()
@require_GET
def ticket_list(request, membership):
    asked = _list_request(request, membership)
    params, saved, saved_view, view = asked.params, asked.saved, asked.saved_view, asked.view
    choices, form, filters, unseen_queue = asked.choices, asked.form, asked.filters, asked.unseen_queue
    page = selectors.ticket_list_page(
        membership=membership,
        filters=filters,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        page_size=PAGE_SIZE,
        choices=choices,
    )
    if membership.is_staff:
        tags.attach_tag_names(page.tickets)  # the rows' tag chips, unless read with the page
    shown_sort = selectors.sort_in_effect(filters)
    if form.is_bound and form.data.get("sort") != shown_sort:
        # The "Sort by" box shows the order the list is in ("Best match" for a search).
        form.data = form.data.copy()
        form.data["sort"] = shown_sort
    searching = page.hits is not None
    # Every view's count, saved views' too, in one query (tickets.list_views.counts). Saved
    # searches are counted once the page has loaded (the counts endpoint): a search over a
    # million tickets must not hold the list up. On a search's own page every count waits for
    # the page to load: none is about the search, and their query was 2-3 ms of a search's
    # SQL at 1M tickets.
    counted = {} if searching else saved_view_services.list_counts(membership, saved, choices, searches=False)
    dated = not searching and (filters.sort or selectors.DEFAULT_SORT) in ("updated", "created")
    dated = dated and filters.descending
    context = {
        "membership": membership,
        "form": form,
        "list_choices": choices,
        "page": page,
        "tickets": page.tickets,
        "filters": filters,
        "hits": page.hits,
        "filtered": saved_view is not None
        or any(k not in ("sort", "dir", "view") and v for k, v in request.GET.items()),
        "view": view,
        # Live rows of new tickets belong on the first page of a view (live.js keeps to the
        # view's preset), never on a page narrowed by the person's own filters.
        "takes_new_rows": saved_view is None
        and not any(k not in ("sort", "dir", "view") and v for k, v in request.GET.items()),
        "views": list_views.views_with_counts(membership, counted, later=searching),
        # Saved views (tickets/saved_view_services.py): one query, and a capped count for the first few.
        "saved_views": saved_view_services.views_with_counts(membership, saved, counted, later=searching),
        "saved_view": saved_view,
        "saved_view_unseen_queue": unseen_queue,
        "filters_to_save": saved_view_services.query_to_save(view, params),
        "newer_url": _page_link(request, view, before=page.newer_cursor) if page.newer_cursor else None,
        "older_url": _page_link(request, view, after=page.older_cursor) if page.older_cursor else None,
        "newer_label": "Newer" if dated else "Previous",
        "older_label": "Older" if dated else "Next",
        # A page of a search's newest matches has its count fetched once loaded.
        "search_count_url": (
            _search_count_url(request, membership) if searching and not page.hits.counted else ""
        ),
    }
    if membership.is_staff:
        context["bulk_bar"] = list_page.bulk_bar(request=request, tickets=page.tickets, choices=choices)
    return render(request, "tickets/ticket_list.jinja", context)


@workspace_view()
@require_GET
@never_cache
def ticket_view_counts(request, membership):
    """The list views' counts as JSON, for the list page to refresh them live."""
    saved = saved_view_services.listed_views(membership)
    counted = saved_view_services.list_counts(membership, saved, selectors.list_choices(membership))
    return JsonResponse({key: list_views.count_label(n) for key, n in counted.items()})


def _search_count_url(request, membership) -> str:
    address = reverse("ticket_search_count", kwargs={"slug": membership.workspace.slug})
    return f"{address}?{request.GET.urlencode()}"


@workspace_view()
@require_GET
@never_cache
def ticket_search_count(request, membership):
    """How many tickets a list page's search matches, as the page words it, as JSON: a page of
    a search's newest subject matches is shown before they are counted (static/js/search_count.js)."""
    asked = _list_request(request, membership)
    if not selectors.search_query(asked.filters):
        return JsonResponse({"html": ""})
    hits = selectors.counted_search(membership=membership, filters=asked.filters, choices=asked.choices)
    # Escaped as the page escapes it: the script puts it in as markup.
    context = {"hits": hits, "filters": asked.filters}
    summary = render_to_string("tickets/_search_summary.jinja", context, request=request)
    return JsonResponse({"html": summary.strip()})


# A new ticket -------------------------------------------------------------------------------


@workspace_view()
@require_http_methods(["GET", "POST"])
def ticket_new(request, membership):
    form = TicketCreateForm(request.POST or None, request.FILES or None, membership=membership)
    # Custom fields visible to requesters are asked of them here (issue 13).
    asked = tag_field_pages.fields_asked_on_new_ticket(membership)
    add_value_fields(form, asked, before="attachments", staff_notes=False)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            invitee = form.requester_to_invite()
            ticket_fields = {
                "workspace": membership.workspace,
                "queue": data["queue"],
                "subject": data["subject"],
                "description": data["description"],
                "priority": data["priority"],
                "actor": membership.user,
                "request": request,
                "attachments": data.get("attachments") or (),
            }
            try:
                if invitee:
                    ticket, _invitation = services.ticket_create_for_invitee(email=invitee, **ticket_fields)
                    messages.info(request, REQUESTER_INVITED.format(email=invitee))
                else:
                    with transaction.atomic():
                        ticket = services.ticket_create(
                            requester=data.get("requester") or membership.user, **ticket_fields
                        )
                        if asked:
                            custom_fields.ticket_set_field_values(
                                ticket=ticket,
                                values=posted_values(form, asked),
                                actor=membership.user,
                                request=request,
                                for_requester=True,
                            )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                if not access.can_see_ticket(membership, ticket.pk):
                    messages.success(
                        request,
                        TICKET_CREATED_ELSEWHERE.format(number=ticket.number, queue=ticket.queue.name),
                    )
                    return redirect("ticket_list", slug=membership.workspace.slug)
                messages.success(request, TICKET_CREATED.format(number=ticket.number))
                return redirect("ticket_detail", slug=membership.workspace.slug, number=ticket.number)
        attachments_record_rejected(form, membership=membership, request=request)
        messages.error(request, FIX_BELOW)
    status = 400 if form.is_bound else 200
    return render(request, "tickets/ticket_new.html", {"form": form, "membership": membership}, status=status)


# The ticket page ----------------------------------------------------------------------------


def _reachable_ticket(membership, number):
    """The ticket, or None when the member may not see it (missing and forbidden alike)."""
    try:
        return access.get_ticket_or_404(membership, number, extras=selectors.TICKET_PAGE_READS)
    except Http404:
        return None


def ticket_unavailable(request, membership, number, *, refused=None):
    """The 404 of a ticket page or of a post to it. Unlike the site's plain 404 it keeps the
    person's work: the posted reply in a box (and, through drafts.js, the draft of a plain
    visit), and says the post was refused; the same for a ticket that never existed. Audited
    like every ticket out of reach (``workspace_view`` does it for a raised 404)."""
    events.access_refused(request, workspace=membership.workspace, reason=events.REFUSED_NOT_VISIBLE)
    reason = TICKET_UNAVAILABLE_STAFF if membership.is_staff else TICKET_UNAVAILABLE
    context = {
        "membership": membership,
        "number": number,
        "refused": refused,
        "reason": reason.format(number=number),
        "body": request.POST.get("body", "") if request.method == "POST" else "",
    }
    return render(request, "tickets/ticket_unavailable.html", context, status=404)


def _render_ticket(
    request, membership, ticket, *, reply_form=None, properties_form=None, status=200, tag_field_forms=None
):
    staff = membership.is_staff
    if staff:
        if request.method == "GET":
            events.ticket_viewed(membership=membership, ticket=ticket, request=request)
            reads.mark_seen(membership=membership, ticket=ticket)
    context = {
        "membership": membership,
        "ticket": ticket,
        "is_staff": staff,
        "conversation": selectors.ticket_messages(membership=membership, ticket=ticket, full_emails=staff),
        "participants": access.participants_of(ticket),
        "reply_form": reply_form or ReplyForm(membership=membership),
        "can_close": access.can_close(membership, ticket),
        "is_closed": ticket.status in (Status.SOLVED, Status.CLOSED),
        "requester_restricted": selectors.requester_restricted_since(ticket) if staff else None,
    }
    shown = selectors.ticket_page_workspace(membership) if staff else None
    # Tags and custom fields (issue 13): tickets/tag_field_pages.py.
    has_fields = shown[workspace_cache.CUSTOM_FIELDS] if staff else True
    context.update(
        tag_field_pages.ticket_context(membership, ticket, has_fields=has_fields, **(tag_field_forms or {}))
    )
    if staff:
        context["workspace_macros"] = shown[workspace_cache.MACROS]
        context["properties_form"] = properties_form or TicketPropertiesForm(
            membership=membership,
            ticket=ticket,
            queues=shown[workspace_cache.QUEUES],
            staff=selectors.queue_staff_of(shown, ticket.queue_id),
        )
        context["participant_form"] = ParticipantAddForm(ticket=ticket)
        # The email channel: addresses mail bounced from, and the whole of trimmed emails.
        context["failing_addresses"] = mail_selectors.failing_addresses_of_ticket(
            ticket, context["participants"]
        )
        context["email_failures"] = [
            (email, outgoing.failure_reason(email.error)) for email in outgoing.failed_emails(ticket)
        ]
    return render(request, "tickets/ticket_detail.jinja", context, status=status)


@workspace_view()
@require_http_methods(["GET", "POST"])
def ticket_detail(request, membership, number):
    """The ticket page; a POST is the reply box (reply or, for staff, internal note)."""
    ticket = _reachable_ticket(membership, number)
    if ticket is None:
        return ticket_unavailable(
            request, membership, number, refused=REPLY_NOT_SENT if request.method == "POST" else None
        )
    if request.method == "GET":
        return _render_ticket(request, membership, ticket)
    form = ReplyForm(request.POST, request.FILES, membership=membership)
    if form.is_valid():
        kind = form.posted_kind()
        _forbid_unless(kind == MessageKind.REPLY or access.can_post_note(membership))
        macro, macro_changed = None, {}
        try:
            # -- Macros (tickets/macros): the inserted macro's changes are applied with the send. --
            macro = macro_send.macro_of_send(form, membership=membership, ticket=ticket)
            if macro is not None:
                message, macro_changed = macro_services.message_post_with_macro(
                    macro=macro,
                    ticket=ticket,
                    author=membership.user,
                    kind=kind,
                    body=form.cleaned_data["body"],
                    request=request,
                    attachments=form.cleaned_data.get("attachments") or (),
                    then_status=form.then_status(),
                )
            else:
                message = services.message_post(
                    ticket=ticket,
                    author=membership.user,
                    kind=kind,
                    body=form.cleaned_data["body"],
                    request=request,
                    attachments=form.cleaned_data.get("attachments") or (),
                    then_status=form.then_status(),
                )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if message.is_note:
                messages.success(request, NOTE_POSTED)
                _warn_unreachable_mentions(request, ticket, message.body)
            elif form.then_status() or "status" in macro_changed:
                messages.success(request, REPLY_POSTED_STATUS.format(status=ticket.get_status_display()))
            else:
                messages.success(request, REPLY_POSTED)
            macro_send.report_applied(request, macro, macro_changed)
            return redirect(f"{ticket_url(membership, ticket)}#message-{message.pk}")
    attachments_record_rejected(form, membership=membership, ticket=ticket, request=request)
    return _render_ticket(request, membership, ticket, reply_form=form, status=400)


def _warn_unreachable_mentions(request, ticket, body: str) -> None:
    unreachable = selectors.mentions_unreachable(ticket=ticket, mentions=mentions_in(body))
    if unreachable:
        names = ", ".join(f"@{strip_bidi(name)}" for name in unreachable)
        messages.warning(request, MENTION_NOT_NOTIFIED.format(names=names))


@never_cache
@workspace_view(roles=STAFF_ROLES)
@require_GET
def mention_candidates(request, membership, number):
    """Staff: who a note on this ticket may mention (``?q=`` part of a name or email), as JSON
    for the note box's autocomplete. Requesters get the same 404 as a missing ticket (audited
    as a refused role)."""
    ticket = access.get_ticket_or_404(membership, number)
    query = request.GET.get("q", "")[:100]
    people = selectors.mention_candidates(ticket=ticket, query=query, limit=MENTION_LIMIT)
    results = []
    for user in people:
        # Brackets and parentheses would end the reference early: the name is shown without them.
        name = "".join(c for c in strip_bidi(user.display_name or user.email) if c not in "[]()\n\r")
        you = user.pk == membership.user_id
        results.append({"id": user.pk, "name": name, "email": user.email, "you": you})
    return JsonResponse({"results": results})


@workspace_view()
@require_POST
def ticket_properties(request, membership, number):
    """Staff: status, priority, queue and assignee in one form, applied all or nothing, and only
    the fields the person changed (a compare-and-set against the version they saw, issue 17)."""
    ticket = _reachable_ticket(membership, number)
    if ticket is None:
        return ticket_unavailable(request, membership, number, refused=CHANGES_NOT_SAVED)
    _forbid_unless(access.can_change_status(membership, ticket) and access.can_assign(membership))
    form = TicketPropertiesForm(request.POST, membership=membership, ticket=ticket)
    if form.is_valid():
        try:
            outcome = services.ticket_update_properties(
                ticket=ticket,
                actor=membership.user,
                seen_version=form.cleaned_data["version"],
                seen=form.seen(),
                wanted=form.wanted(),
                request=request,
            )
        except services.PropertiesConflict as conflict:
            # Shown again over the ticket as it is now: the person's choices, the new version.
            ticket = conflict.ticket
            form = TicketPropertiesForm(form.data_over(ticket), membership=membership, ticket=ticket)
            form.is_valid()
            form.add_error(None, conflict.message)
            return _render_ticket(request, membership, ticket, properties_form=form, status=409)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            ticket = outcome.ticket
            if not outcome.applied:
                messages.info(
                    request, " ".join(str(part) for part in (outcome.changed_since, TICKET_UNCHANGED) if part)
                )
                return redirect(ticket_url(membership, ticket))
            if not access.can_see_ticket(membership, ticket.pk):
                messages.info(
                    request, TICKET_MOVED_AWAY.format(number=ticket.number, queue=ticket.queue.name)
                )
                return redirect("ticket_list", slug=membership.workspace.slug)
            if outcome.changed_since:
                merged = services.PROPERTIES_MERGED.format(since=outcome.changed_since)
                messages.success(request, f"{TICKET_UPDATED} {merged}")
            else:
                messages.success(request, TICKET_UPDATED)
            return redirect(ticket_url(membership, ticket))
    return _render_ticket(request, membership, ticket, properties_form=form, status=400)


@workspace_view()
@require_POST
def ticket_close(request, membership, number):
    """Close the ticket: its requester may, and staff (who also have the properties form)."""
    ticket = access.get_ticket_or_404(membership, number)
    _forbid_unless(access.can_close(membership, ticket))
    services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=membership.user, request=request)
    messages.success(request, TICKET_CLOSED)
    return redirect(ticket_url(membership, ticket))


@workspace_view()
@require_POST
def ticket_participant_add(request, membership, number):
    ticket = access.get_ticket_or_404(membership, number)
    _forbid_unless(access.can_manage_participants(membership))
    form = ParticipantAddForm(request.POST, ticket=ticket)
    if form.is_valid():
        user = form.cleaned_data["user"]
        try:
            services.participant_add(ticket=ticket, user=user, actor=membership.user, request=request)
        except ValidationError as error:
            messages.error(request, service_error_message(error))
        else:
            messages.success(request, PARTICIPANT_ADDED.format(name=user))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(f"{ticket_url(membership, ticket)}#participants")


@workspace_view()
@require_POST
def ticket_participant_remove(request, membership, number, user_id):
    ticket = access.get_ticket_or_404(membership, number)
    _forbid_unless(access.can_manage_participants(membership))
    participant = access.get_participant_or_404(ticket, user_id)
    services.participant_remove(ticket=ticket, user=participant.user, actor=membership.user, request=request)
    messages.success(request, PARTICIPANT_REMOVED.format(name=participant.user))
    return redirect(f"{ticket_url(membership, ticket)}#participants")


@workspace_view()
@require_http_methods(["GET", "POST"])
def message_edit(request, membership, number, message_id):
    """Edit one's own message body within 15 minutes. The kind is not a field: a crafted
    ``kind=reply`` is ignored and a note stays a note."""
    ticket = access.get_ticket_or_404(membership, number)
    message = access.get_message_or_404(membership, ticket, message_id)
    if message.author_id != membership.user_id or (message.is_note and not membership.is_staff):
        raise Http404(NOT_FOUND)
    window_open = access.can_edit_message(membership, message)
    form = MessageEditForm(
        request.POST or None, initial={"body": message.body, "seen": services.body_version(message.body)}
    )
    changed_since = False
    if request.method == "POST":
        if form.is_valid():
            try:
                services.message_edit(
                    message=message,
                    editor=membership.user,
                    body=form.cleaned_data["body"],
                    request=request,
                    seen_version=form.cleaned_data["seen"],
                )
            except ValidationError as error:
                if getattr(error, "code", None) == "changed_since":
                    # The typed text stays; the form now carries the newer text's version.
                    message = access.get_message_or_404(membership, ticket, message_id)
                    data = request.POST.copy()
                    data["seen"] = services.body_version(message.body)
                    form = MessageEditForm(data)
                    form.is_valid()
                    changed_since = True
                apply_service_errors(form, error)
            else:
                messages.success(request, MESSAGE_EDITED)
                if message.is_note:
                    _warn_unreachable_mentions(request, ticket, form.cleaned_data["body"])
                return redirect(f"{ticket_url(membership, ticket)}#message-{message.pk}")
    context = {
        "membership": membership,
        "ticket": ticket,
        "message": message,
        "form": form,
        "window_error": None if window_open else services.EDIT_WINDOW_PASSED,
        "changed_since": changed_since,
    }
    status = 409 if changed_since else 400 if (form.is_bound and form.errors) else 200
    return render(request, "tickets/message_edit.html", context, status=status)
