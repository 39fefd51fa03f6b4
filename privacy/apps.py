from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from privacy.account import policies
        from privacy.account.builtin import register_builtin_models

        register_builtin_models()
        user_logged_in.connect(policies.on_user_logged_in, dispatch_uid="privacy.account.policies.notice")
