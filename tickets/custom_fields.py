"""Custom ticket fields: admins define them per workspace (text, number, date, dropdown,
checkbox; required or not; visible to requesters or not; "may hold personal data" or not), staff
fill them in on the ticket page, requesters see (and, when opening a ticket, are asked) only the
ones marked visible to them.

Values are stored as validated text (``clean_value``): an ISO date, a plain decimal, "true" for a
ticked checkbox, the chosen option of a dropdown. An empty value has no row. Archived fields keep
their values (export, erasure and retention reach them) but are no longer shown or asked.

Who sees what is decided here once (``fields_for``): every door (the ticket page, the new-ticket
form, the export) asks it, so a field hidden from requesters never reaches one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy

from helpdesk import compiled_queries
from helpdesk.text import strip_bidi
from privacy.audit import events
from tickets import realtime
from tickets.models import (
    CUSTOM_FIELD_LABEL_MAX_LENGTH,
    CUSTOM_FIELD_VALUE_MAX_LENGTH,
    CustomField,
    CustomFieldValue,
    FieldKind,
    Ticket,
)
from workspaces.models import Workspace

LABEL_TAKEN = gettext_lazy("This workspace already has a field called “{label}”.")
LABEL_EMPTY = gettext_lazy("Give the field a label.")
OPTIONS_NEEDED = gettext_lazy("A dropdown needs at least one option: one per line.")
OPTIONS_TOO_MANY = gettext_lazy("A dropdown can have at most {limit} options.")
OPTION_TOO_LONG = gettext_lazy("An option can be at most {limit} characters long.")
NOT_A_NUMBER = gettext_lazy("Enter a number, such as 42 or 3.5.")
NOT_A_DATE = gettext_lazy("Enter a date as YYYY-MM-DD, such as 2026-03-31.")
NOT_AN_OPTION = gettext_lazy("Choose one of the listed options.")
VALUE_TOO_LONG = gettext_lazy("At most {limit} characters.")
VALUE_REQUIRED = gettext_lazy("“{label}” is required.")
MAX_OPTIONS = 50
OPTION_MAX_LENGTH = 100
TRUE = "true"


# Values ---------------------------------------------------------------------------------------


def clean_value(field: CustomField, raw) -> str:
    """The stored text of ``raw`` for ``field`` ("" for empty), or ``ValidationError`` with a
    message a person understands. Accepts what forms give (str, Decimal, date, bool)."""
    if raw is None or raw is False or (isinstance(raw, str) and not raw.strip()):
        return ""
    if field.kind == FieldKind.CHECKBOX:
        return TRUE if raw is True or str(raw).strip().lower() in (TRUE, "on", "1", "yes") else ""
    if field.kind == FieldKind.NUMBER:
        try:
            number = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValidationError(NOT_A_NUMBER, code="number") from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValidationError(NOT_A_NUMBER, code="number")
        text = format(number.normalize(), "f")
        return text if text != "-0" else "0"
    if field.kind == FieldKind.DATE:
        if isinstance(raw, datetime.date):
            return raw.isoformat()
        try:
            return datetime.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValidationError(NOT_A_DATE, code="date") from None
    text = strip_bidi(str(raw)).strip()
    if field.kind == FieldKind.DROPDOWN:
        if text not in field.options:
            raise ValidationError(NOT_AN_OPTION, code="option")
        return text
    if len(text) > CUSTOM_FIELD_VALUE_MAX_LENGTH:
        raise ValidationError(VALUE_TOO_LONG.format(limit=CUSTOM_FIELD_VALUE_MAX_LENGTH), code="too_long")
    return text


def value_for_form(field: CustomField, stored: str):
    """What a form shows for a stored value."""
    if field.kind == FieldKind.CHECKBOX:
        return stored == TRUE
    return stored


# Reads ----------------------------------------------------------------------------------------


def fields_for(*, workspace_id: int, for_requester: bool, include_archived: bool = False):
    """The workspace's fields a person may see: staff every active field, requesters only those
    marked visible to them. In the admins' order."""
    fields = CustomField.objects.filter(workspace_id=workspace_id)
    if not include_archived:
        fields = fields.filter(archived_at__isnull=True)
    if for_requester:
        fields = fields.filter(visible_to_requesters=True)
    return fields.order_by("position", "id")


def has_active_fields(workspace_id: int) -> bool:
    """Whether staff's ticket pages have any field to show (kept in tickets.workspace_cache)."""
    return fields_for(workspace_id=workspace_id, for_requester=False).exists()


@dataclass(frozen=True)
class ShownValue:
    field: CustomField
    value: str  # stored text, "" when empty


def ticket_values(*, ticket: Ticket, for_requester: bool) -> list[ShownValue]:
    """The ticket's value of each field the viewer may see (empty ones included). One query."""

    def build(workspace_id, ticket_id):
        stored = CustomFieldValue.objects.filter(ticket_id=ticket_id, field_id=OuterRef("pk")).values(
            "value"
        )[:1]
        fields = fields_for(workspace_id=workspace_id, for_requester=for_requester)
        return fields.annotate(stored_value=Subquery(stored))

    # On every view of a ticket: its SQL is kept per process (helpdesk.compiled_queries).
    shape = ("custom_field_values", connection.vendor, for_requester)
    fields = compiled_queries.rows_of(
        shape, build, {"workspace_id": ticket.workspace_id, "ticket_id": ticket.pk}
    )
    return [ShownValue(field=f, value=f.stored_value or "") for f in fields]


def admin_fields(workspace: Workspace):
    """Every field of the workspace for its admins, archived ones last."""
    return CustomField.objects.filter(workspace_id=workspace.pk).order_by("archived_at", "position", "id")


def field_of(workspace: Workspace, field_id: int) -> CustomField | None:
    return CustomField.objects.filter(workspace_id=workspace.pk, pk=field_id).first()


# Field definitions (admins) -------------------------------------------------------------------


DEFINITION_FIELDS = ("label", "options", "required", "visible_to_requesters", "personal", "position")


def clean_options(kind: str, options) -> list[str]:
    """The dropdown's options, in order, without blanks and repeats (``[]`` for other kinds)."""
    if kind != FieldKind.DROPDOWN:
        return []
    if isinstance(options, str):
        options = options.splitlines()
    cleaned = []
    for option in options or []:
        option = strip_bidi(str(option)).strip()
        if option and option not in cleaned:
            if len(option) > OPTION_MAX_LENGTH:
                raise ValidationError({"options": OPTION_TOO_LONG.format(limit=OPTION_MAX_LENGTH)})
            cleaned.append(option)
    if not cleaned:
        raise ValidationError({"options": OPTIONS_NEEDED})
    if len(cleaned) > MAX_OPTIONS:
        raise ValidationError({"options": OPTIONS_TOO_MANY.format(limit=MAX_OPTIONS)})
    return cleaned


def _clean_label(label: str) -> str:
    label = " ".join(strip_bidi(label or "").split())[:CUSTOM_FIELD_LABEL_MAX_LENGTH]
    if not label:
        raise ValidationError({"label": LABEL_EMPTY})
    return label


def _save_definition(field: CustomField) -> None:
    """Save, turning the case-insensitive label clash into a form error (also when two admins
    create the same label at once: the database constraint decides)."""
    clash = CustomField.objects.filter(workspace_id=field.workspace_id, label__iexact=field.label)
    if field.pk:
        clash = clash.exclude(pk=field.pk)
    if clash.exists():
        raise ValidationError({"label": LABEL_TAKEN.format(label=field.label)})
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError:
        raise ValidationError({"label": LABEL_TAKEN.format(label=field.label)}) from None


@transaction.atomic
def custom_field_create(
    *,
    workspace: Workspace,
    label: str,
    kind: str,
    options=(),
    required: bool = False,
    visible_to_requesters: bool = False,
    personal: bool = False,
    position: int | None = None,
    actor,
    request=None,
) -> CustomField:
    """Add a field to every ticket of ``workspace``. Audits ``custom_field.created``. A new
    field goes last unless ``position`` says otherwise."""
    if kind not in FieldKind.values:
        raise ValidationError({"kind": NOT_AN_OPTION})
    if position is None:
        last = CustomField.objects.filter(workspace_id=workspace.pk).order_by("-position").first()
        position = (last.position + 1) if last else 1
    field = CustomField(
        workspace=workspace,
        label=_clean_label(label),
        kind=kind,
        options=clean_options(kind, options),
        required=required,
        visible_to_requesters=visible_to_requesters,
        personal=personal,
        position=position,
    )
    field.full_clean(validate_constraints=False)
    _save_definition(field)
    events.custom_field_created(field=field, actor=actor, request=request)
    return field


@transaction.atomic
def custom_field_update(*, field: CustomField, values: dict, actor, request=None) -> list[str]:
    """Change a field's settings (``values``: any of ``DEFINITION_FIELDS``; the kind never
    changes). Returns the names that changed; audits ``custom_field.changed`` when any did.
    Values already stored stay as they are (a removed dropdown option stays on old tickets)."""
    field = CustomField.objects.select_for_update().get(pk=field.pk, workspace_id=field.workspace_id)
    changed = []
    for name in DEFINITION_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name == "label":
            value = _clean_label(value)
        elif name == "options":
            value = clean_options(field.kind, value)
        if getattr(field, name) != value:
            setattr(field, name, value)
            changed.append(name)
    if not changed:
        return []
    field.full_clean(validate_constraints=False)
    _save_definition(field)
    events.custom_field_changed(field=field, changed=changed, actor=actor, request=request)
    return changed


@transaction.atomic
def custom_field_set_archived(*, field: CustomField, archived: bool, actor, request=None) -> CustomField:
    """Archive a field (no longer shown or asked; values kept) or bring it back. Audits
    ``custom_field.archived``, or ``custom_field.changed`` (``archived``) when restored."""
    field = CustomField.objects.select_for_update().get(pk=field.pk, workspace_id=field.workspace_id)
    if (field.archived_at is not None) == archived:
        return field
    field.archived_at = timezone.now() if archived else None
    field.save(update_fields=["archived_at"])
    if archived:
        events.custom_field_archived(field=field, actor=actor, request=request)
    else:
        events.custom_field_changed(field=field, changed=["archived"], actor=actor, request=request)
    return field


# Values on a ticket ---------------------------------------------------------------------------


@transaction.atomic
def ticket_set_field_values(
    *,
    ticket: Ticket,
    values: dict,
    actor,
    request=None,
    for_requester: bool = False,
    enforce_required: bool = True,
) -> list[CustomField]:
    """Set the values of a ticket's fields. ``values``: ``{field id: raw value}`` (a value as a
    form cleans it, or text; empty clears it). Only the fields the actor may see are considered
    (``for_requester``: those visible to requesters); ids of other fields are ignored.

    With ``enforce_required``, every required field among those considered must end up with a
    value (``VALUE_REQUIRED``): that is the staff fields form and a requester's new ticket. A
    caller setting one field by itself (a macro, an import) passes ``enforce_required=False``.
    All or nothing: an invalid value raises ``ValidationError`` keyed ``cf_<id>`` and nothing is
    saved. Locks the ticket row. When something changed: bumps ``updated_at`` (and
    ``public_updated_at`` if a changed field is visible to requesters) and the version, audits
    ONE ``ticket.fields_changed`` (field ids and labels, never the values) and announces it
    after commit (to requesters' pages too only when a requester-visible field changed).
    Returns the fields whose value changed.
    """
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("workspace", "queue")
        .get(pk=ticket.pk, workspace_id=ticket.workspace_id)
    )
    fields = list(fields_for(workspace_id=locked.workspace_id, for_requester=for_requester))
    current = {
        row.field_id: row
        for row in CustomFieldValue.objects.filter(ticket_id=locked.pk, workspace_id=locked.workspace_id)
    }
    errors, cleaned = {}, {}
    for field in fields:
        raw = values.get(field.pk, values.get(str(field.pk)))
        if field.pk not in values and str(field.pk) not in values:
            if enforce_required and field.required and field.pk not in current:
                errors[f"cf_{field.pk}"] = VALUE_REQUIRED.format(label=field.label)
            continue
        try:
            cleaned[field.pk] = clean_value(field, raw)
        except ValidationError as error:
            errors[f"cf_{field.pk}"] = error.messages
            continue
        if enforce_required and field.required and not cleaned[field.pk]:
            errors[f"cf_{field.pk}"] = VALUE_REQUIRED.format(label=field.label)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    changed = []
    for field in fields:
        if field.pk not in cleaned:
            continue
        new, row = cleaned[field.pk], current.get(field.pk)
        if row is None and new:
            CustomFieldValue.objects.create(
                workspace_id=locked.workspace_id, ticket=locked, field=field, value=new, updated_at=now
            )
        elif row is not None and not new:
            row.delete()
        elif row is not None and row.value != new:
            row.value, row.updated_at = new, now
            row.save(update_fields=["value", "updated_at"])
        else:
            continue
        changed.append(field)
    if not changed:
        return []
    public = any(f.visible_to_requesters for f in changed)
    locked.updated_at = max(now, locked.updated_at)
    locked.version += 1
    locked.properties_changed_by = actor
    update = ["updated_at", "version", "properties_changed_by"]
    if public:
        locked.public_updated_at = max(now, locked.public_updated_at)
        update.append("public_updated_at")
    locked.save(update_fields=update)
    events.ticket_fields_changed(ticket=locked, fields=changed, actor=actor, request=request)
    transaction.on_commit(lambda: realtime.broadcast_ticket(locked, public=public), robust=True)
    return changed
