"""What macros hold about a person, for export and account erasure.

A personal macro is the person's own words: exported with their account (section ``macros``)
and deleted when the account is erased. A shared macro is the workspace's: the person who wrote
or last changed it is listed in their export, and erasure keeps the text for the team while
``created_by`` / ``updated_by`` point at the tombstone (shown as the pseudonym); their name or
address written in any macro's name or text in their workspaces is replaced by the pseudonym
(``mentions``). Registered from ``TicketsConfig.ready()``.
"""

from django.db.models import Q

from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.export_context import ExportContext, iso
from privacy.personal_data.registry import PersonalData
from tickets.macros.models import Macro

EXPORT_SECTION = "macros"


def _of_person(user):
    return Macro.objects.filter(Q(owner_id=user.pk) | Q(created_by_id=user.pk) | Q(updated_by_id=user.pk))


def export_macros(ctx: ExportContext) -> list[dict]:
    rows = _of_person(ctx.user).select_related("workspace").order_by("workspace_id", "pk")
    if ctx.workspace_id is not None:
        rows = rows.filter(workspace_id=ctx.workspace_id)
    return [
        {
            "workspace": macro.workspace.slug,
            "shared": macro.is_shared,
            "yours": macro.owner_id == ctx.user.pk,
            "written_by_you": macro.created_by_id == ctx.user.pk,
            "last_changed_by_you": macro.updated_by_id == ctx.user.pk,
            "name": macro.name,
            "shortcut": macro.shortcut,
            "kind": macro.kind,
            "body": macro.body,
            "status": macro.status,
            "priority": macro.priority,
            "tags": list(macro.tags or []),
            "created_at": iso(macro.created_at),
            "updated_at": iso(macro.updated_at),
        }
        for macro in rows
    ]


def erase_macros(ctx: ErasureContext, entry) -> dict[str, int]:
    """Personal macros go; shared ones stay for the team, their author now the tombstone."""
    deleted = Macro.objects.filter(owner_id=ctx.user.pk).delete()[0]
    kept = Macro.objects.filter(owner__isnull=True).filter(
        Q(created_by_id=ctx.user.pk) | Q(updated_by_id=ctx.user.pk)
    )
    return {"personal_macros_deleted": deleted, "shared_macros_kept_as_pseudonym": kept.count()}


def erase_macros_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_macros`` for many people: one DELETE (read first, for the counts), one count of
    the shared ones each of them wrote."""
    ids = [ctx.user.pk for ctx in contexts]
    counts = {
        user_id: {"personal_macros_deleted": 0, "shared_macros_kept_as_pseudonym": 0} for user_id in ids
    }
    mine = list(Macro.objects.filter(owner_id__in=ids).values_list("pk", "owner_id"))
    for _pk, user_id in mine:
        counts[user_id]["personal_macros_deleted"] += 1
    if mine:
        Macro.objects.filter(pk__in=[pk for pk, _ in mine]).delete()
    shared = Macro.objects.filter(owner__isnull=True).filter(
        Q(created_by_id__in=ids) | Q(updated_by_id__in=ids)
    )
    for created_by, updated_by in shared.values_list("created_by_id", "updated_by_id"):
        for user_id in {created_by, updated_by}:
            if user_id in counts:
                counts[user_id]["shared_macros_kept_as_pseudonym"] += 1
    return counts


def register_personal_data() -> None:
    registry.register(
        Macro,
        PersonalData(
            fields=("name", "shortcut", "body", "tags", "created_at", "updated_at"),
            subject=("owner_id", "created_by_id", "updated_by_id"),
            export=EXPORT_SECTION,
            erase=erase_macros,
            erase_many=erase_macros_many,
            mentions=("name", "body"),
            phase=40,
            description="Personal macros deleted; shared ones kept, their author shown as the pseudonym.",
        ),
    )
    # After inbound_emails (66), before consents (70): docs/export-schema.md.
    registry.register_exporter(EXPORT_SECTION, export_macros, order=67, workspace_scoped=True)
