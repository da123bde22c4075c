from __future__ import annotations

from django.contrib import admin
from django.db import models

from .models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    """Where staff allow an endpoint private addresses (`allow_private`); owners cannot."""

    list_display = ["url", "project", "person", "format", "allow_private", "paused_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["allow_private", "format"]
    search_fields = ["url", "description"]
    fields = [
        "url",
        "description",
        "project",
        "person",
        "events",
        "format",
        "allow_private",
        "paused_at",
        "paused_reason",
        "failing_since",
        "created_by",
        "created_at",
    ]
    readonly_fields = ["project", "person", "created_by", "created_at", "failing_since"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "uuid",
        "endpoint",
        "event",
        "status",
        "attempts",
        "response_code",
        "duration_ms",
        "created_at",
    ]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
