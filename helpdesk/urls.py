from django.contrib import admin
from django.urls import include, path

from helpdesk import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("workspaces.urls_accounts")),
    path("w/<slug:slug>/", include("workspaces.urls")),
    path("w/<slug:slug>/", include("tickets.urls")),
    path("django-admin/", admin.site.urls),
]

handler404 = "helpdesk.views.not_found"
handler403 = "helpdesk.views.forbidden"
handler500 = "helpdesk.views.server_error"
