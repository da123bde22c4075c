"""Keeping references, and getting them to the provider."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from wavespeed.uploads import provider_url_for

from .cleaning import NormalisedImage
from .models import ReferenceImage


def reference_store(
    *,
    owner: AbstractBaseUser,
    image: NormalisedImage,
    name: str,
    source_image_id: int | None = None,
) -> ReferenceImage:
    """Keep an image `normalise` already made as `owner`'s reference (or return the same
    picture kept before). `source_image_id`: the gallery image it was taken from, if any."""
    existing = ReferenceImage.objects.filter(owner_id=owner.pk, sha256=image.sha256).first()
    if existing is not None:
        return existing
    reference = ReferenceImage(
        owner_id=owner.pk,
        source_image_id=source_image_id,
        original_name=name[:200],
        width=image.width,
        height=image.height,
        bytes=len(image.data),
        format=image.format,
        content_type=image.content_type,
        sha256=image.sha256,
    )
    try:
        reference.file.save(f"reference.{image.extension}", ContentFile(image.data), save=False)
        if image.preview is not None:
            reference.preview.save("preview.webp", ContentFile(image.preview), save=False)
        with transaction.atomic():
            reference.save()
    except IntegrityError:
        # The same picture arrived twice at once: keep the first, drop our copy of the files.
        _discard_files(reference)
        return ReferenceImage.objects.get(owner_id=owner.pk, sha256=image.sha256)
    except BaseException:
        # Any other failure (a value the database refuses, a storage error): no orphaned file.
        _discard_files(reference)
        raise
    return reference


def _discard_files(reference: ReferenceImage) -> None:
    """Delete the files stored for a reference that was not saved."""
    for stored in (reference.file, reference.preview):
        if stored:
            default_storage.delete(stored.name)


def reference_provider_url(*, reference: ReferenceImage) -> str:
    """The provider's URL for `reference`'s bytes, through the upload cache (uploaded only
    when no fresh upload of the same bytes is known).

    Raises `WaveSpeedError` (with `permanent`) when the upload fails, and `OSError` when the
    stored file cannot be read.
    """

    def read() -> bytes:
        with default_storage.open(reference.file.name, "rb") as fp:
            content: bytes = fp.read()
        return content

    extension = "jpg" if reference.format == "JPEG" else reference.format.lower()
    return provider_url_for(
        sha256=reference.sha256, extension=extension, content_type=reference.content_type, read=read
    )
