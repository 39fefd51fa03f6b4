"""Privacy pages under ``/w/<slug>/`` (included from helpdesk/urls.py)."""

from django.urls import path

from privacy.auditlog import views

urlpatterns = [
    path("admin/audit/", views.audit_log, name="audit_log"),
    path("admin/audit.csv", views.audit_log_csv, name="audit_log_csv"),
]
