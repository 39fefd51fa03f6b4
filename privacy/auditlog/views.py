"""The workspace audit log for admins: a filtered page and a streamed CSV of the same rows."""

import csv
import itertools
import json
import logging
from datetime import UTC

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from privacy.audit import events
from privacy.audit.selectors import audit_events_for_export, audit_events_page
from privacy.auditlog.forms import CURSOR_ERROR, AuditFilterForm, parse_cursor
from workspaces.access import ADMIN_ONLY, workspace_view

logger = logging.getLogger(__name__)

FILTER_ERROR = _("Fix the filters above to see events.")
CSV_FILTER_ERROR = _("The filters are not valid: correct them on the audit log page, then download again.")
# The last line of a download cut short by a server error (the status line was already sent).
CSV_INCOMPLETE = _("INCOMPLETE: the export stopped because of a server error. Download it again.")
CSV_HEADER = [
    "time_utc",
    "seq",
    "actor",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "ip_address",
    "user_agent",
    "detail",
    "hash",
]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _csv_row(event) -> list[str]:
    cells = [
        event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        event.seq,
        event.actor_name,
        event.actor_id if event.actor_id is not None else "",
        event.action,
        event.target_type,
        event.target_id,
        event.ip_address or "",
        event.user_agent,
        json.dumps(event.detail, sort_keys=True, ensure_ascii=False),
        event.hash,
    ]
    return [csv_safe_cell(cell) for cell in cells]


class _Line:
    """A file-like object for csv.writer that hands back what it was given."""

    def write(self, value):
        return value


def _csv_lines(chunks):
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_HEADER)
    try:
        for rows in chunks:
            yield "".join(writer.writerow(_csv_row(event)) for event in rows)
    except Exception:  # noqa: BLE001 - the headers are sent: end the body, never leave it open
        logger.exception("audit CSV export stopped early")
        yield writer.writerow([CSV_INCOMPLETE])


async def _csv_lines_async(workspace, filters, chunks=None):
    # Under ASGI a synchronous iterator would be read to the end into memory before sending;
    # an async one streams, each chunk's query run in the sync thread.
    if chunks is None:
        chunks = audit_events_for_export(workspace=workspace, filters=filters)
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_HEADER)
    while True:
        try:
            rows = await sync_to_async(next, thread_sensitive=True)(chunks, None)
        except Exception:  # noqa: BLE001 - an exception here would leave the response body open
            logger.exception("audit CSV export stopped early")
            yield writer.writerow([CSV_INCOMPLETE])
            return
        if rows is None:
            return
        yield "".join(writer.writerow(_csv_row(event)) for event in rows)


def _filter_query(form: AuditFilterForm) -> str:
    """The filters as a query string, without cursors (for pager and CSV links)."""
    return urlencode({name: form.data[name] for name in form.fields if form.data.get(name)})


@workspace_view(roles=ADMIN_ONLY)
@require_GET
def audit_log(request, membership):
    form = AuditFilterForm(request.GET)
    page = None
    try:
        before = parse_cursor(request.GET.get("before"))
        after = parse_cursor(request.GET.get("after"))
    except ValueError:
        messages.warning(request, CURSOR_ERROR)
        before = after = None
    if form.is_valid():
        page = audit_events_page(
            workspace=membership.workspace, filters=form.filters(), before=before, after=after
        )
    return render(
        request,
        "privacy/audit_log.html",
        {
            "membership": membership,
            "form": form,
            "page": page,
            "filter_query": _filter_query(form),
            "filter_error": FILTER_ERROR,
            "admin_tab": "audit",
        },
    )


@workspace_view(roles=ADMIN_ONLY)
@require_GET
def audit_log_csv(request, membership):
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(CSV_FILTER_ERROR, content_type="text/plain; charset=utf-8")
    filters = form.filters()
    workspace = membership.workspace
    # The first chunk is read before the response starts: a filter the database cannot run then
    # fails as an error page, not as a download that stops after its headers.
    chunks = audit_events_for_export(workspace=workspace, filters=filters)
    first = next(chunks, None)
    chunks = itertools.chain([] if first is None else [first], chunks)
    events.audit_exported(workspace=workspace, filters=filters.as_detail(), request=request)
    if isinstance(request, ASGIRequest):
        content = _csv_lines_async(workspace, filters, chunks)
    else:
        content = _csv_lines(chunks)
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{workspace.slug}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
