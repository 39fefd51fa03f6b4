"""Attachment downloads: every request asks who may see the ticket and the message, then audits.

Local storage streams the bytes; S3 answers with a redirect to a presigned link that lives at
most five minutes and carries our Content-Type and Content-Disposition in its signature.
Only raster images and PDF may open in the browser; everything else (HTML, SVG, text,
archives...) downloads as ``application/octet-stream``.
"""

from django.http import FileResponse, Http404, HttpResponseRedirect
from django.views.decorators.http import require_GET

from helpdesk.storage import is_s3, presigned_download_url
from tickets.access import get_attachment_or_404
from tickets.attachments import (
    ERROR_NOT_FOUND,
    attachment_record_download,
    content_disposition,
    may_be_inline,
    served_content_type,
)
from workspaces.access import workspace_view

# A downloaded file must never run as part of our site, nor be framed.
DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
# Images shown by the browser's own viewer; PDF needs its viewer plugin, so no sandbox there.
INLINE_IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
INLINE_PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'none'"


def _protect(response, *, content_type: str, inline: bool):
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    if not inline:
        response["Content-Security-Policy"] = DOWNLOAD_CSP
    elif content_type == "application/pdf":
        response["Content-Security-Policy"] = INLINE_PDF_CSP
    else:
        response["Content-Security-Policy"] = INLINE_IMAGE_CSP
    return response


@workspace_view()
@require_GET
def attachment_download(request, membership, number: int, attachment_id: int):
    attachment = get_attachment_or_404(membership, number, attachment_id)
    content_type = served_content_type(attachment.content_type)
    inline = may_be_inline(attachment.content_type) and request.GET.get("download") != "1"
    disposition = content_disposition(attachment.original_name, inline=inline)
    storage = attachment.file.storage

    if is_s3(storage):
        attachment_record_download(attachment=attachment, membership=membership, request=request)
        url = presigned_download_url(
            storage=storage, name=attachment.file.name, content_type=content_type, disposition=disposition
        )
        response = HttpResponseRedirect(url)
        return _protect(response, content_type=content_type, inline=inline)

    try:
        handle = storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        raise Http404(ERROR_NOT_FOUND)
    attachment_record_download(attachment=attachment, membership=membership, request=request)
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = disposition
    return _protect(response, content_type=content_type, inline=inline)
