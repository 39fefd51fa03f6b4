from django.urls import path

from tickets import (
    bulk_views,
    download_views,
    redaction_views,
    report_views,
    saved_view_views,
    sla_views,
    tag_field_views,
    views,
)
from tickets.macros import views as macro_views
from tickets.mail import views as mail_views

urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/counts/", views.ticket_view_counts, name="ticket_view_counts"),
    path("tickets/search-count/", views.ticket_search_count, name="ticket_search_count"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<int:number>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:number>/properties/", views.ticket_properties, name="ticket_properties"),
    path("tickets/<int:number>/close/", views.ticket_close, name="ticket_close"),
    path("tickets/<int:number>/mentions/", views.mention_candidates, name="ticket_mention_candidates"),
    path("tickets/<int:number>/participants/", views.ticket_participant_add, name="ticket_participant_add"),
    path(
        "tickets/<int:number>/participants/<int:user_id>/remove/",
        views.ticket_participant_remove,
        name="ticket_participant_remove",
    ),
    path(
        "tickets/<int:number>/messages/<int:message_id>/edit/",
        views.message_edit,
        name="message_edit",
    ),
    path(
        "tickets/<int:number>/messages/<int:message_id>/redact/",
        redaction_views.message_redact,
        name="message_redact",
    ),
    path(
        "tickets/<int:number>/attachments/<int:attachment_id>/redact/",
        redaction_views.attachment_redact,
        name="attachment_redact",
    ),
    path(
        "tickets/<int:number>/attachments/<int:attachment_id>/",
        download_views.attachment_download,
        name="attachment_download",
    ),
    path("admin/mailboxes/", mail_views.admin_mailboxes, name="admin_mailboxes"),
    path("admin/mailboxes/<int:mailbox_id>/", mail_views.admin_mailbox, name="admin_mailbox"),
    # Tags and custom fields (issue 13).
    path("tickets/tags/", tag_field_views.tag_suggestions, name="tag_suggestions"),
    path("tickets/<int:number>/tags/", tag_field_views.ticket_tags, name="ticket_tags"),
    path("tickets/<int:number>/fields/", tag_field_views.ticket_fields, name="ticket_fields"),
    path("admin/fields/", tag_field_views.admin_fields, name="admin_fields"),
    path("admin/fields/<int:field_id>/", tag_field_views.admin_field, name="admin_field"),
    path(
        "admin/fields/<int:field_id>/archive/",
        tag_field_views.admin_field_archive,
        name="admin_field_archive",
    ),
    path("admin/service-levels/", sla_views.admin_sla, name="admin_sla"),
    # The agent workbench: bulk changes from the list, merging two tickets (issue 13).
    path("tickets/bulk/", bulk_views.ticket_bulk, name="ticket_bulk"),
    path("tickets/merge/", bulk_views.ticket_merge, name="ticket_merge"),
    # Macros (canned replies): the staff's management pages and the reply box's two doors.
    path("macros/", macro_views.macro_list, name="macro_list"),
    path("macros/new/", macro_views.macro_new, name="macro_new"),
    path("macros/<int:macro_id>/", macro_views.macro_edit, name="macro_edit"),
    path("macros/<int:macro_id>/delete/", macro_views.macro_delete, name="macro_delete"),
    path(
        "tickets/<int:number>/macros/<int:macro_id>/",
        macro_views.ticket_macro_render,
        name="ticket_macro_render",
    ),
    path("tickets/<int:number>/macros/insert/", macro_views.ticket_macro_insert, name="ticket_macro_insert"),
    path("reports/", report_views.reports_dashboard, name="reports"),
    path("reports/<slug:table>.csv", report_views.reports_csv, name="reports_csv"),
    # Saved views of the ticket list (tickets/saved_view_services.py).
    path("tickets/views/", saved_view_views.saved_views_page, name="saved_views"),
    path("tickets/views/<int:saved_view_id>/", saved_view_views.saved_view_update, name="saved_view_update"),
    path(
        "tickets/views/<int:saved_view_id>/delete/",
        saved_view_views.saved_view_delete,
        name="saved_view_delete",
    ),
]
