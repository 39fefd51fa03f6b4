"""Permission matrix of the tickets app's URLs under ``/w/<slug>/``.

The entry format is documented in tests/workspaces/matrix.py; roles, ``LOGIN`` and the shortcuts
(``every_member``, ``admin_only``, ``only``) and the ``World`` with its tickets and queues are in
tests/matrix_support.py. tests/test_permission_matrix.py fails when a tickets URL has no entry.
"""

from tests.matrix_support import every_member


def _reply_attachment(world):
    """A PDF on the public first message of ``world.ticket`` (attachments area)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tickets.attachments import attachment_add

    ticket = world.ticket
    attachment = attachment_add(
        ticket=ticket,
        message=ticket.messages.filter(kind="reply").first(),
        uploaded_by=ticket.requester,
        upload=SimpleUploadedFile("report.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    return {"number": ticket.number, "attachment_id": attachment.pk}


# Attachments: whoever sees the ticket and the message; every member gets 405 for other methods.
ATTACHMENT_DOWNLOAD_GET = {
    **every_member(200),
    "agent_without_queue": 404,
    "requester_other": 404,
}

MATRIX = {
    "ticket_list": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": every_member(200),
    },
    "attachment_download": {
        "kwargs_factory": _reply_attachment,
        "methods": {"GET": {}, "POST": {}},
        "expected": {"GET": ATTACHMENT_DOWNLOAD_GET, "POST": every_member(405)},
    },
}
