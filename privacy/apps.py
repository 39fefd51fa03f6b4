from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from helpdesk import outbound
        from privacy.account import policies, policy_moments, profile, signup
        from privacy.account.builtin import register_builtin_models
        from privacy.requests import personal_data as request_personal_data
        from privacy.retention import account_kinds
        from privacy.retention import policies as retention_policies
        from workspaces.onboarding import register_workspace_started_hook
        from workspaces.signals import pending_signup_claimed

        register_builtin_models()
        register_workspace_started_hook(policy_moments.dpa_accept_on_start)
        request_personal_data.register_personal_data()
        retention_policies.register_retention()
        account_kinds.register_account_retention()
        user_logged_in.connect(policies.on_user_logged_in, dispatch_uid="privacy.account.policies.notice")
        pending_signup_claimed.connect(
            signup.signup_confirm_by_reset, dispatch_uid="privacy.account.signup.confirm_by_reset"
        )
        # helpdesk.outbound sits below privacy and cannot ask it; privacy tells it how.
        outbound.register_preference_check(profile.outbound_wanted)
        outbound.register_deferral(profile.queue_for_digest)
