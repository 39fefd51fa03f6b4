"""Data-subject requests: a person asks a workspace (the controller) about their data there, on
their account page or through an admin; the workspace's admins answer from the console.

What the console does reaches domain data only through the registrations of the apps that own
it: what is held is counted through the personal-data registry, the export is the account
export limited to the exporters registered ``workspace_scoped`` (``write_archive(...,
workspace_id=...)``), and erasure in one workspace runs the same hooks the retention sweep runs
for an inactive requester (``requester_expiry_hooks``: their tickets anonymized, their words
redacted, their files deleted, legal holds respected), then ends the membership. The person's
account and their data in other workspaces are never touched.
"""

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.storage import delete_stored_file_on_commit
from privacy.account.consents import PURPOSES, consents_set
from privacy.account.export import write_archive
from privacy.account.models import ConsentSource
from privacy.audit import actions, events
from privacy.audit.models import AuditEvent
from privacy.audit.selectors import USER_TARGET_TYPE, with_actor_names
from privacy.personal_data import registry
from privacy.personal_data.retention_kinds import Batch, hold_lookups, requester_expiry_hooks
from privacy.requests.models import (
    OPEN_STATUSES,
    RequestKind,
    RequestStatus,
    RequestVia,
    SubjectRequest,
    default_due,
)
from privacy.retention.holds import holds_in
from workspaces.access import NOT_FOUND
from workspaces.models import Membership
from workspaces.services import member_remove

PERSON_NOT_FOUND = _(
    "Nobody with that email address is a member of this workspace or a person on its tickets."
)
NOT_A_MEMBER = _("You are not a member of that workspace.")
ALREADY_CLOSED = _("This request is already closed.")
ERASE_NEEDS_CONFIRMATION = _("Tick the box to confirm: this cannot be undone.")
ERASE_NO_SUBJECT = _("The person of this request no longer has an account.")


# Reads -------------------------------------------------------------------------------------------


def find_person(workspace, email: str):
    """The person with this address among the workspace's members and its tickets' people."""
    return hold_lookups().find_person(workspace, (email or "").strip())


def requests_of(workspace):
    return SubjectRequest.objects.filter(workspace_id=workspace.pk).select_related("subject")


def get_request_or_404(membership, pk: int) -> SubjectRequest:
    """A request of the admin's workspace, or the same 404 for missing and foreign ones."""
    found = requests_of(membership.workspace).filter(pk=pk).select_related("workspace", "filed_by").first()
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def requests_of_person(user):
    """The person's own requests, to every workspace, newest first (their account page)."""
    return SubjectRequest.objects.filter(subject_id=user.pk).select_related("workspace")


def holdings(workspace_id: int, user) -> list[dict]:
    """What the workspace holds about the person: one row per registered model with rows of
    theirs in this workspace (models without a workspace column are the account's, not the
    workspace's). One COUNT per such model."""
    rows = []
    for entry in registry.entries():
        model = entry.model
        field_names = {f.name for f in model._meta.concrete_fields}
        if "workspace" not in field_names or not entry.subject:
            continue
        count = entry.rows_of(user).filter(workspace_id=workspace_id).count()
        if count:
            rows.append(
                {
                    "label": str(model._meta.verbose_name_plural).capitalize(),
                    "fields": ", ".join(entry.fields),
                    "count": count,
                    "description": entry.description,
                }
            )
    return rows


def membership_in(workspace_id: int, user_id: int | None) -> Membership | None:
    if user_id is None:
        return None
    return (
        Membership.objects.filter(workspace_id=workspace_id, user_id=user_id)
        .select_related("workspace", "user")
        .first()
    )


def trail(subject_request: SubjectRequest) -> list:
    """The request's audit trail: its own events, and the restriction steps about its person in
    this workspace since it was received (oldest first)."""
    about = Q(target_type=SubjectRequest._meta.label_lower, target_id=str(subject_request.pk))
    if subject_request.subject_id is not None:
        about |= Q(
            target_type=USER_TARGET_TYPE,
            target_id=str(subject_request.subject_id),
            action__in=[
                actions.MEMBER_RESTRICTED,
                actions.MEMBER_RESTRICTION_RELEASED,
                actions.MEMBER_REMOVED,
            ],
            created_at__gte=subject_request.received_at,
        )
    events_found = (
        AuditEvent.objects.filter(workspace_id=subject_request.workspace_id).filter(about).order_by("id")
    )
    return with_actor_names(list(events_found[:200]))


# Writes ------------------------------------------------------------------------------------------


@transaction.atomic
def request_file(
    *, workspace, subject, kind: str, details: str = "", filed_by, via: str, request=None, now=None
) -> SubjectRequest:
    """Record a request (due in 30 days). Audits ``subject_request.filed``. An objection filed
    by the person withdraws their optional consents at once (``account.consents_updated``):
    objecting to direct marketing needs no assessment (art. 21(3))."""
    now = now or timezone.now()
    subject_request = SubjectRequest(
        workspace=workspace,
        subject=subject,
        filed_by=filed_by,
        via=via,
        kind=kind,
        details=(details or "").strip(),
        received_at=now,
        due_at=default_due(now),
    )
    subject_request.full_clean()
    subject_request.save()
    events.subject_request_filed(subject_request=subject_request, actor=filed_by, request=request)
    if kind == RequestKind.OBJECTION:
        consents_set(
            user=subject,
            answers=dict.fromkeys(PURPOSES, False),
            source=ConsentSource.ACCOUNT if via == RequestVia.ACCOUNT else ConsentSource.OPERATOR,
            request=request,
        )
    return subject_request


def _lock(subject_request: SubjectRequest) -> SubjectRequest:
    return (
        SubjectRequest.objects.select_for_update(of=("self",))
        .select_related("workspace", "subject")
        .get(pk=subject_request.pk, workspace_id=subject_request.workspace_id)
    )


@transaction.atomic
def request_set_status(
    *, subject_request: SubjectRequest, status: str, response: str = "", actor, request=None, now=None
) -> SubjectRequest:
    """Move the request on; closing it (completed, refused) dates it. Audits
    ``subject_request.status_changed`` when the status changed."""
    if status not in RequestStatus.values:
        raise ValidationError({"status": _("Choose one of the listed statuses.")})
    locked = _lock(subject_request)
    old = locked.status
    locked.status = status
    locked.response = (response or "").strip() or locked.response
    locked.closed_at = None if status in OPEN_STATUSES else (locked.closed_at or now or timezone.now())
    locked.full_clean()
    locked.save(update_fields=["status", "response", "closed_at"])
    if old != status:
        events.subject_request_status_changed(subject_request=locked, old=old, actor=actor, request=request)
    return locked


def request_export(*, subject_request: SubjectRequest, fileobj, actor, request=None) -> int:
    """Write the ZIP of what this workspace holds about the person into ``fileobj``; returns its
    size. Audits ``subject_request.exported``."""
    if subject_request.subject is None:
        raise ValidationError(ERASE_NO_SUBJECT)
    write_archive(subject_request.subject, fileobj, workspace_id=subject_request.workspace_id)
    size = fileobj.tell()
    events.subject_request_exported(subject_request=subject_request, size=size, actor=actor, request=request)
    return size


def _queue_files(names) -> None:
    for name in names:
        if name:
            delete_stored_file_on_commit(storage=default_storage, name=name)


@transaction.atomic
def request_erase(*, subject_request: SubjectRequest, actor, request=None, now=None) -> dict[str, int]:
    """Erase the person's data in this workspace only: the apps' requester-expiry hooks
    anonymize their tickets, redact their words and delete their files here (legal holds of the
    workspace spared), then their membership ends (``member.removed``). Their account and other
    workspaces stay as they are. Completes the request; audits ``subject_request.erased`` with
    the counts. All or nothing (the last admin cannot be erased: make another admin first)."""
    locked = _lock(subject_request)
    if locked.subject is None:
        raise ValidationError(ERASE_NO_SUBJECT)
    now = now or timezone.now()
    batch = Batch(
        workspace_id=locked.workspace_id,
        ids=[],
        policy=None,
        holds=holds_in(locked.workspace_id, now=now),
        now=now,
        queue_files=_queue_files,
        erase_account=lambda user: None,  # never: the account is not this workspace's to erase
    )
    counts: dict[str, int] = {}
    for expire in requester_expiry_hooks():
        for key, value in expire(batch, locked.subject_id).items():
            counts[key] = counts.get(key, 0) + value
    membership = membership_in(locked.workspace_id, locked.subject_id)
    if membership is not None:
        member_remove(membership=membership, actor=actor, request=request)
        counts["memberships_ended"] = 1
    old = locked.status
    locked.status = RequestStatus.COMPLETED
    locked.closed_at = now
    locked.save(update_fields=["status", "closed_at"])
    events.subject_request_erased(subject_request=locked, counts=counts, actor=actor, request=request)
    if old != locked.status:
        events.subject_request_status_changed(subject_request=locked, old=old, actor=actor, request=request)
    return counts


def member_workspaces(user) -> list:
    """The workspaces a person may file a request with: the ones they are a member of."""
    return [
        m.workspace
        for m in Membership.objects.filter(user_id=user.pk)
        .select_related("workspace")
        .order_by("workspace__name")
    ]
