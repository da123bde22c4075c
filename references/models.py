from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def reference_upload_to(instance: ReferenceImage, filename: str) -> str:
    token = uuid.uuid4().hex
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"references/{token[:2]}/{token}.{extension}"


class ReferenceImage(models.Model):
    """A reference image as it will be sent: decoded, EXIF orientation applied, metadata gone.

    One row per person and content: the same picture used twice is stored once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="references"
    )
    # Set when the reference was taken from the gallery ("use as reference").
    source_image = models.ForeignKey(
        "generations.OutputImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    original_name = models.CharField(max_length=200, blank=True)
    file = models.FileField(upload_to=reference_upload_to, max_length=200)
    # A WebP of at most 256 px for the tiles; empty for a reference kept before previews existed.
    preview = models.FileField(upload_to=reference_upload_to, max_length=200, null=True, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    format = models.CharField(max_length=8)
    content_type = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Moved from the generations app with its rows: the table keeps its first name.
        db_table = "generations_referenceimage"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "sha256"], name="one_reference_per_content")
        ]

    def __str__(self) -> str:
        return self.original_name or f"Reference {self.uuid}"
