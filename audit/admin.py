from __future__ import annotations

from django.contrib import admin

from config.admin import ReadOnlyAdmin

from .models import Entry


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
    list_filter = ("action", "object_type", "at")
    search_fields = ("actor_name", "project_name", "object_repr", "object_id", "reason", "address")
    date_hierarchy = "at"
    show_full_result_count = False  # no COUNT over the whole trail on every page
    readonly_fields = [f.name for f in Entry._meta.get_fields() if f.concrete]
