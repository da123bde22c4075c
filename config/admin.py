"""Admin pieces shared by the apps: Darkroom's admin site, and a read-only base.

The site is Django's, made the default by `config.apps.AdminConfig`, so every model admin
registered on it (Darkroom's, and auth's and axes') answers a hostile query string the way the
admin means to, with a 400 or its "?e=1" page, never a 500.
"""

from __future__ import annotations

import functools

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db.models import Model
from django.http import HttpRequest
from django.utils.text import capfirst


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are looked at, never added, edited or deleted here (the services write them)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class HostileQuerySafeAdmin(admin.ModelAdmin):
    """Mends the places where Django's admin lets a query string through to a 500, and labels
    the two inputs of a date and time field (the admin labels neither)."""

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs: object):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        widget = getattr(widget, "widget", widget)  # inside a related-object wrapper
        if isinstance(widget, widgets.AdminSplitDateTime):
            name = capfirst(str(db_field.verbose_name))
            widget.widgets[0].attrs["aria-label"] = f"{name}: date"
            widget.widgets[1].attrs["aria-label"] = f"{name}: time"
        return field

    def get_changelist(self, request: HttpRequest, **kwargs: object) -> type[ChangeList]:
        return _with_bounded_lookups(super().get_changelist(request, **kwargs))

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Model | None:
        # Django refuses a `_to_field` naming a field it may not use, but only a non-empty one;
        # an empty one then names a field called "". It means what no `_to_field` means.
        return super().get_object(request, object_id, from_field or None)


@functools.cache
def _with_bounded_lookups(changelist: type[ChangeList]) -> type[ChangeList]:
    class BoundedLookupsChangeList(changelist):
        """A filter value from the URL that Django cannot turn into a query is "?e=1" (what
        IncorrectLookupParameters means), also when it fails later than Django checks: a date
        hierarchy year with no year after it (9999), or a date whose moment in UTC is out of
        range (0001-01-01, as a datetime east of UTC)."""

        def get_filters(self, request: HttpRequest):
            try:
                return super().get_filters(request)
            except (ValueError, OverflowError) as exc:
                raise IncorrectLookupParameters(exc) from exc

        def get_results(self, request: HttpRequest) -> None:
            try:
                super().get_results(request)
            except OverflowError as exc:  # raised while the database query is built
                raise IncorrectLookupParameters(exc) from exc

    return BoundedLookupsChangeList


class AdminSite(admin.AdminSite):
    """Django's admin site; every model admin registered on it is a HostileQuerySafeAdmin."""

    site_header = "Darkroom"
    site_title = "Darkroom admin"
    index_title = "Administration"

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, HostileQuerySafeAdmin):
            admin_class = type(
                admin_class.__name__,
                (HostileQuerySafeAdmin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
