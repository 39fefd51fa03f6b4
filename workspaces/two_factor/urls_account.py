"""/account/two-factor/: mounted by helpdesk/urls.py before /account/."""

from django.urls import path

from workspaces.two_factor import views

urlpatterns = [
    path("", views.manage, name="two_factor_manage"),
    path("app/", views.totp_setup, name="two_factor_totp_setup"),
    path("app/remove/", views.totp_remove, name="two_factor_totp_remove"),
    path("recovery-codes/", views.recovery_codes_regenerate, name="two_factor_recovery_codes"),
    path("passkeys/new/", views.passkey_add, name="two_factor_passkey_add"),
    path("passkeys/<int:passkey_id>/remove/", views.passkey_remove, name="two_factor_passkey_remove"),
    path("passkeys/<int:passkey_id>/rename/", views.passkey_rename, name="two_factor_passkey_rename"),
]
