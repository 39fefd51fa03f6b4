from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from helpdesk import outbound
        from privacy.account import policies, profile, signup
        from privacy.account.builtin import register_builtin_models
        from privacy.retention import policies as retention_policies
        from workspaces.signals import pending_signup_claimed

        register_builtin_models()
        retention_policies.register_retention()
        user_logged_in.connect(policies.on_user_logged_in, dispatch_uid="privacy.account.policies.notice")
        pending_signup_claimed.connect(
            signup.signup_confirm_by_reset, dispatch_uid="privacy.account.signup.confirm_by_reset"
        )
        # helpdesk.outbound sits below privacy and cannot ask it; privacy tells it how.
        outbound.register_preference_check(profile.outbound_wanted)
        outbound.register_deferral(profile.queue_for_digest)
