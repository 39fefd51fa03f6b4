from django.urls import path

from tickets import download_views, redaction_views, saved_view_views, views
from tickets.mail import views as mail_views

urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/counts/", views.ticket_view_counts, name="ticket_view_counts"),
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
    # Saved views of the ticket list (tickets/saved_views.py).
    path("tickets/views/", saved_view_views.saved_views_page, name="saved_views"),
    path("tickets/views/<int:saved_view_id>/", saved_view_views.saved_view_update, name="saved_view_update"),
    path(
        "tickets/views/<int:saved_view_id>/delete/",
        saved_view_views.saved_view_delete,
        name="saved_view_delete",
    ),
]
