from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from audit.models import Action
from audit.services import record
from config.admin import ReadOnlyAdmin

from .models import Budget, BudgetAlert, LedgerEntry, Price
from .services import budget_recorded


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
    # A plain <select> for the person, not select2's autocomplete: its combobox has no
    # accessible name (axe: aria-input-field-name), and a studio's people fit in one list.
    list_select_related = ("person", "project", "set_by")
    readonly_fields = ("set_by", "set_by_staff", "updated_at")

    def save_model(self, request: HttpRequest, obj: Budget, form, change: bool) -> None:
        # Saved here, by staff: the cap is staff's, and project owners see it read-only. Every
        # change is recorded in the audit trail (the project's, for a project budget).
        obj.set_by = request.user
        obj.set_by_staff = True
        before = form.initial.get("monthly_limit") if change else None
        super().save_model(request, obj, form, change)
        budget_recorded(obj, by=request.user, before=before, after=obj.monthly_limit)

    def delete_model(self, request: HttpRequest, obj: Budget) -> None:
        budget_recorded(obj, by=request.user, before=obj.monthly_limit, after=None)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Budget]) -> None:
        for budget in queryset.select_related("person", "project"):
            budget_recorded(budget, by=request.user, before=budget.monthly_limit, after=None)
        super().delete_queryset(request, queryset)


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

    # Prices added (and, before they apply, changed or removed) are in the audit trail.
    def save_model(self, request: HttpRequest, obj: Price, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            record(Action.PRICE_ADDED, actor=request.user, target=obj)
        elif form.changed_data:
            record(
                Action.PRICE_CHANGED,
                actor=request.user,
                target=obj,
                before={name: str(form.initial.get(name)) for name in form.changed_data},
                after={name: str(form.cleaned_data.get(name)) for name in form.changed_data},
            )

    def delete_model(self, request: HttpRequest, obj: Price) -> None:
        record(Action.PRICE_REMOVED, actor=request.user, target=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Price]) -> None:
        # Prices that applied already are never deleted; the rest are recorded as removed.
        for price in queryset.filter(valid_from__gt=timezone.now()):
            record(Action.PRICE_REMOVED, actor=request.user, target=price)
        super().delete_queryset(request, queryset.filter(valid_from__gt=timezone.now()))


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
