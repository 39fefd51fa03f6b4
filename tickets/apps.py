from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"

    def ready(self):
        # Imported here, not at the top: an app's modules that import models load after the
        # registry is ready (Django's AppConfig.ready contract).
        from helpdesk import digest
        from privacy.personal_data.retention_kinds import register_retention_kind
        from tickets import (
            custom_field_data,
            intake,
            personal_data,
            retention_kinds,
            weekly_summary,
            workspace_cache,
            workspace_extensions,
        )
        from tickets.macros import personal_data as macro_personal_data
        from tickets.mail import personal_data as mail_personal_data
        from tickets.mail import retention as mail_retention
        from workspaces.selectors import queue_figure_register
        from workspaces.signals import member_leaving, members_leaving, signup_confirmed

        member_leaving.connect(
            workspace_extensions.participations_remove, dispatch_uid="tickets.participations_remove"
        )
        members_leaving.connect(
            workspace_extensions.participations_remove_many, dispatch_uid="tickets.participations_remove_many"
        )
        signup_confirmed.connect(intake.help_requests_open, dispatch_uid="tickets.intake.help_requests_open")
        queue_figure_register("open_tickets", workspace_extensions.open_tickets_of_queue)
        personal_data.register_personal_data()
        custom_field_data.register_personal_data()
        mail_personal_data.register_personal_data()
        macro_personal_data.register_personal_data()
        retention_kinds.register_retention()
        register_retention_kind(mail_retention.RAW_EMAIL_KIND)
        digest.register_section(weekly_summary.summary_sections)
        workspace_cache.connect()
