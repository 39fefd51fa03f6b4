from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from workspaces.models import Membership, Queue, User, Workspace


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "display_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["email", "display_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name", "language", "time_zone"]}),
        ("Status", {"fields": ["is_active", "email_confirmed_at", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = []
    list_filter = ["is_active", "is_staff"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Tenant rows change only through the audited services (the workspace pages), never here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace"]
    raw_id_fields = ["user", "workspace"]


@admin.register(Queue)
class QueueAdmin(ReadOnlyAdmin):
    list_display = ["name", "workspace"]
    list_filter = ["workspace"]
