"""The reports dashboard and its CSV downloads (figures: tickets/reports.py).

Staff only: admins see every queue, agents the queues granted to them (the ticket list's
grants); requesters get the same 404 as a stranger.
"""

import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from privacy.audit import events
from tickets import report_charts, reports
from tickets.report_forms import ReportFilterForm
from workspaces.access import NOT_FOUND, workspace_view

UNASSIGNED = gettext_lazy("Unassigned")
CSV_TABLES = ("daily", "times", "backlog-queues", "backlog-agents")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def duration_text(seconds) -> str:
    """ "3 h 05 min", "2 d 4 h": a readable duration, or an en dash when there is none."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(s)s s") % {"s": seconds}
    minutes = seconds // 60
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return _("%(h)s h %(m)02d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)s d %(h)s h") % {"d": days, "h": hours}


def _filters(request, membership):
    queues = reports.report_queues(membership)
    form = ReportFilterForm(request.GET or None, queues=queues)
    days, end, queue = form.chosen()
    return form, days, end, queue


def _agent_label(row) -> str:
    return row.label or str(UNASSIGNED)


@workspace_view(roles=reports.STAFF_ROLES)
@require_GET
@never_cache
def reports_dashboard(request, membership):
    form, days, end, queue = _filters(request, membership)
    board = reports.dashboard(membership, days=days, end=end, queue=queue)
    day_labels = [formats.date_format(d.day, "M j") for d in board.days]
    created_name, solved_name = _("created"), _("solved")
    daily_chart = report_charts.columns_chart(
        labels=day_labels,
        series=[[d.created for d in board.days], [d.solved for d in board.days]],
        series_names=[created_name, solved_name],
    )
    daily_chart["id"] = "chart-daily"
    agent_rows = [(_agent_label(r), r.open) for r in board.backlog_by_agent]
    queue_chart = report_charts.bars_chart([(r.label, r.open) for r in board.backlog_by_queue])
    agent_chart = report_charts.bars_chart(agent_rows)
    queue_chart["id"], agent_chart["id"] = "chart-queues", "chart-agents"
    context = {
        "membership": membership,
        "workspace": membership.workspace,
        "form": form,
        "board": board,
        "days": days,
        "queue": queue,
        "query": request.GET.urlencode(),
        "daily_chart": daily_chart,
        "queue_chart": queue_chart,
        "agent_chart": agent_chart,
        "agent_rows": agent_rows,
        "times": [
            (_("First response"), board.first_response, "first_response"),
            (_("Resolution"), board.resolution, "resolution"),
        ],
        "duration_text": duration_text,
    }
    for _label, figures, key in context["times"]:
        context[f"{key}_median"] = duration_text(figures.median)
        context[f"{key}_p90"] = duration_text(figures.p90)
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "tickets/reports/dashboard.html", context, status=status)


def csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_rows(table: str, board) -> list[list]:
    if table == "daily":
        return [["date", "created", "solved"]] + [
            [d.day.isoformat(), d.created, d.solved] for d in board.days
        ]
    if table == "times":
        header = ["measure", "tickets", "median_seconds", "p90_seconds"]
        rows = [("first_response", board.first_response), ("resolution", board.resolution)]
        return [header] + [
            [
                name,
                f.count,
                round(f.median) if f.median is not None else "",
                round(f.p90) if f.p90 is not None else "",
            ]
            for name, f in rows
        ]
    if table == "backlog-queues":
        return [["queue", "open_tickets"]] + [[r.label, r.open] for r in board.backlog_by_queue]
    return [["assignee", "open_tickets"]] + [[_agent_label(r), r.open] for r in board.backlog_by_agent]


@workspace_view(roles=reports.STAFF_ROLES)
@require_GET
@never_cache
def reports_csv(request, membership, table: str):
    """One table of the dashboard, for the same filters. Audited ``report.exported``."""
    if table not in CSV_TABLES:
        raise Http404(NOT_FOUND)
    _form, days, end, queue = _filters(request, membership)
    board = reports.dashboard(membership, days=days, end=end, queue=queue)
    out = io.StringIO()
    writer = csv.writer(out)
    for row in _csv_rows(table, board):
        writer.writerow([csv_cell(cell) for cell in row])
    events.report_exported(
        workspace=membership.workspace,
        table=table,
        days=days,
        end=board.period.day_list[-1],
        queue_id=queue.pk if queue is not None else None,
        request=request,
    )
    last_day = board.period.day_list[-1].isoformat()
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{membership.workspace.slug}-{table}-{days}d-{last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
