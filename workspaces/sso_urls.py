from django.urls import path

from workspaces import sso_views

# Under /w/<slug>/: the admins' settings page (wrapped in workspace_view).
urlpatterns = [
    path("admin/sso/", sso_views.admin_sso, name="admin_sso"),
]

# Under /accounts/: the way in, reached signed out, so outside /w/<slug>/ (where every page
# needs a membership).
account_urlpatterns = [
    path("sso/", sso_views.sso_start, name="sso_start"),
    path("sso/<slug:slug>/login/", sso_views.sso_login, name="sso_login"),
    path("sso/<slug:slug>/callback/", sso_views.sso_callback, name="sso_callback"),
]
