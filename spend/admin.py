from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from config.admin import ReadOnlyAdmin

from .models import Budget, BudgetAlert, LedgerEntry, Price


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Append-only: corrections are new entries made by the services, never edits here."""

    list_display = (
        "created_at",
        "kind",
        "amount",
        "period",
        "person",
        "project",
        "description",
        "generation",
        "enhancement",
        "element",
    )
    list_filter = ("kind", "period", "project")
    search_fields = (
        "person__username",
        "person__email",
        "generation__uuid",
        "generation__prompt",
        "enhancement__uuid",
        "enhancement__text",
        "element__uuid",
        "element__name",
    )
    list_select_related = ("person", "project", "generation", "enhancement", "element")
    date_hierarchy = "created_at"


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    """A person's, a project's or the organisation's cap, or the default personal budget (the
    cap of everyone without their own; new accounts start under it)."""

    list_display = (
        "__str__",
        "person",
        "project",
        "is_organisation",
        "is_personal_default",
        "monthly_limit",
        "set_by",
        "set_by_staff",
        "updated_at",
    )
    list_filter = ("is_organisation", "is_personal_default", "set_by_staff")
    search_fields = ("person__username", "project__name")
    autocomplete_fields = ("person",)
    list_select_related = ("person", "project", "set_by")
    readonly_fields = ("set_by", "set_by_staff", "updated_at")

    def save_model(self, request: HttpRequest, obj: Budget, form: object, change: bool) -> None:
        # Saved here, by staff: the cap is staff's, and project owners see it read-only.
        obj.set_by = request.user
        obj.set_by_staff = True
        super().save_model(request, obj, form, change)


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    """New dated prices may be added; a price that has already applied is history."""

    list_display = ("model", "resolution", "per_image", "valid_from")
    list_filter = ("model", "resolution")

    def get_readonly_fields(self, request: HttpRequest, obj: Price | None = None) -> tuple:
        if obj is not None and _has_applied(obj):
            return ("model", "resolution", "per_image", "valid_from")
        return ()

    def has_delete_permission(self, request: HttpRequest, obj: Price | None = None) -> bool:
        if obj is not None and _has_applied(obj):
            return False
        return super().has_delete_permission(request, obj)


def _has_applied(price: Price) -> bool:
    return price.valid_from <= timezone.now()


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):
    list_display = ("budget", "person", "period", "threshold", "created_at")
    list_filter = ("period", "threshold")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BudgetAlert | None = None) -> bool:
        return False
