"""Personal-data export: a ZIP with data.json (docs/export-schema.md), summary.html and files.

Memory stays flat however big the account is: the archive is written into a temporary file,
rows are read with ``.iterator()`` in chunks and written out one by one (tickets and their
messages are merged in one pass, both ordered by ticket id), and files are copied in 1 MiB
chunks. The finished file goes to storage under a random key.

What goes in is decided by the same visibility querysets the pages use: for each membership
``Ticket.objects.visible_to(membership)``, ``Message.objects.visible_to(membership)`` and
``attachments_visible_to(membership)``. Where the person has tickets or messages in a workspace
they no longer belong to, a requester's view of that workspace is used (public replies only).
A requester's export therefore never holds an internal note. An agent's or admin's export holds
the notes *they wrote* (they are theirs, and they may read them), never other people's notes on
tickets they merely work; on their own tickets it holds what they can see on the page.
"""

import io
import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.html import escape

from helpdesk.errors import UserFacingError
from privacy.account.models import DataExport, ExportStatus
from privacy.audit.log import ACCOUNT_CHAIN, audit_record

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CHUNK_ROWS = 2000
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


@transaction.atomic
def export_request(*, user, request=None, via: str = "account") -> DataExport:
    """Queue an export for ``user`` (one at a time). Audits ``export.requested``; the build task
    starts after commit (in-process in the embedded default)."""
    from workspaces.models import User

    User.objects.select_for_update().filter(pk=user.pk).first()
    if DataExport.objects.filter(
        user_id=user.pk, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]
    ).exists():
        raise ExportError(EXPORT_IN_PROGRESS)
    now = timezone.now()
    export = DataExport(user=user, created_at=now, expires_at=now + timedelta(days=export_days()))
    export.full_clean()
    export.save()
    audit_record(action="export.requested", request=request, actor=user, target=export, detail={"via": via})
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
    audit_record(
        action="export.downloaded",
        request=request,
        actor=export.user,
        target=export,
        detail={"size": export.size},
    )


def exports_sweep(*, now=None) -> int:
    """Delete the files of expired exports (every S3 version, after commit) and mark the rows
    EXPIRED. The beat task and ``manage.py sweep_exports`` call this. Returns how many expired."""
    from privacy.account.anonymizers import delete_stored_files

    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        rows = (
            DataExport.objects.select_for_update()
            .filter(expires_at__lte=now)
            .exclude(status=ExportStatus.EXPIRED)
        )
        for export in rows:
            delete_stored_files([(export.file.storage, export.file.name)])
            export.file = ""
            export.status = ExportStatus.EXPIRED
            export.save(update_fields=["file", "status"])
            expired += 1
    return expired


# What goes in ------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """One workspace the person is exported from, seen through their membership there."""

    membership: object
    virtual: bool

    @property
    def workspace(self):
        return self.membership.workspace


def scopes_for(user) -> list[Scope]:
    """Real memberships, plus a requester's view of workspaces the person left but still has
    tickets or messages in."""
    from tickets.models import Message, Ticket, TicketParticipant
    from workspaces.models import Membership, Role, Workspace

    memberships = list(Membership.objects.filter(user_id=user.pk).select_related("workspace"))
    member_of = {m.workspace_id for m in memberships}
    elsewhere = (
        set(Ticket.objects.filter(requester_id=user.pk).values_list("workspace_id", flat=True).distinct())
        | set(TicketParticipant.objects.filter(user_id=user.pk).values_list("workspace_id", flat=True))
        | set(Message.objects.filter(author_id=user.pk).values_list("workspace_id", flat=True).distinct())
    ) - member_of
    scopes = [Scope(m, virtual=False) for m in memberships]
    for workspace in Workspace.objects.filter(pk__in=elsewhere):
        scopes.append(Scope(Membership(workspace=workspace, user=user, role=Role.REQUESTER), virtual=True))
    return sorted(scopes, key=lambda s: (s.workspace.name, s.workspace.pk))


def own_tickets(scope: Scope):
    from tickets.models import Ticket

    own = Ticket.objects.ids_taken_part_by(scope.workspace.pk, scope.membership.user_id)
    return Ticket.objects.visible_to(scope.membership).filter(id__in=own)


def _iso(value):
    return value.isoformat() if value else None


def iter_tickets(scope: Scope, user):
    """(ticket dict with its visible messages) in ticket-id order; one merge pass, flat memory.

    Rows are read as tuples (``values_list``), not model instances: at 100,000 messages building
    models would cost most of the export's time.
    """
    from tickets.models import Message

    tickets = (
        own_tickets(scope)
        .order_by("pk")
        .values_list(
            "pk",
            "number",
            "subject",
            "requester_id",
            "status",
            "priority",
            "queue__name",
            "created_at",
            "updated_at",
            "closed_at",
        )
        .iterator(chunk_size=CHUNK_ROWS)
    )
    messages = (
        Message.objects.visible_to(scope.membership)
        .filter(ticket__in=own_tickets(scope).values("id"))
        .order_by("ticket_id", "created_at", "pk")
        .values_list("ticket_id", "pk", "kind", "author_id", "author__display_name", "created_at", "body")
        .iterator(chunk_size=CHUNK_ROWS)
    )
    slug = scope.workspace.slug
    pending = next(messages, None)
    for pk, number, subject, requester_id, status, priority, queue, created, updated, closed in tickets:
        rows = []
        while pending is not None and pending[0] < pk:
            pending = next(messages, None)
        while pending is not None and pending[0] == pk:
            _, message_id, kind, author_id, author_name, at, body = pending
            mine = author_id == user.pk
            rows.append(
                {
                    "id": message_id,
                    "kind": kind,
                    "author": "you" if mine else (author_name or "(no name)") if author_id else "(unknown)",
                    "written_by_you": mine,
                    "created_at": _iso(at),
                    "body": body,
                }
            )
            pending = next(messages, None)
        yield {
            "workspace": slug,
            "number": number,
            "subject": subject,
            "your_role": "requester" if requester_id == user.pk else "participant",
            "status": status,
            "priority": priority,
            "queue": queue,
            "created_at": _iso(created),
            "updated_at": _iso(updated),
            "closed_at": _iso(closed),
            "messages": rows,
        }


def iter_other_messages(scope: Scope, user):
    """Messages the person wrote on tickets that are not theirs (an agent's replies and notes)."""
    from tickets.models import Message

    rows = (
        Message.objects.visible_to(scope.membership)
        .filter(author_id=user.pk)
        .exclude(ticket__in=own_tickets(scope).values("id"))
        .order_by("pk")
        .values_list("pk", "ticket__number", "kind", "created_at", "body")
    )
    slug = scope.workspace.slug
    for pk, number, kind, at, body in rows.iterator(chunk_size=CHUNK_ROWS):
        yield {
            "workspace": slug,
            "ticket": number,
            "id": pk,
            "kind": kind,
            "created_at": _iso(at),
            "body": body,
        }


def attachments_for(scope: Scope, user):
    """Files the person may see on their own tickets, and files they uploaded anywhere visible."""
    from tickets.attachments import attachments_visible_to
    from tickets.models import Attachment

    # A UNION of two index lookups rather than an OR, which PostgreSQL answers by reading every
    # attachment of the workspace (as for own_tickets).
    on_own_tickets = (
        Attachment.objects.filter(ticket__in=own_tickets(scope).values("id")).order_by().values("id")
    )
    uploaded = (
        Attachment.objects.filter(workspace_id=scope.workspace.pk, uploaded_by_id=user.pk)
        .order_by()
        .values("id")
    )
    return (
        attachments_visible_to(scope.membership)
        .filter(id__in=on_own_tickets.union(uploaded, all=True))
        .select_related("ticket")
        .order_by("pk")
    )


def attachment_path(scope: Scope, attachment) -> str:
    from tickets.attachments import sanitize_filename

    name = sanitize_filename(attachment.original_name)
    return f"files/{scope.workspace.slug}/{attachment.ticket.number}/{attachment.pk}-{name}"


def iter_audit_events(user):
    """The account-level events about the person, as the account page shows them."""
    from privacy.audit.models import AuditEvent

    about = Q(actor_id=user.pk) | Q(
        actor_id__isnull=True, target_type=USER_TARGET_TYPE, target_id=str(user.pk)
    )
    rows = AuditEvent.objects.filter(chain=ACCOUNT_CHAIN).filter(about).order_by("pk")
    for event in rows.iterator(chunk_size=CHUNK_ROWS):
        yield {
            "at": _iso(event.created_at),
            "action": event.action,
            "actor": event.actor_label,
            "ip_address": event.ip_address,
            "user_agent": event.user_agent,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "detail": event.detail,
        }


def profile_of(user) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "language": user.language,
        "time_zone": user.time_zone,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "email_confirmed_at": _iso(user.email_confirmed_at),
    }


def memberships_of(scopes: list[Scope], user) -> list[dict]:
    from workspaces.models import QueueUserObjectPermission

    grants: dict[int, list[str]] = {}
    for workspace_id, name in QueueUserObjectPermission.objects.filter(user_id=user.pk).values_list(
        "content_object__workspace_id", "content_object__name"
    ):
        grants.setdefault(workspace_id, []).append(name)
    return [
        {
            "workspace": s.workspace.slug,
            "workspace_name": s.workspace.name,
            "role": s.membership.role,
            "member_since": _iso(s.membership.created_at),
            "queues": sorted(grants.get(s.workspace.pk, [])),
        }
        for s in scopes
        if not s.virtual
    ]


def small_sections(user) -> dict:
    """The sections that are short lists whatever the account's size."""
    from privacy.account.models import Consent, EmailChange, ErasureRequest, PolicyAcceptance
    from privacy.account.profile import preferences_of
    from workspaces.models import Invitation

    prefs = preferences_of(user)
    return {
        "preferences": {
            "email_on_reply": prefs.email_on_reply,
            "email_on_assignment": prefs.email_on_assignment,
            "email_weekly_summary": prefs.email_weekly_summary,
        },
        "consents": [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "at": _iso(c.created_at),
                "policy_version": c.policy.version if c.policy else None,
                "source": c.source,
            }
            for c in Consent.objects.filter(user_id=user.pk)
            .select_related("policy")
            .order_by("created_at", "pk")
        ],
        "policy_acceptances": [
            {"kind": a.policy.kind, "version": a.policy.version, "accepted_at": _iso(a.accepted_at)}
            for a in PolicyAcceptance.objects.filter(user_id=user.pk)
            .select_related("policy")
            .order_by("accepted_at")
        ],
        "email_changes": [
            {"new_email": c.new_email, "created_at": _iso(c.created_at), "confirmed_at": _iso(c.confirmed_at)}
            for c in EmailChange.objects.filter(user_id=user.pk).order_by("created_at")
        ],
        "invitations": [
            {
                "workspace": i.workspace.slug,
                "email": i.email,
                "role": i.role,
                "created_at": _iso(i.created_at),
                "accepted_at": _iso(i.accepted_at),
            }
            for i in Invitation.objects.filter(email__iexact=user.email)
            .select_related("workspace")
            .order_by("created_at")
        ],
        "exports": [
            {"id": e.pk, "created_at": _iso(e.created_at), "status": e.status, "size": e.size}
            for e in DataExport.objects.filter(user_id=user.pk).order_by("created_at")
        ],
        "erasure_requests": [
            {
                "requested_at": _iso(r.requested_at),
                "state": r.state,
                "masked_name": r.masked_name,
                "masked_email": r.masked_email,
            }
            for r in ErasureRequest.objects.filter(user_id=user.pk).order_by("requested_at")
        ],
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


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def _tee(iterable, side):
    for item in iterable:
        side(item)
        yield item


def write_archive(user, fileobj) -> None:
    """Write the export ZIP of ``user`` into ``fileobj`` (seekable binary file).

    One pass over the rows: each ticket, message and event goes to data.json and, through a
    temporary file, to summary.html.
    """
    from privacy.personal_data import registry

    now = timezone.now()
    scopes = scopes_for(user)
    sections = small_sections(user)
    names = {s.workspace.slug: s.workspace.name for s in scopes}
    with (
        zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive,
        tempfile.TemporaryFile("w+", encoding="utf-8") as summary,
    ):
        html = _Summary(summary, names)
        html.start(user, scopes, now)
        with archive.open("data.json", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            writer = _JsonWriter(out)
            writer.begin()
            writer.key("schema_version", SCHEMA_VERSION)
            writer.key("generated_at", now.isoformat())
            writer.key("sections", sorted(registry.export_sections()))
            writer.key("profile", profile_of(user))
            writer.key("preferences", sections["preferences"])
            writer.key("memberships", memberships_of(scopes, user))
            html.heading("Your tickets")
            writer.key("tickets", _tee(_chain(*(iter_tickets(s, user) for s in scopes)), html.ticket))
            html.heading("Messages you wrote on other tickets")
            writer.key(
                "messages", _tee(_chain(*(iter_other_messages(s, user) for s in scopes)), html.message)
            )
            writer.key("attachments", _chain(*(_attachment_rows(s, user) for s in scopes)))
            for name in (
                "consents",
                "policy_acceptances",
                "email_changes",
                "invitations",
                "exports",
                "erasure_requests",
            ):
                writer.key(name, sections[name])
            html.small_sections(sections)
            writer.key("audit_events", _tee(iter_audit_events(user), html.event))
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
        for scope in scopes:
            for attachment in attachments_for(scope, user).iterator(chunk_size=CHUNK_ROWS):
                _copy_file(archive, attachment, attachment_path(scope, attachment))
        archive.writestr("README.txt", README.format(version=SCHEMA_VERSION, at=now.isoformat()))


def _attachment_rows(scope: Scope, user):
    for attachment in attachments_for(scope, user).iterator(chunk_size=CHUNK_ROWS):
        yield {
            "workspace": scope.workspace.slug,
            "ticket": attachment.ticket.number,
            "message": attachment.message_id,
            "original_name": attachment.original_name,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "uploaded_by_you": attachment.uploaded_by_id == user.pk,
            "created_at": _iso(attachment.created_at),
            "path": attachment_path(scope, attachment),
        }


def _copy_file(archive: zipfile.ZipFile, attachment, path: str) -> None:
    try:
        source = attachment.file.storage.open(attachment.file.name, "rb")
    except (FileNotFoundError, OSError):
        logger.warning("Export: attachment %s has no stored file; skipped.", attachment.pk)
        return
    with source, archive.open(path, "w", force_zip64=True) as target:
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
    """summary.html, written piece by piece while data.json is written. Every value escaped."""

    def __init__(self, out, workspace_names: dict[str, str]):
        self.out = out
        self.names = workspace_names
        self.events_started = False

    def start(self, user, scopes, now) -> None:
        e, out = escape, self.out
        out.write(SUMMARY_HEAD)
        out.write(
            f"<h1>Your Helpdesk data</h1><p class=muted>Generated "
            f"{e(now.strftime('%Y-%m-%d %H:%M'))} UTC.</p>"
        )
        profile = profile_of(user)
        out.write("<h2>Profile</h2><table>")
        for label, key in (
            ("Name", "display_name"),
            ("Email", "email"),
            ("Language", "language"),
            ("Time zone", "time_zone"),
            ("Member since", "date_joined"),
            ("Last sign-in", "last_login"),
        ):
            out.write(f"<tr><th>{label}</th><td>{e(profile[key] or '—')}</td></tr>")
        out.write("</table><h2>Workspaces</h2><table><tr><th>Workspace</th><th>Role</th><th>Since</th></tr>")
        for row in memberships_of(scopes, user):
            out.write(
                f"<tr><td>{e(row['workspace_name'])}</td><td>{e(row['role'])}</td>"
                f"<td>{e(row['member_since'])}</td></tr>"
            )
        out.write("</table>")

    def heading(self, text: str) -> None:
        self.out.write(f"<h2>{escape(text)}</h2>")

    def ticket(self, ticket: dict) -> None:
        e = escape
        parts = [
            f"<div class=ticket><h3>{e(self.names.get(ticket['workspace'], ''))} #{ticket['number']}: "
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

    def message(self, message: dict) -> None:
        e = escape
        self.out.write(
            f"<div class=msg><div class=muted>{e(self.names.get(message['workspace'], ''))} "
            f"#{message['ticket']} · {e(message['kind'])} · {e(message['created_at'])}</div>"
            f"{e(message['body'])}</div>"
        )

    def small_sections(self, sections: dict) -> None:
        e, out = escape, self.out
        out.write("<h2>Consents</h2><table><tr><th>Purpose</th><th>Answer</th><th>When</th></tr>")
        for c in sections["consents"]:
            out.write(
                f"<tr><td>{e(c['purpose'])}</td><td>{'given' if c['granted'] else 'withdrawn'}</td>"
                f"<td>{e(c['at'])}</td></tr>"
            )
        out.write("</table><h2>Policies you accepted</h2><table>")
        for a in sections["policy_acceptances"]:
            out.write(f"<tr><td>{e(a['kind'])} {e(a['version'])}</td><td>{e(a['accepted_at'])}</td></tr>")
        out.write(
            "</table><h2>Account activity</h2>"
            "<table><tr><th>When</th><th>What</th><th>Network address</th></tr>"
        )

    def event(self, event: dict) -> None:
        e = escape
        self.out.write(
            f"<tr><td>{e(event['at'])}</td><td>{e(event['action'])}</td>"
            f"<td>{e(event['ip_address'] or '')}</td></tr>"
        )

    def end(self) -> None:
        self.out.write(
            "</table><p class=muted>Files are in the files/ folder of this archive.</p></body></html>\n"
        )


# Background work (Celery; in-process in the embedded default) ------------------------------------
# Task names are what queued messages and the beat schedule refer to: kept across module moves.


@shared_task(name="privacy.tasks.export_build")
def export_build_task(export_id: int) -> str:
    return export_build(export_id=export_id).status


@shared_task(name="privacy.tasks.exports_sweep")
def exports_sweep_task() -> int:
    """Delete the files of expired exports (beat, hourly)."""
    return exports_sweep()
