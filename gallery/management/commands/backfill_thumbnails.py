"""Make the thumbnails an image is missing, from its original: after a size is added to
THUMBNAIL_SIZES (the 1024 px rendition), images saved before it have none of that size.

    manage.py backfill_thumbnails [--batch 100]

Until then nothing breaks: pages list in `srcset` only the sizes an image has. Images are read
in batches by id, so it can be stopped and run again at any time: a rerun picks up what is
left. Each image's thumbnails are made in one decode (process_image, as a save makes them);
only the missing sizes are stored. A row that appeared meanwhile (a race) keeps its own file
and ours is deleted. An image whose original is missing or unreadable is reported and left.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from generations.models import OutputImage, Renditions, Thumbnail
from imaging.images import THUMBNAIL_SIZES, NotAnImage, process_image


class Command(BaseCommand):
    help = "Make the thumbnails of THUMBNAIL_SIZES that images are missing, from their originals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=100, help="images per query")

    def handle(self, *args: object, **options: object) -> None:
        batch_size = int(options["batch"])
        if batch_size < 1:
            raise CommandError("--batch must be at least 1.")
        made = images = skipped = 0
        last_id = 0
        while True:
            batch = _next_batch(after_id=last_id, size=batch_size)
            if not batch:
                break
            last_id = batch[-1].pk
            for image in batch:
                try:
                    count = make_missing_thumbnails(image)
                except (OSError, NotAnImage) as exc:
                    skipped += 1
                    self.stderr.write(f"Image {image.uuid}: {exc}; left as it is.")
                    continue
                made += count
                images += 1
        self.stdout.write(
            self.style.SUCCESS(f"{made} thumbnails made for {images} images; {skipped} skipped.")
        )


def _next_batch(*, after_id: int, size: int) -> list[OutputImage]:
    have = Count("thumbnails", filter=Q(thumbnails__size__in=THUMBNAIL_SIZES))
    return list(
        # Images whose thumbnails a save's task is still making are left to it.
        OutputImage.objects.filter(pk__gt=after_id)
        .exclude(renditions=Renditions.PENDING)
        .annotate(have=have)
        .filter(have__lt=len(THUMBNAIL_SIZES))
        .order_by("pk")
        .only("pk", "uuid", "file")[:size]
    )


def make_missing_thumbnails(image: OutputImage) -> int:
    """Store the sizes `image` has no thumbnail of; how many were made."""
    present = set(Thumbnail.objects.filter(image=image).values_list("size", flat=True))
    if present >= set(THUMBNAIL_SIZES):
        return 0
    with default_storage.open(image.file.name, "rb") as fp:
        processed = process_image(fp)
    made = 0
    for thumb in processed.thumbnails:
        if thumb.size in present:
            continue
        name = Thumbnail.file.field.generate_filename(None, "thumb.webp")
        stored = default_storage.save(name, ContentFile(thumb.data))
        try:
            with transaction.atomic():
                Thumbnail.objects.create(
                    image=image,
                    size=thumb.size,
                    file=stored,
                    width=thumb.width,
                    height=thumb.height,
                    bytes=len(thumb.data),
                )
        except IntegrityError:  # made meanwhile: that row keeps its file
            default_storage.delete(stored)
            continue
        made += 1
    return made
