"""What the ticket page shows of tags and custom fields (issue 13), for ``views._render_ticket``:
staff get the tags box and the fields form, requesters the values of the fields marked visible
to them (and nothing else). At most one query for the field values (none for staff when the
workspace has no field), and one for the tags when they were not read with the ticket."""

from django.urls import reverse

from tickets import custom_fields, tags
from tickets.tag_field_forms import TicketFieldsForm, TicketTagsForm


def suggest_url(membership) -> str:
    return reverse("tag_suggestions", kwargs={"slug": membership.workspace.slug})


def ticket_context(membership, ticket, *, tags_form=None, fields_form=None, has_fields=True) -> dict:
    """``has_fields``: whether the workspace has any active field (staff pages read it from the
    workspace cache, ``selectors.ticket_page_workspace``); without one, no values are asked for."""
    if not membership.is_staff:
        shown = custom_fields.ticket_values(ticket=ticket, for_requester=True)
        return {"custom_values": [v for v in shown if v.value]}
    names = tags.ticket_tag_names(ticket)  # read with the ticket on PostgreSQL (TICKET_PAGE_READS)
    shown = custom_fields.ticket_values(ticket=ticket, for_requester=False) if has_fields else []
    if tags_form is None:
        listed = ", ".join(names)
        tags_form = TicketTagsForm(
            initial={"tags": listed, "seen": listed}, suggest_url=suggest_url(membership)
        )
    if fields_form is None:
        fields_form = TicketFieldsForm(
            fields=[v.field for v in shown], values={v.field.pk: v.value for v in shown if v.value}
        )
    return {
        "tag_names": names,
        "tags_form": tags_form,
        "custom_values": [v for v in shown if v.value],
        "fields_form": fields_form,
    }


def fields_asked_on_new_ticket(membership) -> list:
    """The fields a requester fills in when opening a ticket: the active ones visible to them.
    Staff set fields on the ticket page instead (nothing asked, no query)."""
    if membership.is_staff:
        return []
    return list(custom_fields.fields_for(workspace_id=membership.workspace_id, for_requester=True))
