"""Personal-data wiring registered from ``PrivacyConfig.ready()``: the declarations of models of
Django and third-party apps (which cannot carry one next to their definition) and of privacy's
own models whose eraser lives in a module that imports them, the erasers of all of these, and
the export sections privacy owns. Tickets and workspaces register theirs in their own
``personal_data`` modules."""

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from privacy.account import anonymizers, export
from privacy.account.models import DataExport
from privacy.audit.models import AuditEvent
from privacy.audit.selectors import audit_events_about
from privacy.personal_data import registry
from privacy.personal_data.registry import DELETE, PersonalData, register

SIGN_IN_STATE = "Sign-in state; the sign-ins themselves are exported as audit_events."
LOCKOUT_COUNTERS = _(
    "Counters of the brute-force protection (django-axes); the sign-ins and failures are "
    "exported as audit_events."
)


def register_builtin_models() -> None:
    register(
        apps.get_model("sessions", "Session"),
        PersonalData(
            fields=("session_data",),
            secret_fields=("session_key",),
            not_exported=SIGN_IN_STATE,
            erase=anonymizers.erase_sessions,
            erase_many=anonymizers.erase_sessions_many,
            phase=5,
            description="A signed blob holding the user id; every session of the person is deleted.",
        ),
    )
    register(
        apps.get_model("admin", "LogEntry"),
        PersonalData(
            fields=("object_repr", "change_message"),
            subject=("user_id",),
            not_exported="The Django admin's change history of site staff, not about the person.",
            erase=anonymizers.erase_admin_log,
            erase_many=anonymizers.erase_admin_log_many,
            mentions=("object_repr", "change_message"),
            phase=80,
        ),
    )
    register(
        apps.get_model("guardian", "UserObjectPermission"),
        PersonalData(
            fields=("object_pk", "content_type"),
            subject=("user_id",),
            not_exported="Generic object permissions; queue access is exported under memberships.",
            erase=DELETE,
            phase=65,
        ),
    )
    for name in ("AccessAttempt", "AccessLog", "AccessFailureLog"):
        register(
            apps.get_model("axes", name),
            PersonalData(
                fields=("username", "ip_address", "user_agent"),
                subject=("username=email",),
                not_exported=LOCKOUT_COUNTERS,
                erase=anonymizers.erase_lockout_records,
                erase_many=anonymizers.erase_lockout_records_many,
                phase=85,
            ),
        )
    register(
        DataExport,
        PersonalData(
            fields=("created_at", "status", "size"),
            subject=("user_id",),
            secret_fields=("file",),
            export="exports",
            erase=anonymizers.erase_exports,
            erase_many=anonymizers.erase_exports_many,
            phase=10,
            description="Export archives hold everything about the person: files and rows are deleted.",
        ),
    )
    register(
        AuditEvent,
        PersonalData(
            fields=("actor_label", "ip_address", "user_agent"),
            subject=("actor_id",),
            rows=lambda user: audit_events_about(user.pk),
            export="audit_events",
            erase=anonymizers.erase_audit_events,
            erase_many=anonymizers.erase_audit_events_many,
            phase=95,
            description="Who did what; erasure blanks the label, IP and user agent (audit_maintenance).",
        ),
    )
    # Where each section goes in data.json (docs/export-schema.md); tickets and workspaces fill
    # the gaps (profile 10, memberships 30, tickets 40, messages 50, attachments 60, invitations 100).
    registry.register_exporter("preferences", export.export_preferences, order=20)
    registry.register_exporter("queued_notifications", export.export_queued_notifications, order=25)
    registry.register_exporter("consents", export.export_consents, order=70)
    registry.register_exporter("policy_acceptances", export.export_policy_acceptances, order=80)
    registry.register_exporter("email_changes", export.export_email_changes, order=90)
    registry.register_exporter("past_identifiers", export.export_past_identifiers, order=95)
    registry.register_exporter("exports", export.export_exports, order=110)
    registry.register_exporter("erasure_requests", export.export_erasure_requests, order=120)
    registry.register_exporter("audit_events", export.export_audit_events, order=130)
    registry.register_exporter("kept_under_legal_hold", export.export_kept_under_legal_hold, order=140)
