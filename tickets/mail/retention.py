"""The "raw email" retention kind: messages as they arrived, kept only for a while (default 30
days, ``RetentionPolicy.raw_email_days``). The sweep deletes the stored file and keeps the
``InboundEmail`` row (outcome, reason, ticket): what became of the email, without its bytes.
Registered from ``TicketsConfig.ready()``."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy

from helpdesk.storage import delete_stored_file_on_commit
from privacy.personal_data.retention_kinds import Batch, HoldSet, RetentionKind, cutoff, none_of, split_held
from tickets.holds import held_tickets
from tickets.mail.models import InboundEmail

RAW_EMAIL = "raw_email"


def due_raw_emails(workspace_id: int, policy, holds: HoldSet, now):
    limit = cutoff(policy.raw_email_days, now)
    if limit is None:
        return none_of(InboundEmail), none_of(InboundEmail)
    expired = InboundEmail.objects.filter(workspace_id=workspace_id, received_at__lt=limit).exclude(raw="")
    held = None
    if holds:
        held = Q(ticket_id__in=held_tickets(workspace_id, holds)) | Q(sender_id__in=sorted(holds.user_ids))
    return split_held(expired, holds, held)


def raw_email_file_names(ids) -> list[str]:
    return list(InboundEmail.objects.filter(pk__in=ids).exclude(raw="").values_list("raw", flat=True))


def raw_emails_act(batch: Batch) -> int:
    # The files go after commit; the sweep's outbox (``raw_email_file_names``) covers a crash.
    rows = InboundEmail.objects.filter(workspace_id=batch.workspace_id, pk__in=batch.ids)
    storage = InboundEmail._meta.get_field("raw").storage
    for name in rows.exclude(raw="").values_list("raw", flat=True):
        delete_stored_file_on_commit(storage=storage, name=name)
    return rows.update(raw="")


RAW_EMAIL_KIND = RetentionKind(
    name=RAW_EMAIL,
    label=gettext_lazy("Raw email"),
    help=gettext_lazy("Emails as they arrived, counted from their arrival; the ticket keeps the words."),
    days_field="raw_email_days",
    position=35,
    action="deleted",
    due=due_raw_emails,
    act=raw_emails_act,
    file_names=raw_email_file_names,
    order_by=("received_at", "pk"),
)
