from __future__ import annotations

from django.contrib import admin

from .models import Element


@admin.register(Element)
class ElementAdmin(admin.ModelAdmin):
    list_display = ("name", "kling_element_id", "project", "owner", "archived_at", "updated_at")
    list_filter = ("archived_at",)
    search_fields = ("name", "kling_element_id", "note")
    raw_id_fields = ("owner", "project", "created_by")
    readonly_fields = ("uuid", "created_at", "updated_at", "price", "cost")
