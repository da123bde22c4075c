from __future__ import annotations

from django.contrib import admin

from config.admin import ReadOnlyAdmin

from .models import Entry


class NamedValuesFilter(admin.AllValuesFieldListFilter):
    """Django's filter of the values in use, with a name for the empty one (else its link has
    no text)."""

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "":
                choice["display"] = "(none)"
            yield choice


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    """The trail, to look at: nothing here adds, changes or deletes an entry (the model and the
    database refuse it too)."""

    list_display = (
        "at",
        "actor_name",
        "action",
        "project_name",
        "object_type",
        "object_repr",
        "reason",
        "address",
    )
    list_filter = ("action", ("object_type", NamedValuesFilter), "at")
    search_fields = ("actor_name", "project_name", "object_repr", "object_id", "reason", "address")
    date_hierarchy = "at"
    show_full_result_count = False  # no COUNT over the whole trail on every page
    readonly_fields = [f.name for f in Entry._meta.get_fields() if f.concrete]
