from django.urls import path

from workspaces import sso_views

# Under /w/<slug>/.
urlpatterns = [
    path("admin/sso/", sso_views.admin_sso, name="admin_sso"),
    path("sso/login/", sso_views.sso_login, name="sso_login"),
    path("sso/callback/", sso_views.sso_callback, name="sso_callback"),
]

# Under /accounts/.
account_urlpatterns = [
    path("sso/", sso_views.sso_start, name="sso_start"),
]
