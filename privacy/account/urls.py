"""/account/: the person's own data. Mounted by helpdesk/urls.py."""

from django.urls import path

from privacy.account import policy_gate_views, session_views, views

urlpatterns = [
    path("", views.account_page, name="account"),
    path("profile/", views.profile_save, name="account_profile"),
    path("email/", views.email_change, name="account_email"),
    path("email/cancel/", views.email_change_cancel, name="account_email_cancel"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="account_email_confirm"),
    path("notifications/", views.notifications_save, name="account_notifications"),
    path("consents/", views.consents_save, name="account_consents"),
    path("exports/", views.export_create, name="account_export_create"),
    path("exports/<int:export_id>/download/", views.export_download, name="account_export_download"),
    path("delete/", views.account_delete, name="account_delete"),
    path("deleted/", views.account_deleted, name="account_deleted"),
    path(
        "sessions/<int:session_id>/sign-out/", session_views.session_sign_out, name="account_session_sign_out"
    ),
    path(
        "sessions/sign-out-others/",
        session_views.sessions_sign_out_others,
        name="account_sessions_sign_out_others",
    ),
    path("sessions/sign-out-all/", session_views.sessions_sign_out_all, name="account_sessions_sign_out_all"),
    path("policies/", views.policies_admin, name="account_policies"),
    path("policies/review/", views.policies_review, name="account_policies_review"),
    path("policies/accept/", policy_gate_views.policies_accept, name="account_policies_accept"),
]
