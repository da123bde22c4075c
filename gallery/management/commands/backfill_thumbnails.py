"""Make the thumbnails an image is missing, from its original: after a size is added to
THUMBNAIL_SIZES (the 1024 px rendition), images saved before it have none of that size.

    manage.py backfill_thumbnails [--batch 100]

Until then nothing breaks: pages list in `srcset` only the sizes an image has. Images are read
in batches by id, so it can be stopped and run again at any time: a rerun picks up what is
left. Each image goes through the thumbnails step a save queues
(`generations.services.thumbnailing.image_make_renditions`: one decode, only the missing sizes
recorded, its claim, its stray-file cleanup): the image is marked pending for that moment, as
a new one is. An image whose original is missing or unreadable is reported and marked failed
(its pages keep the sizes it has); a passing storage error leaves it pending, for the sweeper.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Q

from generations.models import OutputImage, Renditions, Thumbnail
from generations.services.thumbnailing import image_make_renditions
from imaging.images import THUMBNAIL_SIZES


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
                except OSError as exc:
                    skipped += 1
                    self.stderr.write(f"Image {image.uuid}: {exc}; left for the sweeper.")
                    continue
                if count is None:
                    skipped += 1
                    self.stderr.write(f"Image {image.uuid}: its original cannot be read.")
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


def make_missing_thumbnails(image: OutputImage) -> int | None:
    """Make the sizes `image` has no thumbnail of, through the thumbnails step; how many were
    made, or None when its original cannot be read (the step marked it failed and logged why)."""
    before = Thumbnail.objects.filter(image=image).count()
    OutputImage.objects.filter(pk=image.pk).exclude(renditions=Renditions.PENDING).update(
        renditions=Renditions.PENDING, renditions_claimed_at=None
    )
    if not image_make_renditions(image_id=image.pk):
        return None
    return Thumbnail.objects.filter(image=image).count() - before
