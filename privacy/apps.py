from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from helpdesk import outbound
        from privacy.account import policies, profile
        from privacy.account.builtin import register_builtin_models
        from privacy.retention import policies as retention_policies

        register_builtin_models()
        retention_policies.register_retention()
        user_logged_in.connect(policies.on_user_logged_in, dispatch_uid="privacy.account.policies.notice")
        # helpdesk.outbound sits below privacy and cannot ask it; privacy tells it how.
        outbound.register_preference_check(profile.outbound_wanted)
