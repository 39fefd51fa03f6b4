"""/accounts/two-factor/: the second step of signing in (included by workspaces/urls_accounts.py)."""

from django.urls import path

from workspaces.two_factor import signin_views

urlpatterns = [
    path("verify/", signin_views.verify, name="two_factor_verify"),
    path("verify/passkey/", signin_views.verify_passkey, name="two_factor_verify_passkey"),
    path("cancel/", signin_views.cancel, name="two_factor_cancel"),
]
