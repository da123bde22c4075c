"""Rows for tests that need finished images without running the pipeline."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from generations.models import Generation, OutputImage, Status, Thumbnail
from projects.models import Membership, Project, Role


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def make_project(owner, name: str = "Harbour") -> Project:
    """A project with `owner` as its owner."""
    project = Project.objects.create(name=name, created_by=owner)
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    return project


def add_member(project: Project, user, role: str) -> Membership:
    return Membership.objects.create(project=project, user=user, role=role)


def make_image(owner, *, project: Project | None = None, prompt: str = "a red kite") -> OutputImage:
    generation = Generation.objects.create(
        owner=owner,
        project=project,
        prompt=prompt,
        status=Status.DONE,
        provider_id=None,
        request_payload={"prompt": prompt},
        price_per_image=Decimal("0.028"),
        quoted_cost=Decimal("0.028"),
        cost=Decimal("0.028"),
    )
    data = png_bytes()
    original = default_storage.save("originals/test/original.png", ContentFile(data))
    image = OutputImage.objects.create(
        generation=generation,
        owner=owner,
        project=project,
        index=0,
        file=original,
        width=64,
        height=48,
        bytes=len(data),
        format="PNG",
        content_type="image/png",
        sha256="0" * 64,
    )
    for size in (256, 512):
        name = default_storage.save("thumbnails/test/thumb.webp", ContentFile(b"RIFF0000WEBP"))
        Thumbnail.objects.create(image=image, size=size, file=name, width=64, height=48, bytes=12)
    return image
