"""Endpoints a team registers for Darkroom's events, and each delivery made to one.

An endpoint belongs to a project (its owners manage it) or to one person (their own runs and
budget). A delivery is one event for one endpoint: its `uuid` is the event id receivers
deduplicate on, kept through retries and resends.
"""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


class Event(models.TextChoices):
    GENERATION_FINISHED = "generation.finished", "A generation finished"
    GENERATION_FAILED = "generation.failed", "A generation failed"
    BUDGET_80 = "budget.80", "A budget reached 80 % of its month"
    BUDGET_100 = "budget.100", "A budget reached 100 % of its month"
    IMAGE_SHARED = "image.shared", "An image was shared by link"
    TEST = "endpoint.test", "Test event"


# What an owner may subscribe to (the test event is sent by hand only).
SUBSCRIBABLE = [(value, label) for value, label in Event.choices if value != Event.TEST]


class Format(models.TextChoices):
    JSON = "json", "JSON (for your own code)"
    SLACK = "slack", "Slack-compatible message"


class Endpoint(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Exactly one owner: a project (its owners manage it) or a person (for their own runs).
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hook_endpoints",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hook_endpoints",
    )
    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=100, blank=True)
    secret = models.CharField(max_length=80, default=new_secret)
    events = models.JSONField(default=list)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.JSON)
    # Staff only (the admin): may this endpoint reach private, loopback or link-local addresses?
    allow_private = models.BooleanField(
        "may reach private addresses",
        default=False,
        help_text="Only for a receiver inside your own network; every other endpoint may reach "
        "public addresses only.",
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=200, blank=True)
    # Since when every attempt has failed (empty after a success): a day of it pauses it.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=True, person__isnull=False)
                | Q(project__isnull=False, person__isnull=True),
                name="hooks_endpoint_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def host(self) -> str:
        """The URL's host, for places that must not show the rest (a Slack webhook URL's path
        is its secret): the audit trail, mails."""
        return urlsplit(self.url).hostname or ""

    @property
    def is_active(self) -> bool:
        return self.paused_at is None

    def wants(self, event: str) -> bool:
        return event == Event.TEST or event in self.events

    def event_labels(self) -> list[str]:
        return [label for value, label in SUBSCRIBABLE if value in self.events]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    uuid = models.UUIDField("event id", default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Event.choices)
    payload = models.JSONField()  # the body sent, built once: every retry sends the same bytes
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the next attempt is due (empty once it succeeded or failed for good).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set while a worker sends it; an old claim means the worker died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Retries stop a day after this (reset by a resend).
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="hooks_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="hooks_delivery_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.uuid}"
