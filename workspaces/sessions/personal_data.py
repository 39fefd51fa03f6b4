"""The session rows are the person's data: exported under ``sessions`` and, with the account,
signed out and deleted. Registered from ``WorkspacesConfig.ready()``."""

from privacy.personal_data import registry
from privacy.personal_data.erasure_context import ErasureContext
from privacy.personal_data.export_context import ExportContext, iso
from privacy.personal_data.registry import PersonalData
from workspaces.sessions import services
from workspaces.sessions.devices import place_label
from workspaces.sessions.models import UserSession

EXPORT_SECTION = "sessions"


def export_sessions(ctx: ExportContext) -> list[dict]:
    return [
        {
            "device": row.device,
            "network": row.network,
            "place": place_label(row.network),
            "signed_in_at": iso(row.created_at),
            "last_seen_at": iso(row.last_seen_at),
        }
        for row in UserSession.objects.filter(user_id=ctx.user.pk).order_by("created_at", "pk")
    ]


def erase_sessions(ctx: ErasureContext, entry) -> dict[str, int]:
    """Each session is deleted from the session store (whatever the engine), then its row."""
    return {"session_rows_deleted": services.sessions_revoke_all(user=ctx.user, scope=None)}


def erase_sessions_many(contexts, entry) -> dict[int, dict[str, int]]:
    found = services.sessions_revoke_all_many(user_ids=[ctx.user.pk for ctx in contexts])
    return {user_id: {"session_rows_deleted": n} for user_id, n in found.items()}


def sign_out_everywhere(user) -> None:
    """Deactivation hook: an account asking to be deleted is signed out on every browser."""
    services.sessions_revoke_all(user=user, scope=None)


def register_personal_data() -> None:
    registry.register(
        UserSession,
        PersonalData(
            fields=("device", "network", "created_at", "last_seen_at"),
            subject=("user_id",),
            secret_fields=("key_hash", "sealed_key"),
            export=EXPORT_SECTION,
            erase=erase_sessions,
            erase_many=erase_sessions_many,
            phase=5,
            description="The browsers the person is signed in on; erasure signs each out.",
        ),
    )
    # After erasure_requests (120), before audit_events (130): docs/export-schema.md.
    registry.register_exporter(EXPORT_SECTION, export_sessions, order=125)
    registry.register_deactivation_hook(sign_out_everywhere)
