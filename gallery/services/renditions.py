"""The copy of an image that share links serve: its bytes without embedded metadata.

Made once per image, the first time one of its links is opened, and kept as a row unique on
the image (wagtail's renditions, our thumbnails): two first visits at once may both make a
file, but only one row is written; the other visit deletes its own file and serves the
winner's. The original stays untouched, for the image's members.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from generations.models import OutputImage, SharedRendition, shared_rendition_upload_to

from ..metadata import strip_metadata

logger = logging.getLogger(__name__)


def shared_rendition_get(*, image: OutputImage) -> SharedRendition:
    """The image's shared rendition, made now if it has none.

    Raises metadata.NotStrippable for a file that is not a well-formed PNG, JPEG or WebP: its
    metadata cannot be told from its picture, so it is never served to a share link."""
    found = SharedRendition.objects.filter(image=image).first()
    if found is not None:
        return found
    # Originals are a few megabytes (at most DARKROOM_OUTPUT_MAX_BYTES): read whole, once.
    with default_storage.open(image.file.name, "rb") as original:
        stripped = strip_metadata(original.read(), image.format)
    name = default_storage.save(
        shared_rendition_upload_to(None, image.file.name), ContentFile(stripped)
    )
    try:
        with transaction.atomic():
            return SharedRendition.objects.create(image=image, file=name, bytes=len(stripped))
    except IntegrityError:
        # Another visit made it first (or the image was purged meanwhile): ours is not needed.
        default_storage.delete(name)
        logger.info("Shared rendition of image %s was made by another request", image.pk)
        return SharedRendition.objects.get(image=image)
