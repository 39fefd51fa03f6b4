"""What the workspaces app holds about a person, and how export and account erasure reach it.

Registered from ``WorkspacesConfig.ready()`` (``register_personal_data``): the personal-data
declarations of the user, memberships, invitations and queue grants with their erasers, the
``profile``, ``memberships`` and ``invitations`` sections of the export, the workspaces a person
belongs to, why the last admin may not delete their account yet, and what deactivating an
account tells open websockets. privacy/account walks these registrations and never imports this
app.
"""

from __future__ import annotations

import json

from django.contrib.auth.hashers import make_password
from django.db.models import CharField, F, Func, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpdesk.id_arrays import IdsIn
from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.export_context import ExportContext, iso
from privacy.personal_data.registry import DELETE, PersonalData
from workspaces.access import queue_grants
from workspaces.intake_models import HelpRequest
from workspaces.models import Invitation, Membership, QueueUserObjectPermission, Role, User, Workspace
from workspaces.realtime import announce_access_changed
from workspaces.services import member_remove, member_remove_many
from workspaces.two_factor.models import Passkey, RecoveryCode, SecondFactorLock

ERASED_EMAIL = "erased-{pk}@erased.invalid"
ERASED_EMAIL_PREFIX, ERASED_EMAIL_SUFFIX = ERASED_EMAIL.split("{pk}")
SECOND_FACTOR_SECRETS = _(
    "Sign-in secrets of a second factor; adding, removing and using factors is exported as audit_events."
)
LAST_ADMIN_DELETION = _(
    "You are the only admin of {workspaces}. Make another member an admin there (Members page) "
    "before deleting your account, so the workspace is not left without anyone to run it."
)

# Erasure ----------------------------------------------------------------------------------------------


def user_tombstone(user, *, label: str) -> None:
    """Turn the person's row into an inert tombstone named by the pseudonym.

    The row stays so foreign keys (ticket requester, message author, audit actor) remain valid and
    every reference shows the same pseudonym. No login is possible: no usable password, inactive,
    an address in the reserved ``.invalid`` domain.
    """
    user.email = ERASED_EMAIL.format(pk=user.pk)
    user.display_name = label
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.language = ""
    user.time_zone = ""
    user.last_login = None
    user.email_confirmed_at = None
    user.save()
    user.groups.clear()
    user.user_permissions.clear()


def erase_user_profile(ctx: ErasureContext, entry) -> dict[str, int]:
    user_tombstone(ctx.user, label=ctx.pseudonym)
    return {"profile_erased": 1}


def erase_memberships(ctx: ErasureContext, entry) -> dict[str, int]:
    """End every membership through the workspace service: queue grants and participations go,
    each workspace's log records ``member.removed``, open websockets are told to close."""
    ended = 0
    for membership in Membership.objects.filter(user_id=ctx.user.pk).select_related("workspace", "user"):
        member_remove(membership=membership, actor=None)
        ended += 1
    return {"memberships_ended": ended}


def erase_invitations(ctx: ErasureContext, entry) -> dict[str, int]:
    """Invitations addressed to the person hold their address: deleted. Invitations they sent
    stay (``invited_by`` points at the tombstone)."""
    return {"invitations_deleted": entry.delete_rows_of(ctx.user)}


class _TextById(Func):
    """The text ``texts`` (``{id: text}``) holds for the row's primary key, from one JSON
    parameter. A CASE of one WHEN per row took 0.2-0.3 s per 1,000 people to build and run (the
    retention sweep's batches of inactive requesters), this 22 ms (PostgreSQL, 100k tickets)."""

    output_field = CharField()

    def __init__(self, texts: dict[int, str]):
        super().__init__(F("pk"))
        self.texts = json.dumps({str(pk): text for pk, text in texts.items()})

    def as_sql(self, compiler, connection, **extra):  # SQLite's JSON functions
        column, params = compiler.compile(self.source_expressions[0])
        return f"json_extract(%s, '$.\"' || {column} || '\"')", [self.texts, *params]

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"(%s::jsonb ->> ({column})::text)", [self.texts, *params]


def user_tombstones(users, *, labels: dict[int, str]) -> None:
    """``user_tombstone`` for many people in three statements: one UPDATE (the same values,
    the address built from each id, each label picked by id), their group and permission links
    cleared in one statement each. The password is unusable (``!`` prefix) and differs per row."""
    users = list(users)
    if not users:
        return
    ids = [user.pk for user in users]
    unusable = make_password(None)
    email = Concat(Value(ERASED_EMAIL_PREFIX), Cast("pk", CharField()), Value(ERASED_EMAIL_SUFFIX))
    User._base_manager.filter(IdsIn("pk", ids)).update(
        email=email,
        display_name=_TextById({pk: labels[pk] for pk in ids}),
        password=Concat(Value(unusable), Value("-"), Cast("pk", CharField())),
        is_active=False,
        is_staff=False,
        is_superuser=False,
        language="",
        time_zone="",
        last_login=None,
        email_confirmed_at=None,
    )
    User.groups.through.objects.filter(IdsIn("user_id", ids)).delete()
    User.user_permissions.through.objects.filter(IdsIn("user_id", ids)).delete()
    for user in users:
        # The callers' objects show the tombstone too, as ``user_tombstone`` leaves them: the
        # same values the UPDATE wrote, built here rather than read back.
        user.email = ERASED_EMAIL.format(pk=user.pk)
        user.display_name = labels[user.pk]
        user.password = f"{unusable}-{user.pk}"
        user.is_active = user.is_staff = user.is_superuser = False
        user.language = user.time_zone = ""
        user.last_login = user.email_confirmed_at = None


def erase_user_profile_many(contexts, entry) -> dict[int, dict[str, int]]:
    user_tombstones([ctx.user for ctx in contexts], labels={ctx.user.pk: ctx.pseudonym for ctx in contexts})
    return {ctx.user.pk: {"profile_erased": 1} for ctx in contexts}


def erase_memberships_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_memberships`` for many people: ``member_remove_many`` ends them all."""
    memberships = list(Membership.objects.filter(user_id__in=[ctx.user.pk for ctx in contexts]))
    counts = {ctx.user.pk: {"memberships_ended": 0} for ctx in contexts}
    for membership in memberships:
        counts[membership.user_id]["memberships_ended"] += 1
    member_remove_many(memberships=memberships, actor=None)
    return counts


def erase_invitations_many(contexts, entry) -> dict[int, dict[str, int]]:
    """``erase_invitations`` for many people: one read, one DELETE. An invitation to an address
    two of them had counts for the first."""
    counts = {ctx.user.pk: {"invitations_deleted": 0} for ctx in contexts}
    owner: dict[str, int] = {}
    for ctx in contexts:
        if ctx.user.email:
            owner.setdefault(ctx.user.email.lower(), ctx.user.pk)
    if not owner:
        return counts
    condition = Q(pk__in=[])
    for email in owner:
        condition |= Q(email__iexact=email)
    rows = list(Invitation._base_manager.filter(condition).values_list("pk", "email"))
    for _pk, email in rows:
        counts[owner[email.lower()]]["invitations_deleted"] += 1
    if rows:
        Invitation._base_manager.filter(pk__in=[pk for pk, _ in rows]).delete()
    return counts


def member_workspace_ids(user) -> set[int]:
    return set(Membership.objects.filter(user_id=user.pk).values_list("workspace_id", flat=True))


def staff_workspace_ids(user) -> set[int]:
    return set(
        Membership.objects.filter(user_id=user.pk, role__in=[Role.ADMIN, Role.AGENT]).values_list(
            "workspace_id", flat=True
        )
    )


def _workspace_ids_many(users, **filters) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {user.pk: set() for user in users}
    rows = Membership.objects.filter(user_id__in=list(found), **filters).values_list(
        "user_id", "workspace_id"
    )
    for user_id, workspace_id in rows:
        found[user_id].add(workspace_id)
    return found


def member_workspace_ids_many(users) -> dict[int, set[int]]:
    return _workspace_ids_many(users)


def staff_workspace_ids_many(users) -> dict[int, set[int]]:
    return _workspace_ids_many(users, role__in=[Role.ADMIN, Role.AGENT])


def sole_admin_workspaces(user) -> list[Workspace]:
    """Workspaces where ``user`` is the only admin (they must hand over first)."""
    mine = Membership.objects.filter(user_id=user.pk, role=Role.ADMIN).values("workspace_id")
    other_admins = Membership.objects.filter(role=Role.ADMIN).exclude(user_id=user.pk).values("workspace_id")
    return list(Workspace.objects.filter(pk__in=mine).exclude(pk__in=other_admins).order_by("name"))


def last_admin_blockers(user) -> list[str]:
    workspaces = sole_admin_workspaces(user)
    if not workspaces:
        return []
    names = ", ".join(f"“{w.name}”" for w in workspaces)
    return [LAST_ADMIN_DELETION.format(workspaces=names)]


def announce_deactivated(user) -> None:
    """Open websockets of the person re-check their access (and close: the account is inactive)."""
    for workspace_id in member_workspace_ids(user):
        announce_access_changed(workspace_id=workspace_id, user_id=user.pk)


# Export -----------------------------------------------------------------------------------------------


def export_profile(ctx: ExportContext) -> dict:
    user = ctx.user
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "language": user.language,
        "time_zone": user.time_zone,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
        "email_confirmed_at": iso(user.email_confirmed_at),
    }


def export_memberships(ctx: ExportContext) -> list[dict]:
    user = ctx.user
    rows = Membership.objects.filter(user_id=user.pk).select_related("workspace")
    if ctx.workspace_id is not None:
        rows = rows.filter(workspace_id=ctx.workspace_id)
    memberships = sorted(
        rows,
        key=lambda m: (m.workspace.name, m.workspace.pk),
    )
    ctx.workspace_names.update({m.workspace.slug: m.workspace.name for m in memberships})
    grants: dict[int, list[str]] = {}
    for workspace_id, name in queue_grants(user_id=user.pk).values_list(
        "content_object__workspace_id", "content_object__name"
    ):
        grants.setdefault(workspace_id, []).append(name)
    return [
        {
            "workspace": m.workspace.slug,
            "workspace_name": m.workspace.name,
            "role": m.role,
            "member_since": iso(m.created_at),
            "queues": sorted(grants.get(m.workspace.pk, [])),
        }
        for m in memberships
    ]


def export_invitations(ctx: ExportContext) -> list[dict]:
    return [
        {
            "workspace": i.workspace.slug,
            "email": i.email,
            "role": i.role,
            "created_at": iso(i.created_at),
            "accepted_at": iso(i.accepted_at),
        }
        for i in Invitation.objects.filter(email__iexact=ctx.user.email)
        .select_related("workspace")
        .order_by("created_at")
    ]


# Registration -----------------------------------------------------------------------------------------


def register_personal_data() -> None:
    registry.register(
        User,
        PersonalData(
            fields=("email", "display_name", "language", "time_zone", "date_joined", "last_login"),
            subject=("id",),
            secret_fields=("password",),
            export="profile",
            erase=erase_user_profile,
            erase_many=erase_user_profile_many,
            phase=90,
            description=(
                "The row stays as an inert tombstone named by the pseudonym, so references stay valid."
            ),
        ),
    )
    registry.register(
        Membership,
        PersonalData(
            fields=("workspace", "role", "created_at"),
            subject=("user_id",),
            export="memberships",
            erase=erase_memberships,
            erase_many=erase_memberships_many,
            phase=70,
        ),
    )
    registry.register(
        Invitation,
        PersonalData(
            fields=("email", "role", "created_at"),
            subject=("email=email",),
            export="invitations",
            erase=erase_invitations,
            erase_many=erase_invitations_many,
            phase=60,
            description="Invitations addressed to the person are deleted; the ones they sent stay.",
        ),
    )
    registry.register(
        HelpRequest,
        PersonalData(
            fields=("workspace", "subject", "description", "created_at"),
            subject=("user_id",),
            not_exported=(
                "Held only until the sender confirms the address (an unconfirmed account cannot sign "
                "in to export); it then becomes a ticket, exported with the tickets."
            ),
            erase=DELETE,
            phase=60,
        ),
    )
    registry.register(
        QueueUserObjectPermission,
        PersonalData(
            fields=("content_object",),
            subject=("user_id",),
            export="memberships",
            erase=DELETE,
            phase=65,
            description="Queue grants (django-guardian); exported as each membership's queues.",
        ),
    )
    for model, fields, secrets in (
        (TOTPDevice, ("name", "confirmed", "created_at", "last_used_at"), ("key",)),
        (Passkey, ("name", "created_at", "last_used_at"), ("credential_id", "public_key")),
        (RecoveryCode, ("created_at", "used_at"), ("code_hash",)),
        (SecondFactorLock, ("failures", "last_failure_at", "locked_until"), ()),
    ):
        registry.register(
            model,
            PersonalData(
                fields=fields,
                subject=("user_id",),
                secret_fields=secrets,
                not_exported=SECOND_FACTOR_SECRETS,
                erase=DELETE,
                phase=6,
            ),
        )
    registry.register_workspace_ids(member_workspace_ids)
    registry.register_workspace_ids(staff_workspace_ids, staff=True)
    registry.register_workspace_ids_many(member_workspace_ids, member_workspace_ids_many)
    registry.register_workspace_ids_many(staff_workspace_ids, staff_workspace_ids_many)
    registry.register_erasure_blocker(last_admin_blockers)
    registry.register_deactivation_hook(announce_deactivated)
    registry.register_exporter("profile", export_profile, order=10)
    registry.register_exporter("memberships", export_memberships, order=30, workspace_scoped=True)
    registry.register_exporter("invitations", export_invitations, order=100)
