from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from config.admin import ReadOnlyAdmin

from . import state
from .models import (
    ErrorKind,
    Generation,
    OutputImage,
    PromptEnhancement,
    Status,
    Thumbnail,
)


class OutputImageInline(admin.TabularInline):
    model = OutputImage
    extra = 0
    can_delete = False
    # The thumbnails' state is on the image's own admin page (a column more overflows at 1440 px).
    fields = ("uuid", "index", "width", "height", "format", "bytes", "nsfw", "sha256")
    readonly_fields = fields


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "owner",
        "status",
        "resolution",
        "num_images",
        "cost",
        "error_kind",
        "error_summary",
        "provider_id",
        "result_via",
        "poll_count",
    )
    list_filter = (
        "status",
        "error_kind",
        "result_via",
        "resolution",
        "aspect_ratio",
        "created_at",
    )
    search_fields = ("prompt", "provider_id", "uuid", "owner__username")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    inlines = [OutputImageInline]
    actions = ["mark_failed", "retry_saving"]
    readonly_fields = [
        f.name for f in Generation._meta.get_fields() if f.concrete and f.name != "provider_id"
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Error")
    def error_summary(self, obj: Generation) -> str:
        return obj.error_message[:120]

    def get_readonly_fields(self, request: HttpRequest, obj: Generation | None = None) -> list:
        # A person may enter the prediction id of a generation that needs attention, once they
        # have found it in the WaveSpeed dashboard; nothing else is edited by hand.
        if obj is not None and obj.status == Status.NEEDS_ATTENTION:
            return self.readonly_fields
        return [*self.readonly_fields, "provider_id"]

    def save_model(self, request, obj, form, change):
        if change and "provider_id" in form.changed_data and obj.provider_id:
            from .services.submission import adopt_prediction_id

            adopt_prediction_id(
                generation_id=obj.pk, prediction_id=obj.provider_id, by=request.user
            )
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark as failed (only generations that need attention)")
    def mark_failed(self, request: HttpRequest, queryset: QuerySet[Generation]) -> None:
        done = 0
        for generation in queryset.filter(status=Status.NEEDS_ATTENTION):
            done += state.fail(
                generation.pk,
                kind=ErrorKind.UNKNOWN_SUBMIT,
                message=f"Marked as failed by {request.user.get_username()}. "
                f"{generation.error_message}",
                by=request.user,
            )
        self.message_user(request, f"{done} generation(s) marked as failed.", messages.SUCCESS)

    @admin.action(description="Retry saving now (outputs made, downloads failed or waiting)")
    def retry_saving(self, request: HttpRequest, queryset: QuerySet[Generation]) -> None:
        from .services.saving import generation_retry_saving

        ids = list(queryset.values_list("pk", flat=True))
        done = sum(generation_retry_saving(generation_id=pk, by=request.user) for pk in ids)
        skipped = len(ids) - done
        self.message_user(
            request,
            f"{done} generation(s) queued to be saved again."
            + (
                f" {skipped} skipped: only generations whose downloads failed or are waiting, "
                "with output links younger than 7 days, can be saved again."
                if skipped
                else ""
            ),
            messages.SUCCESS if done else messages.WARNING,
        )


@admin.register(OutputImage)
class OutputImageAdmin(admin.ModelAdmin):
    list_display = (
        "uuid",
        "generation",
        "owner",
        "width",
        "height",
        "format",
        "bytes",
        "nsfw",
        "renditions",
    )
    # "Being made" a minute after a save means a lost task (the sweeper queues it again);
    # "Could not be made": the original would not decode (the worker's log says why).
    list_filter = ("format", "nsfw", "renditions")
    list_select_related = ("generation", "owner")
    readonly_fields = [f.name for f in OutputImage._meta.get_fields() if f.concrete]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


admin.site.register(Thumbnail)


@admin.register(PromptEnhancement)
class PromptEnhancementAdmin(ReadOnlyAdmin):
    """Each use of the prompt enhancer, to answer "why did it fail" and "what did it cost";
    read-only (uses are made beside the prompt, and the ledger holds their money)."""

    list_display = (
        "created_at",
        "owner",
        "project",
        "status",
        "style",
        "short_text",
        "cost",
        "error_message",
        "provider_id",
    )
    list_filter = ("status", "style", "created_at")
    search_fields = ("text", "suggestion", "provider_id", "owner__username", "project__name")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "project")
    readonly_fields = [f.name for f in PromptEnhancement._meta.get_fields() if f.concrete]

    @admin.display(description="Prompt")
    def short_text(self, enhancement: PromptEnhancement) -> str:
        return enhancement.text if len(enhancement.text) <= 60 else enhancement.text[:59] + "…"
