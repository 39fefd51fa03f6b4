"""Personal-data export: a ZIP with data.json (docs/export-schema.md), summary.html and files.

Memory stays flat however big the account is: the archive is written into a temporary file,
rows are read with ``.iterator()`` in chunks and written out one by one (tickets and their
messages are merged in one pass, both ordered by ticket id), and files are copied in 1 MiB
chunks. The finished file goes to storage under a random key.

What goes in is decided by the apps that own the data: each section of data.json is written
by the exporter its app registered (``registry.register_exporter``; tickets/personal_data.py,
workspaces/personal_data.py, and privacy/account/builtin.py for privacy's own sections). This
module only streams their output, in their order, into data.json and summary.html, and copies
the files they list.
"""

import io
import json
import logging
import tempfile
import zipfile
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.html import escape

from helpdesk import ratelimit
from helpdesk.errors import UserFacingError
from helpdesk.storage import delete_stored_file_on_commit
from privacy.account.models import (
    Consent,
    DataExport,
    EmailChange,
    ErasureRequest,
    ExportStatus,
    PolicyAcceptance,
    QueuedNotification,
)
from privacy.account.profile import preferences_of
from privacy.audit import events
from privacy.audit.log import ACCOUNT_CHAIN
from privacy.audit.models import AuditEvent
from privacy.personal_data import registry
from privacy.personal_data.export_context import CHUNK_ROWS, ExportContext, iso

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_CHUNK = 1024 * 1024
DEFAULT_EXPORT_DAYS = 7
USER_TARGET_TYPE = "workspaces.user"

EXPORT_IN_PROGRESS = "An export is already being prepared. You will find it below when it is ready."
EXPORT_NOT_FOUND = "Not found."
EXPORT_EXPIRED = "This export has expired and its file was deleted. Request a new one."
EXPORT_FAILED = (
    "The export could not be prepared. Try again; if it fails again, contact your workspace admins."
)


class ExportError(UserFacingError):
    """An export cannot be made or downloaded; ``message`` says why."""


def export_days() -> int:
    return max(1, int(getattr(settings, "ACCOUNT_EXPORT_DAYS", DEFAULT_EXPORT_DAYS)))


# Services ------------------------------------------------------------------------------------------------


def export_rate_limit(*, user, ip: str | None) -> ratelimit.Refusal | None:
    """Count one export request of ``user`` from ``ip``: building an archive reads everything the
    person has, so asking again and again is refused for a while (``RATE_LIMITS["export"]``)."""
    return ratelimit.ratelimit_hit("export", account=str(user.pk), ip=ip)


@transaction.atomic
def export_request(*, user, request=None, via: str = "account") -> DataExport:
    """Queue an export for ``user`` (one at a time). Audits ``export.requested``; the build task
    starts after commit (in-process in the embedded default)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if DataExport.objects.filter(
        user_id=user.pk, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]
    ).exists():
        raise ExportError(EXPORT_IN_PROGRESS)
    now = timezone.now()
    export = DataExport(user=user, created_at=now, expires_at=now + timedelta(days=export_days()))
    export.full_clean()
    export.save()
    events.export_requested(export=export, user=user, via=via, request=request)
    transaction.on_commit(lambda: export_build_task.delay(export.pk))
    return export


def export_build(*, export_id: int) -> DataExport:
    """Build the archive of a pending export. Idempotent: a READY export is left alone."""
    with transaction.atomic():
        export = DataExport.objects.select_for_update().select_related("user").get(pk=export_id)
        if export.status not in (ExportStatus.PENDING, ExportStatus.FAILED, ExportStatus.RUNNING):
            return export
        export.status = ExportStatus.RUNNING
        export.started_at = timezone.now()
        export.save(update_fields=["status", "started_at"])
    try:
        with tempfile.TemporaryFile() as tmp:
            write_archive(export.user, tmp)
            size = tmp.tell()
            tmp.seek(0)
            content = File(tmp, name="export.zip")
            content.content_type = "application/zip"
            export.file.save("export.zip", content, save=False)
        export.size = size
        export.status = ExportStatus.READY
        export.finished_at = timezone.now()
        export.error = ""
        export.save(update_fields=["file", "size", "status", "finished_at", "error"])
    except Exception as error:
        logger.exception("Export %s failed", export_id)
        export.status = ExportStatus.FAILED
        export.finished_at = timezone.now()
        export.error = type(error).__name__[:200]
        export.save(update_fields=["status", "finished_at", "error"])
    return export


def export_to_file(*, user, out) -> int:
    """Write the archive of ``user`` to an open binary file (``export_user_data``). Returns bytes."""
    write_archive(user, out)
    return out.tell()


def exports_of(user, limit: int = 10) -> list[DataExport]:
    return list(DataExport.objects.filter(user_id=user.pk).order_by("-created_at", "-id")[:limit])


def export_for_download(*, user, export_id: int) -> DataExport:
    """The owner's export or 404 (someone else's and a missing one look the same). An expired
    or unfinished export raises ``ExportError``."""
    export = DataExport.objects.filter(pk=export_id, user_id=user.pk).first()
    if export is None:
        raise Http404(EXPORT_NOT_FOUND)
    if not export.is_downloadable:
        raise ExportError(EXPORT_EXPIRED if export.expires_at <= timezone.now() else EXPORT_FAILED)
    return export


def export_record_download(*, export: DataExport, request=None) -> None:
    events.export_downloaded(export=export, request=request)


def exports_sweep(*, now=None) -> int:
    """Delete the files of expired exports (every S3 version, after commit) and mark the rows
    EXPIRED. The beat task and ``manage.py sweep_exports`` call this. Returns how many expired."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        rows = (
            DataExport.objects.select_for_update()
            .filter(expires_at__lte=now)
            .exclude(status=ExportStatus.EXPIRED)
        )
        for export in rows:
            if export.file.name:
                delete_stored_file_on_commit(storage=export.file.storage, name=export.file.name)
            export.file = ""
            export.status = ExportStatus.EXPIRED
            export.save(update_fields=["file", "status"])
            expired += 1
    return expired


# Privacy's own sections (registered by privacy/account/builtin.py) --------------------------------------


def export_preferences(ctx: ExportContext) -> dict:
    prefs = preferences_of(ctx.user)
    return {
        "email_on_reply": prefs.email_on_reply,
        "email_on_assignment": prefs.email_on_assignment,
        "email_weekly_summary": prefs.email_weekly_summary,
        "email_on_mention": prefs.email_on_mention,
        "email_delivery": prefs.email_delivery,
    }


def export_queued_notifications(ctx: ExportContext) -> list[dict]:
    return [
        {"kind": q.kind, "subject": q.subject, "url": q.url, "created_at": iso(q.created_at)}
        for q in QueuedNotification.objects.filter(user_id=ctx.user.pk).order_by("created_at", "id")
    ]


def export_consents(ctx: ExportContext) -> list[dict]:
    return [
        {
            "purpose": c.purpose,
            "granted": c.granted,
            "at": iso(c.created_at),
            "policy_version": c.policy.version if c.policy else None,
            "source": c.source,
        }
        for c in Consent.objects.filter(user_id=ctx.user.pk)
        .select_related("policy")
        .order_by("created_at", "pk")
    ]


def export_policy_acceptances(ctx: ExportContext) -> list[dict]:
    return [
        {"kind": a.policy.kind, "version": a.policy.version, "accepted_at": iso(a.accepted_at)}
        for a in PolicyAcceptance.objects.filter(user_id=ctx.user.pk)
        .select_related("policy")
        .order_by("accepted_at")
    ]


def export_email_changes(ctx: ExportContext) -> list[dict]:
    return [
        {"new_email": c.new_email, "created_at": iso(c.created_at), "confirmed_at": iso(c.confirmed_at)}
        for c in EmailChange.objects.filter(user_id=ctx.user.pk).order_by("created_at")
    ]


def export_exports(ctx: ExportContext) -> list[dict]:
    return [
        {"id": e.pk, "created_at": iso(e.created_at), "status": e.status, "size": e.size}
        for e in DataExport.objects.filter(user_id=ctx.user.pk).order_by("created_at")
    ]


def export_erasure_requests(ctx: ExportContext) -> list[dict]:
    return [
        {
            "requested_at": iso(r.requested_at),
            "state": r.state,
            "masked_name": r.masked_name,
            "masked_email": r.masked_email,
        }
        for r in ErasureRequest.objects.filter(user_id=ctx.user.pk).order_by("requested_at")
    ]


def export_audit_events(ctx: ExportContext):
    """The account-level events about the person, as the account page shows them."""
    user = ctx.user
    about = Q(actor_id=user.pk) | Q(
        actor_id__isnull=True, target_type=USER_TARGET_TYPE, target_id=str(user.pk)
    )
    rows = AuditEvent.objects.filter(chain=ACCOUNT_CHAIN).filter(about).order_by("pk")
    for event in rows.iterator(chunk_size=CHUNK_ROWS):
        yield {
            "at": iso(event.created_at),
            "action": event.action,
            "actor": event.actor_label,
            "ip_address": event.ip_address,
            "user_agent": event.user_agent,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "detail": event.detail,
        }


# Writing --------------------------------------------------------------------------------------------------


def _dump(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


class _JsonWriter:
    """Writes one JSON object key by key; list values may be iterators (streamed)."""

    def __init__(self, out):
        self.out = out
        self.first = True

    def begin(self):
        self.out.write("{\n")

    def key(self, name: str, value):
        self.out.write(("" if self.first else ",\n") + f"  {_dump(name)}: ")
        self.first = False
        if isinstance(value, (dict, list, str, int, float, bool)) or value is None:
            self.out.write(_dump(value))
            return
        self.out.write("[")
        for i, item in enumerate(value):
            self.out.write(("\n    " if i == 0 else ",\n    ") + _dump(item))
        self.out.write("\n  ]")

    def end(self):
        self.out.write("\n}\n")


def write_archive(user, fileobj) -> None:
    """Write the export ZIP of ``user`` into ``fileobj`` (seekable binary file).

    One pass over the rows: each section's exporter streams its rows to data.json and, through a
    temporary file, to summary.html. The files the exporters list follow.
    """
    now = timezone.now()
    ctx = ExportContext(user=user, now=now)
    exporters = registry.exporters()
    with (
        zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        tempfile.TemporaryFile("w+", encoding="utf-8") as summary,
    ):
        html = _Summary(summary, ctx)
        html.start(now)
        with archive.open("data.json", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            writer = _JsonWriter(out)
            writer.begin()
            writer.key("schema_version", SCHEMA_VERSION)
            writer.key("generated_at", now.isoformat())
            writer.key("sections", sorted(registry.export_sections()))
            for exporter in exporters:
                writer.key(exporter.section, html.section(exporter.section, exporter.rows(ctx)))
            writer.end()
            out.flush()
            out.detach()
        html.end()
        summary.seek(0)
        with archive.open("summary.html", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            while chunk := summary.read(FILE_CHUNK):
                out.write(chunk)
            out.flush()
            out.detach()
        for exporter in exporters:
            if exporter.files is not None:
                for file in exporter.files(ctx):
                    _copy_file(archive, file)
        archive.writestr("README.txt", README.format(version=SCHEMA_VERSION, at=now.isoformat()))


def _copy_file(archive: zipfile.ZipFile, file) -> None:
    try:
        source = file.open()
    except (FileNotFoundError, OSError):
        logger.warning("Export: %s has no stored file; skipped.", file.reference)
        return
    with source, archive.open(file.path, "w", force_zip64=True) as target:
        while chunk := source.read(FILE_CHUNK):
            target.write(chunk)


README = """Your Helpdesk data export
=========================

data.json     everything, machine-readable (schema version {version}; see docs/export-schema.md)
summary.html  the same, to read in a browser
files/        the files on your tickets and the files you uploaded

Generated at {at} (UTC). Keep this archive safe: it holds your personal data.
"""

SUMMARY_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your Helpdesk data</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;padding:0 1em;
color:#1d2430;line-height:1.5}
h1{font-size:1.6em}h2{border-bottom:1px solid #d9dee6;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%}
td,th{border:1px solid #d9dee6;padding:4px 8px;text-align:left;vertical-align:top}
.ticket{border:1px solid #d9dee6;border-radius:8px;padding:.6em 1em;margin:1em 0}
.msg{border-left:3px solid #2450c7;padding:.2em .8em;margin:.6em 0;white-space:pre-wrap}
.note{border-left-color:#e0a800;background:#fff8e1}.muted{color:#5d6778}
</style></head><body>
"""


class _Summary:
    """summary.html, written piece by piece while data.json is written. Every value escaped.

    The sections it shows are the ones people read (profile, workspaces, tickets, messages,
    consents, policies, account activity); their shapes are docs/export-schema.md's.
    """

    OPENING = {
        "profile": "<h2>Profile</h2><table>",
        "memberships": "<h2>Workspaces</h2><table><tr><th>Workspace</th><th>Role</th><th>Since</th></tr>",
        "tickets": "<h2>Your tickets</h2>",
        "messages": "<h2>Messages you wrote on other tickets</h2>",
        "consents": "<h2>Consents</h2><table><tr><th>Purpose</th><th>Answer</th><th>When</th></tr>",
        "policy_acceptances": "<h2>Policies you accepted</h2><table>",
        "audit_events": (
            "<h2>Account activity</h2><table><tr><th>When</th><th>What</th><th>Network address</th></tr>"
        ),
    }
    CLOSING = {
        "profile": "</table>",
        "memberships": "</table>",
        "consents": "</table>",
        "policy_acceptances": "</table>",
        "audit_events": "</table>",
    }

    def __init__(self, out, ctx: ExportContext):
        self.out = out
        self.ctx = ctx

    def start(self, now) -> None:
        self.out.write(SUMMARY_HEAD)
        self.out.write(
            f"<h1>Your Helpdesk data</h1><p class=muted>Generated "
            f"{escape(now.strftime('%Y-%m-%d %H:%M'))} UTC.</p>"
        )

    def section(self, name: str, value):
        """Show ``name`` in the summary; returns ``value`` for data.json (a stream stays one)."""
        render = getattr(self, f"_{name}", None)
        if render is None:
            return value
        self.out.write(self.OPENING[name])
        if isinstance(value, dict):
            render(value)
            self.out.write(self.CLOSING.get(name, ""))
            return value
        if isinstance(value, list):
            for row in value:
                render(row)
            self.out.write(self.CLOSING.get(name, ""))
            return value
        return self._streamed(name, value, render)

    def _streamed(self, name: str, rows, render):
        for row in rows:
            render(row)
            yield row
        self.out.write(self.CLOSING.get(name, ""))

    def _profile(self, profile: dict) -> None:
        for label, key in (
            ("Name", "display_name"),
            ("Email", "email"),
            ("Language", "language"),
            ("Time zone", "time_zone"),
            ("Member since", "date_joined"),
            ("Last sign-in", "last_login"),
        ):
            self.out.write(f"<tr><th>{label}</th><td>{escape(profile[key] or '—')}</td></tr>")

    def _memberships(self, row: dict) -> None:
        e = escape
        self.out.write(
            f"<tr><td>{e(row['workspace_name'])}</td><td>{e(row['role'])}</td>"
            f"<td>{e(row['member_since'])}</td></tr>"
        )

    def _tickets(self, ticket: dict) -> None:
        e = escape
        name = self.ctx.workspace_names.get(ticket["workspace"], "")
        parts = [
            f"<div class=ticket><h3>{e(name)} #{ticket['number']}: "
            f"{e(ticket['subject'])}</h3><p class=muted>{e(ticket['status'])} · {e(ticket['queue'])} · "
            f"opened {e(ticket['created_at'])}</p>"
        ]
        for message in ticket["messages"]:
            css = "msg note" if message["kind"] == "note" else "msg"
            parts.append(
                f"<div class='{css}'><div class=muted>{e(message['author'])}, "
                f"{e(message['created_at'])}</div>"
                f"{e(message['body'])}</div>"
            )
        parts.append("</div>")
        self.out.write("".join(parts))

    def _messages(self, message: dict) -> None:
        e = escape
        name = self.ctx.workspace_names.get(message["workspace"], "")
        self.out.write(
            f"<div class=msg><div class=muted>{e(name)} "
            f"#{message['ticket']} · {e(message['kind'])} · {e(message['created_at'])}</div>"
            f"{e(message['body'])}</div>"
        )

    def _consents(self, c: dict) -> None:
        e = escape
        self.out.write(
            f"<tr><td>{e(c['purpose'])}</td><td>{'given' if c['granted'] else 'withdrawn'}</td>"
            f"<td>{e(c['at'])}</td></tr>"
        )

    def _policy_acceptances(self, a: dict) -> None:
        e = escape
        self.out.write(f"<tr><td>{e(a['kind'])} {e(a['version'])}</td><td>{e(a['accepted_at'])}</td></tr>")

    def _audit_events(self, event: dict) -> None:
        e = escape
        self.out.write(
            f"<tr><td>{e(event['at'])}</td><td>{e(event['action'])}</td>"
            f"<td>{e(event['ip_address'] or '')}</td></tr>"
        )

    def end(self) -> None:
        self.out.write("<p class=muted>Files are in the files/ folder of this archive.</p></body></html>\n")


# Background work (Celery; in-process in the embedded default) ------------------------------------
# Task names are what queued messages and the beat schedule refer to: kept across module moves.


@shared_task(name="privacy.tasks.export_build")
def export_build_task(export_id: int) -> str:
    return export_build(export_id=export_id).status


@shared_task(name="privacy.tasks.exports_sweep")
def exports_sweep_task() -> int:
    """Delete the files of expired exports (beat, hourly)."""
    return exports_sweep()
