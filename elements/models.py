"""Kling elements: named characters and objects Kling Image O3 keeps consistent across images.

An element lives in one library: a person's own (`owner` set) or a project's (`project` set).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from wavespeed.models import ProviderJob

# Kling Elements caps an element's name at 20 characters (docs/wavespeed.md).
NAME_MAX_LENGTH = 20


def preview_upload_to(instance: Element, filename: str) -> str:
    token = uuid.uuid4().hex
    return f"elements/{token[:2]}/{token}.webp"


class Creation(models.TextChoices):
    """Where an element made through Darkroom ("Create on Kling") is; empty for one entered by
    hand with the id Kling gave it elsewhere."""

    NONE = "", "Entered by hand"
    QUEUED = "queued", "Waiting to be sent"
    RUNNING = "running", "Being created on Kling"
    DONE = "done", "Created on Kling"
    FAILED = "failed", "Kling could not create it"


class ElementQuerySet(models.QuerySet):
    def live(self) -> ElementQuerySet:
        return self.filter(archived_at__isnull=True)


class Element(ProviderJob):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="elements",
        help_text="The person whose personal library holds it; empty for a project's element.",
    )
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="elements",
        help_text="The project whose library holds it; empty for a personal element.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(
        max_length=NAME_MAX_LENGTH, help_text="Written in the prompt to call the element up."
    )
    kling_element_id = models.CharField(
        max_length=64,
        blank=True,
        verbose_name="Kling element id",
        help_text="Empty only while Kling creates it (or when that failed).",
    )
    note = models.TextField(blank=True)
    # A WebP of at most 512 px made by us from the uploaded picture: no metadata survives.
    preview = models.FileField(upload_to=preview_upload_to, max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # "Create on Kling": the prediction of `kwaivgi/kling-elements` that makes the element;
    # created_at (ProviderJob) is when it was asked for or entered.
    creation = models.CharField(max_length=8, choices=Creation.choices, blank=True, default="")
    # ReferenceImage pks of the creator: {"image": front view, "refer": [more views]}.
    creation_inputs = models.JSONField(default=dict, blank=True)
    # Its call to WaveSpeed (provider_id, next_step_at, submit and poll counters: ProviderJob)
    # is the job runner's (wavespeed/runner.py).
    creation_error = models.TextField(blank=True)
    # A creation on Kling is paid like a run: its price is held when it is asked for, charged
    # (`cost`) when Kling creates it, released when it fails. Empty for one entered by hand.
    price = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=6, null=True, blank=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["archived_at", Lower("name"), "id"]
        indexes = [
            # The per-person hourly limit on creations counts these.
            models.Index(
                fields=["created_by", "created_at"],
                name="element_creations_recent",
                condition=~models.Q(creation=""),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False, project__isnull=True)
                | models.Q(owner__isnull=True, project__isnull=False),
                name="element_in_one_library",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "owner",
                condition=models.Q(archived_at__isnull=True, owner__isnull=False),
                name="one_live_personal_element_per_name",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "project",
                condition=models.Q(archived_at__isnull=True, project__isnull=False),
                name="one_live_project_element_per_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_being_created(self) -> bool:
        return self.creation in (Creation.QUEUED, Creation.RUNNING)


class GenerationElement(models.Model):
    """The elements of a generation, in the order they are sent (`<<<element_1>>>` is first)."""

    generation = models.ForeignKey(
        "generations.Generation", on_delete=models.CASCADE, related_name="element_links"
    )
    element = models.ForeignKey(Element, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "position"], name="one_element_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"Element {self.position + 1} of {self.generation_id}"
