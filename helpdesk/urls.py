from django.contrib import admin
from django.urls import include, path

from helpdesk import views
from privacy.account.help_views import get_help
from privacy.account.language_views import language_switch
from privacy.requests import urls as request_urls
from workspaces import sso_urls
from workspaces.onboarding_views import workspace_new
from workspaces.views import invitation_accept

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("language/", language_switch, name="language_switch"),
    path("accounts/", include("privacy.account.urls_signup")),
    path("accounts/", include("workspaces.urls_accounts")),
    path("account/two-factor/", include("workspaces.two_factor.urls_account")),
    path("account/requests/", include(request_urls.account_urlpatterns)),
    path("accounts/", include(sso_urls.account_urlpatterns)),
    # After accounts/: its "account" name (the same page) then resolves to /account/.
    path("account/", include("privacy.account.urls")),
    path("workspaces/new/", workspace_new, name="workspace_new"),
    path("help/<slug:slug>/", get_help, name="get_help"),
    path("invitations/<str:token>/", invitation_accept, name="invitation_accept"),
    path("w/<slug:slug>/", include("workspaces.urls")),
    path("w/<slug:slug>/", include(sso_urls.urlpatterns)),
    path("w/<slug:slug>/", include("tickets.urls")),
    path("w/<slug:slug>/", include("privacy.auditlog.urls")),
    path("w/<slug:slug>/", include("privacy.retention.urls")),
    path("w/<slug:slug>/", include(request_urls.urlpatterns)),
    path("django-admin/", admin.site.urls),
]

handler404 = "helpdesk.views.not_found"
handler403 = "helpdesk.views.forbidden"
handler500 = "helpdesk.views.server_error"
