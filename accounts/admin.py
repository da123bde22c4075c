from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from audit.models import Action
from audit.services import record
from config.admin import ReadOnlyAdmin

from . import services
from .forms import AdminProfileForm, AdminUserChangeForm
from .models import AccessToken, Invitation, Profile

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    form = AdminProfileForm
    can_delete = False
    fields = ("display_name",)


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, plus the profile and a "Deactivate" action. People are deactivated,
    not deleted: their images stay with their projects. An active account's e-mail address is
    its own (AdminUserChangeForm)."""

    form = AdminUserChangeForm
    # Plain multiple selects: Django's two-box widget adds an aria-label to a <span>, which
    # ARIA does not allow there (axe: aria-prohibited-attr).
    filter_horizontal = ()
    inlines = [*DjangoUserAdmin.inlines, ProfileInline]
    list_display = (*DjangoUserAdmin.list_display, "display_name", "is_active")
    list_select_related = ("profile",)
    actions = ["deactivate"]

    @admin.display(description="Display name")
    def display_name(self, obj) -> str:
        profile = getattr(obj, "profile", None)  # a missing profile raises an AttributeError
        return profile.display_name if profile else ""

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        """Accounts made here, and an "Active" box ticked or unticked, go through the same
        records as everywhere else (unticking it is the Deactivate action)."""
        active_changed = change and "is_active" in form.changed_data
        deactivating = active_changed and not obj.is_active
        if deactivating:
            obj.is_active = True  # users_deactivate turns it off, with its records
        super().save_model(request, obj, form, change)
        if not change:
            record(Action.ACCOUNT_CREATED, actor=request.user, target=obj, reason="in the admin")
        elif deactivating:
            services.users_deactivate(user_ids=[obj.pk], by=request.user)
            obj.refresh_from_db(fields=["is_active"])
        elif active_changed:
            record(Action.ACCOUNT_REACTIVATED, actor=request.user, target=obj)

    @admin.action(description="Deactivate (they can no longer log in; their work stays)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = services.users_deactivate(
            user_ids=queryset.values_list("pk", flat=True), by=request.user
        )
        self.message_user(request, f"{done} person(s) deactivated.", messages.SUCCESS)
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate yourself.", messages.WARNING)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("token", "email", "created_by", "created_at", "expires_at", "state", "used_by")
    list_select_related = ("created_by", "used_by")
    search_fields = ("email", "token", "created_by__username", "used_by__username")
    date_hierarchy = "created_at"
    fields = ("email", "expires_at", "link", "created_by", "created_at", "used_at", "used_by")
    readonly_fields = ("link", "created_by", "created_at", "used_at", "used_by")
    actions = ["revoke"]

    @admin.display(description="State")
    def state(self, obj: Invitation) -> str:
        return obj.state.label

    @admin.display(description="Link")
    def link(self, obj: Invitation) -> str:
        if obj.pk is None:
            return "Shown once the invitation is saved."
        url = obj.get_absolute_url()
        return format_html('<a href="{}">{}</a> (copy the link address)', url, url)

    def get_readonly_fields(self, request: HttpRequest, obj: Invitation | None = None) -> tuple:
        # A used invitation is history: nothing about it changes.
        if obj is not None and obj.used_at is not None:
            return (*self.readonly_fields, "email", "expires_at")
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Invitation, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke (expire now; used invitations are left alone)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        done = services.invitations_revoke(invitation_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} invitation(s) revoked.", messages.SUCCESS)


@admin.register(AccessToken)
class AccessTokenAdmin(ReadOnlyAdmin):
    """Every person's API tokens (never a secret: only its first characters are kept in the
    clear). Staff revoke them here; people make and revoke their own on their profile page."""

    list_display = (
        "name", "hint", "user", "scope_list", "project", "created_at", "expires_at",
        "last_used_at", "last_used_ip", "revoked_at",
    )  # fmt: skip
    list_select_related = ("user", "project")
    list_filter = ("revoked_at",)
    search_fields = ("name", "hint", "user__username")
    date_hierarchy = "created_at"
    actions = ["revoke"]

    @admin.display(description="Scopes")
    def scope_list(self, obj: AccessToken) -> str:
        return ", ".join(obj.scopes)

    @admin.action(description="Revoke (they stop working at once)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        done = services.tokens_revoke(tokens=list(queryset), by=request.user, why="by staff")
        self.message_user(request, f"{done} token(s) revoked.", messages.SUCCESS)
