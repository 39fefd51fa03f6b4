"""Retention and legal-hold pages under ``/w/<slug>/`` (included from helpdesk/urls.py)."""

from django.urls import path

from privacy.retention import views

urlpatterns = [
    path("admin/retention/", views.retention_settings, name="retention_settings"),
    path("admin/legal-holds/", views.legal_holds, name="legal_holds"),
    path("admin/legal-holds/new/", views.legal_hold_new, name="legal_hold_new"),
    path("admin/legal-holds/<int:hold_id>/", views.legal_hold_detail, name="legal_hold_detail"),
    path("admin/legal-holds/<int:hold_id>/release/", views.legal_hold_release, name="legal_hold_release"),
]
