from django.urls import path

from workspaces import views

urlpatterns = [
    path("", views.workspace_home, name="workspace_home"),
]
