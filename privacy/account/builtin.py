"""Personal-data declarations for models of Django and third-party apps, which cannot carry the
declaration next to their own definition. Registered from ``PrivacyConfig.ready()``."""

from django.apps import apps

from privacy.personal_data.registry import DELETE, PersonalData, register

SIGN_IN_STATE = "Sign-in state; the sign-ins themselves are exported as audit_events."
LOCKOUT_COUNTERS = (
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
            erase="privacy.account.anonymizers.erase_sessions",
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
            erase="privacy.account.anonymizers.erase_admin_log",
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
                erase="privacy.account.anonymizers.erase_lockout_records",
                phase=85,
            ),
        )
