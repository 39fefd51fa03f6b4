"""Attachments: checking uploads, storing them, finding them for download, deleting their bytes.

What a person's browser claims about a file is never trusted. The stored ``content_type`` is what
the first bytes say (``sniff_content_type``), names are cleaned (``sanitize_filename``), programs
are refused by extension and by content, and only a few inert types are ever shown inline.

For forms: ``AttachmentsField`` (several files in one input) cleans to a list of
``CleanedUpload``. Services store them with ``attachments_store`` before their transaction and
write the rows with ``attachment_attach`` inside it (``attachment_add`` does both for one file).
A form that refused files is audited with ``attachments_record_rejected``.
"""

import logging
import re
import unicodedata
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from helpdesk.storage import delete_stored_file, delete_stored_file_on_commit
from privacy.audit import events
from tickets.models import Attachment, Message, Ticket

logger = logging.getLogger(__name__)

# -- Limits and messages (tests import these) -------------------------------------------------

MAX_FILES_PER_SUBMISSION = 10
FILENAME_MAX_LENGTH = 150
EXTENSION_MAX_LENGTH = 16
FALLBACK_FILENAME = "attachment"
HEAD_BYTES = 64 * 1024

ERROR_TOO_LARGE = _("“{name}” is too large ({size}). Each file can be at most {limit}.")
ERROR_EMPTY = _("“{name}” is empty, so it was not attached.")
ERROR_BLOCKED_EXTENSION = _(
    "“{name}” was not attached: .{ext} files can run programs on a computer and are not accepted."
)
ERROR_BLOCKED_CONTENT = _(
    "“{name}” was not attached: it contains a program, whatever its name says, and programs are not accepted."
)
ERROR_TOO_MANY = _("Attach at most {max} files at a time.")
ERROR_CHOOSE_AGAIN = _("Nothing was sent yet and your text is kept: choose the files to attach again.")
ERROR_NOT_FOUND = _("Not found.")
HELP_TEXT = _("Optional. Up to {max} files, {limit} each. Programs (such as .exe or .sh) are not accepted.")
# -- What is refused, what may be shown inline -----------------------------------------------

BLOCKED_EXTENSIONS = frozenset(
    """
    exe msi msp mst bat cmd com scr pif cpl js jse mjs vbs vbe vb wsf wsh wsc hta ps1 psm1 psd1
    ps1xml ps2 msh msh1 msh2 sh bash zsh csh ksh fish command jar apk aab xapk dll sys drv ocx
    so dylib lnk url reg inf scf msc gadget appx appxbundle msix msixbundle app dmg pkg mpkg deb
    rpm run appimage ipa xap class dex workflow action
    """.split()
)

# Types that are safe to hand to a browser to display: raster images and PDF (rendered by the
# browser's sandboxed viewer). Everything else, including HTML, SVG and text, is downloaded.
INLINE_CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
DOWNLOAD_CONTENT_TYPE = "application/octet-stream"

# Markers that make content "HTML-looking" wherever they appear in the first bytes. Long enough
# not to occur by chance in compressed image data.
_STRONG_HTML_MARKERS = (
    b"<!doctype html",
    b"<html",
    b"<head>",
    b"<body",
    b"<script",
    b"<iframe",
    b"<frameset",
    b"<object",
    b"<embed",
    b"<meta ",
    b"<style",
    b"<svg",
    b"<title>",
    b"javascript:",
)
# WHATWG MIME sniffing: a text file that starts with one of these is taken for HTML.
_HTML_START_TAGS = (
    b"<!--",
    b"<a",
    b"<b",
    b"<br",
    b"<div",
    b"<font",
    b"<h1",
    b"<p",
    b"<table",
    b"<link",
    b"<img",
    b"<form",
    b"<input",
    b"<base",
)
_TAG_TERMINATORS = b" >\t\n\r\x0c/"

_EXECUTABLE_MAGIC = (
    b"\x7fELF",  # Linux and most Unix programs
    b"#!",  # scripts with an interpreter line
    b"\xef\xbb\xbf#!",
    b"\xfe\xed\xfa\xce",  # Mach-O (macOS) 32/64-bit, both byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary, and Java class files
    b"dex\n",  # Android Dalvik code
    b"L\x00\x00\x00\x01\x14\x02\x00",  # Windows shortcut (.lnk)
)

_OFFICE_MARKERS = (
    ("word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)


# -- Names ------------------------------------------------------------------------------------

_UNSAFE_NAME_CHARS = re.compile(r'["\'`<>:|?*;\\/]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


def split_extension(name: str) -> tuple[str, str]:
    """``("report.final", "pdf")`` for ``report.final.pdf``; no extension for ``.bashrc``."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, ext


def sanitize_filename(name: str | None) -> str:
    """A name safe to store, show and send in a header: no folders, no control characters.

    Keeps the last path part only (both ``/`` and ``\\``), drops control and format characters
    (CR, LF, NUL, right-to-left overrides), quotes and characters Windows refuses, trims dots and
    spaces at both ends, and shortens long names while keeping the extension.
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if ch in "\t\r\n" else ch for ch in name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE_NAME_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, ext = split_extension(name)
    stem = stem.strip(" .")
    ext = ext.strip(" ")[:EXTENSION_MAX_LENGTH]
    if not stem:
        stem = FALLBACK_FILENAME
    if _WINDOWS_RESERVED.match(stem):
        stem = f"_{stem}"
    room = FILENAME_MAX_LENGTH - (len(ext) + 1 if ext else 0)
    stem = stem[:room].rstrip(" .") or FALLBACK_FILENAME
    return f"{stem}.{ext}" if ext else stem


def extension_of(name: str) -> str:
    return split_extension(name)[1].lower()


# -- Content sniffing ---------------------------------------------------------------------------


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return True
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return b"\x00\x00" not in head[2:]
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sample is still text.
        if error.start < len(head) - 4:
            return False
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13, 27))
    return controls <= len(head) // 100


def _has_strong_html(head: bytes) -> bool:
    lowered = head.lower()
    return any(marker in lowered for marker in _STRONG_HTML_MARKERS)


def _starts_like_html(head: bytes) -> bool:
    lowered = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    for tag in _HTML_START_TAGS:
        if lowered.startswith(tag):
            following = lowered[len(tag) : len(tag) + 1]
            if tag == b"<!--" or (following and following in _TAG_TERMINATORS):
                return True
    return False


def _is_svg(head: bytes) -> bool:
    return b"<svg" in head.lower()


def is_executable_content(head: bytes) -> bool:
    """True for native programs and scripts, whatever the file is called."""
    if head.startswith(_EXECUTABLE_MAGIC):
        return True
    # "MZ": Windows and DOS programs (exe, dll, scr, sys...). A text file may start with "MZ".
    return head.startswith(b"MZ") and not _looks_like_text(head)


def _zip_type(fileobj) -> str:
    """Office documents, executable archives (jar, apk) or a plain zip."""
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "application/zip"
    finally:
        fileobj.seek(0)
    if "META-INF/MANIFEST.MF" in names or "AndroidManifest.xml" in names or "classes.dex" in names:
        return "application/java-archive"
    if "[Content_Types].xml" in names:
        for prefix, content_type in _OFFICE_MARKERS:
            if any(name.startswith(prefix) for name in names):
                return content_type
    return "application/zip"


EXECUTABLE_ARCHIVE_TYPES = frozenset({"application/java-archive"})


def sniff_content_type(head: bytes, fileobj=None) -> str:
    """The type the first bytes show. A binary header followed by HTML counts as HTML.

    ``fileobj`` (seekable) lets zip files be told apart: docx, xlsx, pptx, jar/apk, zip.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        binary_type = "image/png"
    elif head.startswith(b"\xff\xd8\xff"):
        binary_type = "image/jpeg"
    elif head.startswith((b"GIF87a", b"GIF89a")):
        binary_type = "image/gif"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        binary_type = "image/webp"
    elif head.startswith(b"%PDF-"):
        binary_type = "application/pdf"
    elif head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        binary_type = _zip_type(fileobj) if fileobj is not None else "application/zip"
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        binary_type = "application/x-ole-storage"  # legacy .doc/.xls/.msg
    else:
        binary_type = None
    if binary_type is not None:
        # A polyglot: valid image header, then markup a browser could be talked into running.
        return "text/html" if _has_strong_html(head) else binary_type
    if _looks_like_text(head):
        if _is_svg(head):
            return "image/svg+xml"
        if _starts_like_html(head) or _has_strong_html(head):
            return "text/html"
        return "text/plain"
    return DOWNLOAD_CONTENT_TYPE


def served_content_type(content_type: str) -> str:
    """What a download says it is: the sniffed type for inline-safe types, else octet-stream."""
    return content_type if content_type in INLINE_CONTENT_TYPES else DOWNLOAD_CONTENT_TYPE


def may_be_inline(content_type: str) -> bool:
    return content_type in INLINE_CONTENT_TYPES


# -- Validation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanedUpload:
    """An upload that passed every check: the file, its cleaned name and sniffed type."""

    file: object
    name: str
    content_type: str
    size: int


def max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def validate_upload(upload) -> CleanedUpload:
    """Check one uploaded file; raise ``ValidationError`` with a message naming the file."""
    name = sanitize_filename(getattr(upload, "name", ""))
    size = int(upload.size or 0)
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            ERROR_TOO_LARGE.format(name=name, size=filesizeformat(size), limit=filesizeformat(limit)),
            code="too_large",
        )
    if size == 0:
        raise ValidationError(ERROR_EMPTY.format(name=name), code="empty")
    ext = extension_of(name)
    if ext in BLOCKED_EXTENSIONS:
        raise ValidationError(ERROR_BLOCKED_EXTENSION.format(name=name, ext=ext), code="blocked_extension")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    content_type = sniff_content_type(head, upload)
    if is_executable_content(head) or content_type in EXECUTABLE_ARCHIVE_TYPES:
        raise ValidationError(ERROR_BLOCKED_CONTENT.format(name=name), code="blocked_content")
    return CleanedUpload(file=upload, name=name, content_type=content_type, size=size)


def validate_uploads(files) -> list[CleanedUpload]:
    """Check several files at once. Raises one ``ValidationError`` listing every problem."""
    files = [f for f in (files or []) if f]
    if len(files) > MAX_FILES_PER_SUBMISSION:
        raise ValidationError(
            [
                ValidationError(ERROR_TOO_MANY.format(max=MAX_FILES_PER_SUBMISSION), code="too_many"),
                ValidationError(ERROR_CHOOSE_AGAIN, code="choose_again"),
            ]
        )
    cleaned, errors = [], []
    for upload in files:
        try:
            cleaned.append(validate_upload(upload))
        except ValidationError as error:
            errors.append(error)
    if errors:
        errors.append(ValidationError(ERROR_CHOOSE_AGAIN, code="choose_again"))
        raise ValidationError(errors)
    return cleaned


def _help_text() -> str:
    return HELP_TEXT.format(max=MAX_FILES_PER_SUBMISSION, limit=filesizeformat(max_bytes()))


class MultipleFileInput(forms.FileInput):
    """``<input type=file multiple>`` carrying the limits for static/js/attachments.js, which
    warns before a too large file or a program is sent (the server checks again anyway)."""

    allow_multiple_selected = True

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update(
            {
                "data-attachments": "",
                "data-max-bytes": str(max_bytes()),
                "data-max-label": filesizeformat(max_bytes()),
                "data-max-files": str(MAX_FILES_PER_SUBMISSION),
                "data-blocked": " ".join(sorted(BLOCKED_EXTENSIONS)),
            }
        )
        return context


class AttachmentsField(forms.FileField):
    """Several files in one ``<input type=file multiple>``; cleans to ``list[CleanedUpload]``.

    Needs ``enctype="multipart/form-data"`` on the form and ``request.FILES`` passed to it.
    A file input cannot be refilled by the server, so errors ask for the files again while the
    rest of the form keeps what was typed.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        kwargs.setdefault("help_text", lazy(_help_text, str)())
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if any(not hasattr(f, "name") or not hasattr(f, "size") for f in files):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return validate_uploads(files)

    def has_changed(self, initial, data):
        return bool(data)


# -- Writes -----------------------------------------------------------------------------------


def attachment_store(*, workspace_id: int, uploaded_by, upload) -> Attachment:
    """Validate one upload and put its bytes in storage; return the row, not yet saved.

    Call it before the transaction that writes the rows: an upload to a bucket can take seconds,
    and nothing may hold the ticket row or the workspace's audit chain lock meanwhile. Then
    ``attachment_attach`` writes the row and its audit event; if that never happens, remove the
    bytes with ``attachments_discard``. The key is random and says nothing about the file.
    """
    cleaned = upload if isinstance(upload, CleanedUpload) else validate_upload(upload)
    attachment = Attachment(
        workspace_id=workspace_id,
        uploaded_by=uploaded_by,
        original_name=cleaned.name,
        content_type=cleaned.content_type,
        size=cleaned.size,
    )
    content = File(cleaned.file, name=cleaned.name)
    # Object storages record a Content-Type: the one we would serve, never the browser's claim.
    content.content_type = served_content_type(cleaned.content_type)
    cleaned.file.seek(0)
    attachment.file.save(cleaned.name, content, save=False)
    return attachment


def attachments_store(*, workspace_id: int, uploaded_by, uploads) -> list[Attachment]:
    """``attachment_store`` for each upload, all or none: a failure removes the ones stored."""
    stored: list[Attachment] = []
    try:
        for upload in uploads or ():
            stored.append(attachment_store(workspace_id=workspace_id, uploaded_by=uploaded_by, upload=upload))
    except BaseException:
        attachments_discard(stored)
        raise
    return stored


@contextmanager
def attachments_stored(*, workspace_id: int, uploaded_by, uploads):
    """Store the uploads' bytes before the caller's transaction and hand them to it; if the
    caller fails, the bytes go again, so no file outlives a rolled-back write."""
    stored = attachments_store(workspace_id=workspace_id, uploaded_by=uploaded_by, uploads=uploads)
    try:
        yield stored
    except BaseException:
        attachments_discard(stored)
        raise


def attachments_discard(attachments) -> None:
    """Remove now the bytes of stored attachments whose rows were never written."""
    for attachment in attachments:
        try:
            delete_stored_file(storage=attachment.file.storage, name=attachment.file.name)
        except Exception:  # noqa: BLE001 - the caller's own error is the one to report
            logger.warning("Could not remove stored attachment %s", attachment.file.name, exc_info=True)


def attachment_attach(
    *, attachment: Attachment, ticket: Ticket, message: Message | None = None, request=None
) -> Attachment:
    """Write the row of a stored attachment on ``ticket`` (and optionally one of its messages)
    and audit ``attachment.uploaded`` (size and type, no name, no contents), in the caller's
    transaction."""
    if message is not None and message.ticket_id != ticket.pk:
        raise ValueError("The message belongs to another ticket.")
    if attachment.workspace_id != ticket.workspace_id:
        raise ValueError("The attachment was stored for another workspace.")
    attachment.ticket = ticket
    attachment.message = message
    attachment.full_clean()
    attachment.save()
    events.attachment_uploaded(
        attachment=attachment, ticket=ticket, actor=attachment.uploaded_by, request=request
    )
    return attachment


def attachment_add(*, ticket: Ticket, message: Message | None = None, uploaded_by, upload, request=None):
    """Store one file on a ticket (and optionally one of its messages); return the Attachment.

    ``upload`` is a ``CleanedUpload`` (from ``AttachmentsField``) or a raw ``UploadedFile``,
    which is validated here. The bytes are stored first, then the row and its audit event are
    written in one transaction; if that fails the stored bytes are removed again.
    """
    if message is not None and message.ticket_id != ticket.pk:
        raise ValueError("The message belongs to another ticket.")
    attachment = attachment_store(workspace_id=ticket.workspace_id, uploaded_by=uploaded_by, upload=upload)
    try:
        with transaction.atomic():
            attachment_attach(attachment=attachment, ticket=ticket, message=message, request=request)
    except BaseException:
        attachments_discard([attachment])
        raise
    return attachment


def attachments_record_rejected(form, *, membership, ticket=None, request=None) -> None:
    """Audit ``attachment.rejected`` when ``form`` (bound, validated) refused files of its
    ``attachments`` field: the reasons only (too large, a program...), never names or bytes."""
    reasons = [
        error.code for error in form.errors.as_data().get("attachments", ()) if error.code != "choose_again"
    ]
    if reasons:
        events.attachment_rejected(membership=membership, reasons=reasons, ticket=ticket, request=request)


def attachment_delete_file(attachment: Attachment) -> None:
    """Remove an attachment's bytes from storage once the surrounding transaction commits.

    On a versioned S3 bucket every version (and delete marker) of the key is removed, so nothing
    recoverable is left. Safe to call before deleting or anonymizing the row: the name and the
    storage are taken now. Does not audit: the caller records why the file went.
    """
    name = attachment.file.name
    if not name:
        return
    storage = attachment.file.storage
    delete_stored_file_on_commit(storage=storage, name=name)


def attachment_files_delete_on_commit(names) -> None:
    """``attachment_delete_file`` for many files at once (retention batches): one after-commit
    callback for all of them instead of one each. A file that fails to go is logged and the
    others still go, as with separate callbacks."""
    names = [name for name in names if name]
    if not names:
        return
    storage = Attachment._meta.get_field("file").storage

    def delete_attachment_files_after_commit():
        for name in names:
            try:
                delete_stored_file(storage=storage, name=name)
            except Exception:
                logger.exception("Could not delete a stored attachment file after commit.")

    transaction.on_commit(delete_attachment_files_after_commit, robust=True)


def attachment_record_download(*, attachment: Attachment, membership, request=None) -> None:
    events.attachment_downloaded(attachment=attachment, membership=membership, request=request)


# -- Headers ----------------------------------------------------------------------------------

_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9 ._()+,=@~-]")


def ascii_fallback_filename(name: str) -> str:
    """A plain-ASCII stand-in for old clients: accents folded, everything else replaced."""
    folded = "".join(
        unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii") or "_" for ch in name
    )
    folded = _ASCII_UNSAFE.sub("_", folded).strip(" .")
    stem, ext = split_extension(folded)
    if not stem.strip("_ "):
        stem = "download"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(name: str, *, inline: bool = False) -> str:
    """RFC 6266 header value with an ASCII ``filename`` and the exact UTF-8 ``filename*``."""
    name = sanitize_filename(name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_fallback_filename(name)}\"; filename*=UTF-8''{quote(name, safe='')}"
