"""The gallery's records in the admin: share links (revoked only through the service, so the
revocation is recorded), and the read-only trails of trash and moves."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import ReadOnlyAdmin
from generations.models import ImageMove, RevokeReason, ShareLink, TrashRecord

from .services.sharing import links_revoke


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = (
        "image",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("created_at", "expires_at", "revoked_at", "revoked_reason")
    list_select_related = ("image", "created_by")
    # Links are made from the image page; here one can only see them, and revoke them with the
    # action (so that the revocation is recorded like any other).
    readonly_fields = (
        "token",
        "image",
        "created_by",
        "created_at",
        "expires_at",
        "show_prompt",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
    )
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ShareLink | None = None) -> bool:
        return False

    @admin.action(description="Revoke (the link stops working for good)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        done = links_revoke(
            queryset, reason=RevokeReason.BY_HAND, actor=request.user, why="in the admin"
        )
        self.message_user(request, f"{done} share link(s) revoked.", messages.SUCCESS)


@admin.register(TrashRecord)
class TrashRecordAdmin(ReadOnlyAdmin):
    """Who deleted, restored or purged what: a record, never edited."""

    list_display = ("at", "action", "image_uuid", "actor", "owner", "project", "prompt")
    list_filter = ("action", "at")
    search_fields = ("image_uuid", "prompt", "actor__username", "owner__username")
    date_hierarchy = "at"
    list_select_related = ("actor", "owner", "project")


@admin.register(ImageMove)
class ImageMoveAdmin(ReadOnlyAdmin):
    """Every image moved, from where to where, by whom: a record, never edited (a project's
    owners move images back from its settings page, which adds moves)."""

    list_display = ("moved_at", "image_uuid", "from_project", "to_project", "moved_by", "undoes")
    list_filter = ("moved_at",)
    search_fields = ("image_uuid", "batch", "moved_by__username", "from_project__name")
    date_hierarchy = "moved_at"
    list_select_related = ("from_project", "to_project", "moved_by", "undoes")
