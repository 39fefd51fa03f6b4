from django.urls import path

from workspaces import intake_views, restriction_views, views
from workspaces.two_factor import admin_views as two_factor_admin_views

urlpatterns = [
    path("", views.workspace_home, name="workspace_home"),
    path("admin/", views.admin_home, name="admin_home"),
    path("admin/members/", views.admin_members, name="admin_members"),
    path("admin/security/", two_factor_admin_views.admin_security, name="admin_security"),
    path("admin/members/<int:member_id>/", views.admin_member, name="admin_member"),
    path("admin/members/<int:member_id>/role/", views.admin_member_role, name="admin_member_role"),
    path("admin/members/<int:member_id>/queues/", views.admin_member_queues, name="admin_member_queues"),
    path("admin/members/<int:member_id>/remove/", views.admin_member_remove, name="admin_member_remove"),
    path(
        "admin/members/<int:member_id>/restriction/",
        restriction_views.admin_member_restriction,
        name="admin_member_restriction",
    ),
    path("admin/invitations/new/", views.admin_invite, name="admin_invite"),
    path(
        "admin/invitations/<int:invitation_id>/revoke/",
        views.admin_invitation_revoke,
        name="admin_invitation_revoke",
    ),
    path("admin/requesters/", intake_views.admin_requesters, name="admin_requesters"),
    path("admin/queues/", views.admin_queues, name="admin_queues"),
    path("admin/queues/<int:queue_id>/", views.admin_queue, name="admin_queue"),
]
