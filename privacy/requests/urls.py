"""The data-subject-request console under ``/w/<slug>/`` (included from helpdesk/urls.py)."""

from django.urls import path

from privacy.requests import views

urlpatterns = [
    path("admin/requests/", views.subject_requests, name="subject_requests"),
    path("admin/requests/<int:request_id>/", views.subject_request_detail, name="subject_request_detail"),
    path(
        "admin/requests/<int:request_id>/export/", views.subject_request_export, name="subject_request_export"
    ),
    path("admin/requests/<int:request_id>/erase/", views.subject_request_erase, name="subject_request_erase"),
    path(
        "admin/requests/<int:request_id>/restriction/",
        views.subject_request_restrict,
        name="subject_request_restrict",
    ),
]

account_urlpatterns = [
    path("", views.account_requests, name="account_requests"),
]
