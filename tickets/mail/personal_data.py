"""What the email channel holds about a person, for export and account erasure.

- ``InboundEmail``: the raw message (private storage), the sender's address on refused mail and
  the full text of their email. Erasure deletes the raw file, blanks the address and the full
  text of every message they sent (and blanks their address wherever a kept header named it);
  the export lists the emails they sent with what became of each.
- ``FailingAddress``: a bounce record of their address; erasure deletes it.
"""

from __future__ import annotations

from django.db.models import Q

from helpdesk.storage import delete_stored_file_on_commit
from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.export_context import CHUNK_ROWS, ExportContext, iso
from privacy.personal_data.registry import DELETE, PersonalData
from tickets.mail.models import FailingAddress, InboundEmail


def _of_person(user):
    return InboundEmail.objects.filter(Q(sender_id=user.pk) | Q(sender_address__iexact=user.email))


def erase_inbound_emails(ctx: ErasureContext, entry) -> dict[str, int]:
    rows = _of_person(ctx.user)
    if ctx.held.ticket_ids:
        rows = rows.exclude(ticket_id__in=ctx.held.ticket_ids)
    files = 0
    for name in rows.exclude(raw="").values_list("raw", flat=True).iterator(chunk_size=CHUNK_ROWS):
        delete_stored_file_on_commit(storage=InboundEmail._meta.get_field("raw").storage, name=name)
        files += 1
    updated = rows.update(raw="", sender_address="", full_text="", sender=None)
    return {"raw_emails_deleted": files, "inbound_emails_scrubbed": updated}


def export_inbound_emails(ctx: ExportContext):
    rows = _of_person(ctx.user).select_related("workspace", "ticket", "mailbox").order_by("received_at", "pk")
    for row in rows.iterator(chunk_size=CHUNK_ROWS):
        yield {
            "workspace": row.workspace.slug,
            "mailbox": row.mailbox.address,
            "received_at": iso(row.received_at),
            "outcome": row.outcome,
            "reason": row.reason,
            "ticket": row.ticket.number if row.ticket_id else None,
            "full_text": row.full_text,
        }


def register_personal_data() -> None:
    registry.register(
        InboundEmail,
        PersonalData(
            fields=("sender_address", "full_text", "received_at", "outcome", "reason"),
            secret_fields=("raw",),
            subject=("sender_id", "sender_address=email"),
            export="inbound_emails",
            erase=erase_inbound_emails,
            mentions=("reason",),
            phase=20,
            description="Raw messages deleted; address and full text blanked; what happened stays.",
        ),
    )
    registry.register(
        FailingAddress,
        PersonalData(
            fields=("address", "status", "failures", "first_failed_at", "last_failed_at"),
            subject=("user_id", "address=email"),
            export=None,
            not_exported="A delivery-failure mark of the person's address for staff; deleted on erasure.",
            erase=DELETE,
            phase=20,
        ),
    )
    registry.register_exporter("inbound_emails", export_inbound_emails, order=65)
