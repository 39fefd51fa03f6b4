from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    verbose_name = "Workspaces and people"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from workspaces import auth_audit, personal_data, retention_kinds
        from workspaces.sessions import personal_data as session_data
        from workspaces.sessions import receivers as session_receivers
        from workspaces.two_factor import signin as two_factor_signin

        user_logged_in.connect(auth_audit.on_user_logged_in, dispatch_uid="workspaces.audit.logged_in")
        user_logged_out.connect(auth_audit.on_user_logged_out, dispatch_uid="workspaces.audit.logged_out")
        user_login_failed.connect(
            auth_audit.on_user_login_failed, dispatch_uid="workspaces.audit.login_failed"
        )
        # After the audit receiver: the auth.login event comes first, then the session is marked.
        user_logged_in.connect(
            two_factor_signin.on_user_logged_in, dispatch_uid="workspaces.two_factor.logged_in"
        )
        user_locked_out.connect(auth_audit.on_user_locked_out, dispatch_uid="workspaces.audit.locked_out")
        personal_data.register_personal_data()
        # The person's signed-in sessions, listed on /account/ (workspaces/sessions/).
        user_logged_in.connect(
            session_receivers.on_user_logged_in, dispatch_uid="workspaces.sessions.logged_in"
        )
        user_logged_out.connect(
            session_receivers.on_user_logged_out, dispatch_uid="workspaces.sessions.logged_out"
        )
        session_data.register_personal_data()
        retention_kinds.register_retention()
