from django.contrib import admin

from .models import Membership, Project, ProjectInvite


class MembershipInline(admin.StackedInline):
    """Stacked: each member's fields carry their labels (a tabular inline's cells have none)."""

    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "created_at", "archived_at")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(ProjectInvite)
class ProjectInviteAdmin(admin.ModelAdmin):
    list_display = ("project", "role", "created_by", "expires_at", "used_at", "revoked_at")
    readonly_fields = ("token", "used_at", "used_by")
