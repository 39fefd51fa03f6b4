"""What the email channel's delivery records hold about a person, for export and erasure.

``OutboundEmail`` rows say which emails about which tickets were sent to the person (never
their text); ``FailingAddress`` says mail to their address fails. Both go in the export's
``ticket_emails`` section and are deleted with the account. Registered from
``TicketsConfig.ready()``.

Inbound: ``InboundEmail`` holds the raw message (private storage), the sender's address on
refused mail and the full text of their email. Erasure deletes the raw file and blanks the
address and the full text of every message they sent; the export lists the emails they sent
(``inbound_emails``) with what became of each.
"""

from django.db.models import Q

from helpdesk.storage import delete_stored_file_on_commit
from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.export_context import CHUNK_ROWS, ExportContext, iso
from privacy.personal_data.registry import DELETE, PersonalData
from tickets.mail.failing import address_digest, address_is_failing
from tickets.mail.models import FailingAddress, InboundEmail, OutboundEmail

EXPORT_SECTION = "ticket_emails"


def export_ticket_emails(ctx: ExportContext) -> dict:
    rows = (
        OutboundEmail.objects.filter(recipient_id=ctx.user.pk)
        .order_by("pk")
        .values_list("workspace__slug", "ticket__number", "kind", "status", "error", "created_at", "sent_at")
    )
    return {
        "address_failing": address_is_failing(ctx.user.email),
        "emails": [
            {
                "workspace": slug,
                "ticket": number,
                "kind": kind,
                "status": status,
                "error": error,
                "created_at": iso(created),
                "sent_at": iso(sent),
            }
            for slug, number, kind, status, error, created, sent in rows.iterator(chunk_size=2000)
        ],
    }


def erase_failing_address(ctx: ErasureContext, entry) -> dict[str, int]:
    deleted = FailingAddress.objects.filter(digest=address_digest(ctx.email)).delete()[0]
    return {"failing_addresses_deleted": deleted}


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


def erase_failing_address_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_failing_address`` for many people: one read, one DELETE."""
    owner: dict[str, int] = {}
    for ctx in contexts:
        owner.setdefault(address_digest(ctx.email), ctx.user.pk)
    counts = {ctx.user.pk: {"failing_addresses_deleted": 0} for ctx in contexts}
    rows = list(FailingAddress.objects.filter(digest__in=list(owner)).values_list("pk", "digest"))
    for _pk, digest in rows:
        counts[owner[digest]]["failing_addresses_deleted"] += 1
    if rows:
        FailingAddress.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return counts


def erase_inbound_emails_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_inbound_emails`` for many people: one read, one UPDATE. A message matching two
    of them (sent by one from the other's address) counts for the first."""
    by_id = {ctx.user.pk: ctx for ctx in contexts}
    by_address: dict[str, int] = {}
    for ctx in contexts:
        if ctx.user.email:
            by_address.setdefault(ctx.user.email.lower(), ctx.user.pk)
    counts = {user_id: {"raw_emails_deleted": 0, "inbound_emails_scrubbed": 0} for user_id in by_id}
    condition = Q(sender_id__in=list(by_id))
    for address in by_address:
        condition |= Q(sender_address__iexact=address)
    rows = InboundEmail.objects.filter(condition).values_list(
        "pk", "sender_id", "sender_address", "ticket_id", "raw"
    )
    storage = InboundEmail._meta.get_field("raw").storage
    order = list(by_id)
    scrubbed = []
    for pk, sender_id, address, ticket_id, raw in rows.iterator(chunk_size=CHUNK_ROWS):
        owners = [u for u in (sender_id, by_address.get((address or "").lower())) if u in by_id]
        # The first of them to be erased (the order of the batch) whose hold does not keep it.
        owners = sorted(set(owners), key=order.index)
        owners = [u for u in owners if ticket_id not in by_id[u].held.ticket_ids]
        if not owners:
            continue
        owner = owners[0]
        if raw:
            delete_stored_file_on_commit(storage=storage, name=raw)
            counts[owner]["raw_emails_deleted"] += 1
        counts[owner]["inbound_emails_scrubbed"] += 1
        scrubbed.append(pk)
    if scrubbed:
        InboundEmail.objects.filter(pk__in=scrubbed).update(
            raw="", sender_address="", full_text="", sender=None
        )
    return counts


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
        OutboundEmail,
        PersonalData(
            fields=("kind", "status", "error", "created_at", "sent_at"),
            subject=("recipient_id",),
            # A signed header value that ties a reply to the ticket: not something to hand out.
            secret_fields=("email_message_id",),
            export=EXPORT_SECTION,
            erase=DELETE,
            phase=30,
            description="Which emails about tickets were sent to the person (never their text).",
        ),
    )
    registry.register(
        FailingAddress,
        PersonalData(
            # A keyed hash of the address: found again only by hashing the person's address.
            fields=("reason", "failures", "first_failed_at", "last_failed_at"),
            secret_fields=("digest",),
            export=EXPORT_SECTION,
            erase=erase_failing_address,
            erase_many=erase_failing_address_many,
            phase=30,
            description="Mail to the person's address failed for good; nothing is sent to it.",
        ),
    )
    # After attachments (60), before consents (70): docs/export-schema.md.
    registry.register_exporter(EXPORT_SECTION, export_ticket_emails, order=65)
    registry.register(
        InboundEmail,
        PersonalData(
            fields=("sender_address", "full_text", "received_at", "outcome", "reason"),
            secret_fields=("raw",),
            subject=("sender_id", "sender_address=email"),
            export="inbound_emails",
            erase=erase_inbound_emails,
            erase_many=erase_inbound_emails_many,
            mentions=("reason",),
            phase=20,
            description="Raw messages deleted; address and full text blanked; what happened stays.",
        ),
    )
    registry.register_exporter("inbound_emails", export_inbound_emails, order=66)
