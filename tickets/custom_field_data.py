"""The personal data custom fields hold (issue 13), registered from ``TicketsConfig.ready()``.

A value is personal when its field is marked "may hold personal data": those values belong to
the ticket's requester (the data subject). They are exported in the ``ticket_fields`` section
(with the ticket's workspace and number), deleted when the requester's account is erased (tickets
under a legal hold spared) and when retention anonymizes the ticket (``tickets.anonymize``), and
their text is searched for the erased person's name like other free text. Values of fields not
marked personal stay when a ticket is anonymized: they are the workspace's figures.

Visibility follows the ticket page: a requester's export holds only values of fields visible to
requesters; a value hidden from requesters never reaches one through the export either (an admin
answering an access request reads hidden personal fields on the ticket page).
"""

from __future__ import annotations

from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.export_context import CHUNK_ROWS, ExportContext, iso
from privacy.personal_data.registry import PersonalData
from tickets.models import CustomFieldValue
from tickets.personal_data import _scopes, own_tickets

SECTION = "ticket_fields"


def personal_values_of(user):
    """Values of personal fields on the tickets the person requested."""
    return CustomFieldValue.objects.filter(ticket__requester_id=user.pk, field__personal=True)


def erase_field_values(ctx: ErasureContext, entry) -> dict[str, int]:
    rows = personal_values_of(ctx.user)
    if ctx.held.ticket_ids:
        rows = rows.exclude(ticket_id__in=ctx.held.ticket_ids)
    deleted, _ = CustomFieldValue.objects.filter(pk__in=list(rows.values_list("pk", flat=True))).delete()
    return {"field_values_erased": deleted}


def erase_field_values_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_field_values`` for many people: one read, one DELETE."""
    by_id = {ctx.user.pk: ctx for ctx in contexts}
    counts = {user_id: {"field_values_erased": 0} for user_id in by_id}
    rows = CustomFieldValue.objects.filter(
        ticket__requester_id__in=list(by_id), field__personal=True
    ).values_list("pk", "ticket_id", "ticket__requester_id")
    doomed = []
    for pk, ticket_id, user_id in rows:
        if ticket_id not in by_id[user_id].held.ticket_ids:
            doomed.append(pk)
            counts[user_id]["field_values_erased"] += 1
    if doomed:
        CustomFieldValue.objects.filter(pk__in=doomed).delete()
    return counts


def export_field_values(ctx: ExportContext):
    for scope in _scopes(ctx):
        rows = CustomFieldValue.objects.filter(
            workspace_id=scope.workspace.pk,
            field__personal=True,
            ticket__requester_id=ctx.user.pk,
            ticket__in=own_tickets(scope).values("id"),
        )
        if not scope.membership.is_staff:
            rows = rows.filter(field__visible_to_requesters=True)
        values = rows.order_by("ticket__number", "field__position", "field_id").values_list(
            "ticket__number", "field__label", "field__kind", "value", "updated_at"
        )
        for number, label, kind, value, updated in values.iterator(chunk_size=CHUNK_ROWS):
            yield {
                "workspace": scope.workspace.slug,
                "ticket": number,
                "field": label,
                "kind": kind,
                "value": value,
                "updated_at": iso(updated),
            }


def register_personal_data() -> None:
    registry.register(
        CustomFieldValue,
        PersonalData(
            fields=("value",),
            subject=("ticket__requester_id",),
            rows=personal_values_of,
            export=SECTION,
            erase=erase_field_values,
            erase_many=erase_field_values_many,
            mentions=("value",),
            phase=35,
            description=(
                "Values of custom fields marked as possibly personal, on the person's tickets: exported "
                "and erased; values of other fields stay with the ticket."
            ),
        ),
    )
    registry.register_exporter(SECTION, export_field_values, order=45, workspace_scoped=True)
