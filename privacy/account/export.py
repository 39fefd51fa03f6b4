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
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from helpdesk import ratelimit
from helpdesk.errors import UserFacingError
from helpdesk.storage import delete_stored_file_on_commit
from helpdesk.timezones import override_for
from privacy.account.models import (
    Consent,
    DataExport,
    EmailChange,
    ErasureRequest,
    ExportStatus,
    PastIdentifier,
    PolicyAcceptance,
    QueuedNotification,
)
from privacy.account.profile import preferences_of
from privacy.audit import events
from privacy.audit.log import ACCOUNT_CHAIN
from privacy.audit.selectors import audit_events_about
from privacy.personal_data import registry
from privacy.personal_data.export_context import CHUNK_ROWS, ExportContext, iso
from privacy.retention import holds
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_CHUNK = 1024 * 1024
DEFAULT_EXPORT_DAYS = 7

EXPORT_IN_PROGRESS = _("An export is already being prepared. You will find it below when it is ready.")
EXPORT_NOT_FOUND = _("Not found.")
EXPORT_EXPIRED = _("This export has expired and its file was deleted. Request a new one.")
EXPORT_FAILED = _(
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


def export_past_identifiers(ctx: ExportContext) -> list[dict]:
    return [
        {"kind": p.kind, "value": p.value, "replaced_at": iso(p.replaced_at)}
        for p in PastIdentifier.objects.filter(user_id=ctx.user.pk).order_by("replaced_at", "pk")
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
    """Every event done by the person or about them, in every chain (their workspaces' too).

    The person's own events carry their address, IP and browser as recorded. Of events others
    did about them (an admin adding them to a workspace), the other person's address, IP and
    browser are not theirs to receive: the actor is named by role only. Signed-out events
    about their account (failed sign-ins) keep the IP: it is how they spot an attack. Events a
    legal hold keeps are marked ``kept_under_legal_hold``.
    """
    user = ctx.user
    held_chains = holds.held_objects_for(user).audit_chains
    slugs = _workspace_slugs(ctx)
    rows = audit_events_about(user.pk).order_by("created_at", "pk")
    for event in rows.iterator(chunk_size=CHUNK_ROWS):
        mine = event.actor_id == user.pk
        signed_out = event.actor_id is None and event.chain == ACCOUNT_CHAIN
        yield {
            "id": event.pk,
            "at": iso(event.created_at),
            "workspace": slugs.get(event.workspace_id) if event.workspace_id else None,
            "action": event.action,
            "actor": event.actor_label if mine or signed_out else ("someone else" if event.actor_id else ""),
            "by_you": mine,
            "ip_address": event.ip_address if mine or signed_out else None,
            "user_agent": event.user_agent if mine or signed_out else "",
            "target_type": event.target_type,
            "target_id": event.target_id,
            "detail": event.detail,
            "kept_under_legal_hold": event.chain in held_chains,
        }


def export_kept_under_legal_hold(ctx: ExportContext) -> list[dict]:
    """What of the person's data a legal hold keeps even if they delete their account, per
    workspace. The hold itself (its kind, reason, who placed it) is the workspace's legal
    record and is not disclosed; that data is kept, and which, is (the account page promises it)."""
    slugs = _workspace_slugs(ctx)
    return [
        {
            "workspace": slugs.get(reason["workspace_id"]),
            "tickets": reason["tickets"],
            "messages": reason["messages"],
            "files": reason["files"],
            "exports": reason["exports"],
            "audit_events": reason["audit_events"],
        }
        for reason in holds.held_objects_for(ctx.user).reasons
    ]


def _workspace_slugs(ctx: ExportContext) -> dict[int, str]:
    """Slugs of the workspaces the person's events and holds are in (left ones included)."""

    def compute():
        ids = set(
            audit_events_about(ctx.user.pk)
            .exclude(workspace_id=None)
            .order_by()
            .values_list("workspace_id", flat=True)
            .distinct()
        )
        ids |= {reason["workspace_id"] for reason in holds.held_objects_for(ctx.user).reasons}
        return dict(Workspace.objects.filter(pk__in=ids).values_list("pk", "slug"))

    return ctx.shared("privacy.workspace_slugs", compute)


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


def write_archive(user, fileobj, *, workspace_id: int | None = None) -> None:
    """Write the export ZIP of ``user`` into ``fileobj`` (seekable binary file).

    With ``workspace_id``: what that workspace holds about the person only (the admins'
    data-subject-request console), through the exporters registered ``workspace_scoped``.

    One pass over the rows: each section's exporter streams its rows to data.json and, through a
    temporary file, to summary.html. The files the exporters list follow.
    """
    now = timezone.now()
    ctx = ExportContext(user=user, now=now, workspace_id=workspace_id)
    exporters = registry.exporters()
    if workspace_id is not None:
        exporters = [e for e in exporters if e.workspace_scoped]
    # summary.html is for the person: their language and their zone (helpdesk/timezones.py).
    with (
        override_for(user),
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
            sections = registry.export_sections() if workspace_id is None else {e.section for e in exporters}
            writer.key("sections", sorted(sections))
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
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
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
    consents, policies, account activity); their shapes are docs/export-schema.md's. It is read by
    the person: in their language, with every time in their saved zone (data.json keeps UTC).
    """

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

    @staticmethod
    def _heads(*labels) -> str:
        return "<tr>" + "".join(f"<th>{escape(label)}</th>" for label in labels) + "</tr>"

    def _opening(self, name: str) -> str:
        h2 = {
            "profile": gettext("Profile"),
            "memberships": gettext("Workspaces"),
            "tickets": gettext("Your tickets"),
            "messages": gettext("Messages you wrote on other tickets"),
            "consents": gettext("Consents"),
            "policy_acceptances": gettext("Policies you accepted"),
            "audit_events": gettext("Account activity"),
        }[name]
        heads = {
            "profile": "<table>",
            "memberships": "<table>" + self._heads(gettext("Workspace"), gettext("Role"), gettext("Since")),
            "consents": "<table>" + self._heads(gettext("Purpose"), gettext("Answer"), gettext("When")),
            "policy_acceptances": "<table>",
            "audit_events": "<table>"
            + self._heads(gettext("When"), gettext("What"), gettext("Network address")),
        }.get(name, "")
        return f"<h2>{escape(h2)}</h2>{heads}"

    @staticmethod
    def _when(value) -> str:
        """An ISO time of data.json, readable and in the person's zone (the active one)."""
        if not value:
            return "—"
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return escape(value)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        return escape(date_format(timezone.localtime(moment), "j M Y, H:i T"))

    def start(self, now) -> None:
        title = escape(gettext("Your Helpdesk data"))
        generated = gettext("Generated %(when)s.") % {
            "when": date_format(timezone.localtime(now), "j M Y, H:i T")
        }
        # str.replace, not format: the style block's braces are CSS.
        self.out.write(SUMMARY_HEAD.replace("{lang}", get_language() or "en").replace("{title}", title))
        self.out.write(f"<h1>{title}</h1><p class=muted>{escape(generated)}</p>")

    def section(self, name: str, value):
        """Show ``name`` in the summary; returns ``value`` for data.json (a stream stays one)."""
        render = getattr(self, f"_{name}", None)
        if render is None:
            return value
        self.out.write(self._opening(name))
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
        for label, key, is_time in (
            (gettext("Name"), "display_name", False),
            (gettext("Email"), "email", False),
            (gettext("Language"), "language", False),
            (gettext("Time zone"), "time_zone", False),
            (gettext("Member since"), "date_joined", True),
            (gettext("Last sign-in"), "last_login", True),
        ):
            value = self._when(profile[key]) if is_time else escape(profile[key] or "—")
            self.out.write(f"<tr><th>{escape(label)}</th><td>{value}</td></tr>")

    def _memberships(self, row: dict) -> None:
        e = escape
        self.out.write(
            f"<tr><td>{e(row['workspace_name'])}</td><td>{e(row['role'])}</td>"
            f"<td>{self._when(row['member_since'])}</td></tr>"
        )

    def _tickets(self, ticket: dict) -> None:
        e = escape
        name = self.ctx.workspace_names.get(ticket["workspace"], "")
        opened = gettext("opened %(when)s") % {"when": self._when(ticket["created_at"])}
        parts = [
            f"<div class=ticket><h3>{e(name)} #{ticket['number']}: "
            f"{e(ticket['subject'])}</h3><p class=muted>{e(ticket['status'])} · {e(ticket['queue'])} · "
            f"{opened}</p>"
        ]
        for message in ticket["messages"]:
            css = "msg note" if message["kind"] == "note" else "msg"
            parts.append(
                f"<div class='{css}'><div class=muted>{e(message['author'])}, "
                f"{self._when(message['created_at'])}</div>"
                f"{e(message['body'])}</div>"
            )
        parts.append("</div>")
        self.out.write("".join(parts))

    def _messages(self, message: dict) -> None:
        e = escape
        name = self.ctx.workspace_names.get(message["workspace"], "")
        self.out.write(
            f"<div class=msg><div class=muted>{e(name)} "
            f"#{message['ticket']} · {e(message['kind'])} · {self._when(message['created_at'])}</div>"
            f"{e(message['body'])}</div>"
        )

    def _consents(self, c: dict) -> None:
        e = escape
        answer = gettext("given") if c["granted"] else gettext("withdrawn")
        self.out.write(
            f"<tr><td>{e(c['purpose'])}</td><td>{e(answer)}</td><td>{self._when(c['at'])}</td></tr>"
        )

    def _policy_acceptances(self, a: dict) -> None:
        e = escape
        self.out.write(
            f"<tr><td>{e(a['kind'])} {e(a['version'])}</td><td>{self._when(a['accepted_at'])}</td></tr>"
        )

    def _audit_events(self, event: dict) -> None:
        e = escape
        self.out.write(
            f"<tr><td>{self._when(event['at'])}</td><td>{e(event['action'])}</td>"
            f"<td>{e(event['ip_address'] or '')}</td></tr>"
        )

    def end(self) -> None:
        files_note = gettext("Files are in the files/ folder of this archive.")
        self.out.write(f"<p class=muted>{escape(files_note)}</p></body></html>\n")


# Background work (Celery; in-process in the embedded default) ------------------------------------
# Task names are what queued messages and the beat schedule refer to: kept across module moves.


@shared_task(name="privacy.tasks.export_build")
def export_build_task(export_id: int) -> str:
    return export_build(export_id=export_id).status


@shared_task(name="privacy.tasks.exports_sweep")
def exports_sweep_task() -> int:
    """Delete the files of expired exports (beat, hourly)."""
    return exports_sweep()
