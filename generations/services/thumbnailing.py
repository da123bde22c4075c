"""Step 2 of a save: an image's thumbnails and BlurHash, made after its original is shown.

A save (saving.py) stores each original, verified without decoding, and the generation is done
as soon as every one is: pages show the originals. This task, queued once per image after that
commit on the `thumbnails` queue, decodes the original once and makes the 256/512/1024 px WebP
thumbnails and the placeholder exactly as before (`imaging.images.process_image`), stores them
and records them; pages then use them.

- Claimed like a save (a lease on `renditions_claimed_at`), so a copy queued twice runs once
  and a killed worker's claim expires; the sweeper (sweeping.py) queues the task again for an
  image still pending a minute after it was stored.
- The names of the files it writes are recorded on the image before the first byte, so the
  next claim deletes a killed run's (and the trash purge those of an image it removes).
- An original that passed the save's checks but will not decode (a JPEG damaged past its
  header) marks the image `FAILED`: pages keep showing the original, the admin says so, and
  the log has why. Nothing is retried for it.
- The image may be trashed meanwhile (its thumbnails are made all the same: it can be
  restored) or purged: then the rows are gone and the files just written are deleted.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.media import delete_files
from imaging.images import NotAnImage, process_image
from wavespeed.runner import update_returning

from ..models import OutputImage, Renditions, Thumbnail
from .saving import delete_unrecorded

logger = logging.getLogger(__name__)

# A run whose worker died is taken over after this long: a 4k decode and its encodes take
# under a second of CPU, the storage writes a few more on S3.
RENDITIONS_LEASE = timedelta(seconds=90)


class _Gone(Exception):
    """The image was removed (or finished by another run) while its thumbnails were made."""


def image_make_renditions(*, image_id: int) -> bool:
    """Make and record an image's thumbnails and placeholder; True if this run made them."""
    now = timezone.now()
    image = update_returning(
        OutputImage.objects.filter(pk=image_id, renditions=Renditions.PENDING).filter(
            Q(renditions_claimed_at__isnull=True)
            | Q(renditions_claimed_at__lt=now - RENDITIONS_LEASE)
        ),
        renditions_claimed_at=now,
    )
    if image is None:
        return False
    discard_pending_renditions(image)
    try:
        with default_storage.open(image.file.name, "rb") as fp:
            processed = process_image(fp)
    except NotAnImage as exc:
        _failed(image, str(exc))
        return False
    except Exception:
        if not default_storage.exists(image.file.name):
            _failed(image, "its original is missing from the storage")
            return False
        # A passing failure of the storage: the claim runs out and the sweeper queues it again.
        raise
    names = [
        Thumbnail.file.field.generate_filename(None, "thumb.webp") for _ in processed.thumbnails
    ]
    _set_pending(image_id, names)
    stored: list[str] = []
    try:
        for thumb, name in zip(processed.thumbnails, names, strict=True):
            saved = default_storage.save(name, ContentFile(thumb.data))
            stored.append(saved)
            if saved != name:  # the storage chose another name: record it too
                _set_pending(image_id, [*names, *stored])
        with transaction.atomic():
            # Locked, so the trash purge (which locks the rows it removes) either sees these
            # thumbnails or removes the image before they are recorded.
            if (
                not OutputImage.objects.select_for_update()
                .filter(pk=image_id, renditions=Renditions.PENDING)
                .exists()
            ):
                raise _Gone
            present = set(
                Thumbnail.objects.filter(image_id=image_id).values_list("size", flat=True)
            )
            made = [
                (thumb, name)
                for thumb, name in zip(processed.thumbnails, stored, strict=True)
                if thumb.size not in present
            ]
            Thumbnail.objects.bulk_create(
                Thumbnail(
                    image_id=image_id,
                    size=thumb.size,
                    file=name,
                    width=thumb.width,
                    height=thumb.height,
                    bytes=len(thumb.data),
                )
                for thumb, name in made
            )
            OutputImage.objects.filter(pk=image_id).update(
                renditions=Renditions.READY,
                placeholder=processed.placeholder,
                renditions_claimed_at=None,
                renditions_pending_files=[],
            )
        unused = sorted(set(stored) - {name for _, name in made})
        delete_files(unused)  # sizes another run had made already
        return True
    except _Gone:
        delete_files(stored)
        _set_pending(image_id, [])
        return False
    except BaseException:
        delete_files(stored)
        _set_pending(image_id, [])
        raise


def _failed(image: OutputImage, reason: str) -> None:
    logger.warning(
        "Image %s: its thumbnails cannot be made (%s); pages show its original", image.uuid, reason
    )
    OutputImage.objects.filter(pk=image.pk, renditions=Renditions.PENDING).update(
        renditions=Renditions.FAILED, renditions_claimed_at=None, renditions_pending_files=[]
    )


def discard_pending_renditions(image: OutputImage) -> int:
    """Delete the files a killed run wrote for the image but no row uses; how many."""
    names = list(image.renditions_pending_files or [])
    if not names:
        return 0
    orphans = delete_unrecorded(names)
    _set_pending(image.pk, [])
    if orphans:
        logger.info("Image %s: removed %s orphan thumbnail file(s)", image.pk, orphans)
    return orphans


def _set_pending(image_id: int, names: list[str]) -> None:
    OutputImage.objects.filter(pk=image_id).update(renditions_pending_files=names)
