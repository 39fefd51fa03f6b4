"""The personal data of data-subject requests, declared in the registry (privacy/apps.py)."""

from privacy.personal_data import registry
from privacy.personal_data.export_context import ExportContext, iso
from privacy.personal_data.registry import PersonalData
from privacy.requests.models import SubjectRequest


def erase_subject_requests(ctx, entry) -> dict[str, int]:
    """The workspace keeps the record that it answered (accountability, art. 5(2)); the
    person's own words go."""
    blanked = SubjectRequest.objects.filter(subject_id=ctx.user.pk).exclude(details="").update(details="")
    return {"subject_request_details_blanked": blanked}


def erase_subject_requests_many(contexts, entry) -> dict[int, dict[str, int]]:
    ids = [ctx.user.pk for ctx in contexts]
    counts = {user_id: {"subject_request_details_blanked": 0} for user_id in ids}
    rows = list(
        SubjectRequest.objects.filter(subject_id__in=ids).exclude(details="").values_list("pk", "subject_id")
    )
    for _pk, user_id in rows:
        counts[user_id]["subject_request_details_blanked"] += 1
    if rows:
        SubjectRequest.objects.filter(pk__in=[pk for pk, _ in rows]).update(details="")
    return counts


def export_subject_requests(ctx: ExportContext) -> list[dict]:
    rows = (
        SubjectRequest.objects.filter(subject_id=ctx.user.pk)
        .select_related("workspace")
        .order_by("received_at", "id")
    )
    if ctx.workspace_id is not None:
        rows = rows.filter(workspace_id=ctx.workspace_id)
    return [
        {
            "workspace": r.workspace.slug,
            "kind": r.kind,
            "status": r.status,
            "details": r.details,
            "response": r.response,
            "received_at": iso(r.received_at),
            "due_at": iso(r.due_at),
            "closed_at": iso(r.closed_at),
        }
        for r in rows
    ]


def register_personal_data() -> None:
    registry.register(
        SubjectRequest,
        PersonalData(
            fields=("kind", "status", "details", "response", "received_at", "due_at", "closed_at"),
            subject=("subject_id",),
            export="subject_requests",
            erase=erase_subject_requests,
            erase_many=erase_subject_requests_many,
            phase=60,
            description="Requests to a workspace about one's data; the record stays, the person's words go.",
        ),
    )
    registry.register_exporter("subject_requests", export_subject_requests, order=115, workspace_scoped=True)
