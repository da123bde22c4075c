"""Give images saved before placeholders existed their BlurHash, from their 256 px thumbnail.

    manage.py backfill_placeholders [--batch 500]

Only images without a placeholder are read, in batches by id, each batch written in one
transaction, so it can be stopped and run again at any time: a rerun picks up what is left.
An image whose thumbnail is missing or unreadable is reported and left empty (the gallery
then simply shows no placeholder for it).
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Prefetch

from generations.models import OutputImage, Thumbnail
from imaging.images import THUMBNAIL_SIZES
from imaging.placeholders import placeholder_from_file

SOURCE_SIZE = min(THUMBNAIL_SIZES)


class Command(BaseCommand):
    help = "Compute the BlurHash placeholder of images that have none (from the 256 px thumbnail)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="images per transaction")

    def handle(self, *args: object, **options: object) -> None:
        batch_size = int(options["batch"])
        if batch_size < 1:
            raise CommandError("--batch must be at least 1.")
        filled = skipped = 0
        last_id = 0
        while True:
            batch = _next_batch(after_id=last_id, size=batch_size)
            if not batch:
                break
            last_id = batch[-1].pk
            done, problems = _fill(batch)
            filled += done
            skipped += len(problems)
            for image, reason in problems:
                self.stderr.write(f"Image {image.uuid}: {reason}; left without a placeholder.")
        self.stdout.write(
            self.style.SUCCESS(f"Placeholders computed for {filled} images; {skipped} skipped.")
        )


def _next_batch(*, after_id: int, size: int) -> list[OutputImage]:
    thumbnails = Thumbnail.objects.filter(size=SOURCE_SIZE)
    return list(
        OutputImage.objects.filter(placeholder="", pk__gt=after_id)
        .order_by("pk")
        .only("pk", "uuid")
        .prefetch_related(Prefetch("thumbnails", queryset=thumbnails, to_attr="sources"))[:size]
    )


def _fill(batch: list[OutputImage]) -> tuple[int, list[tuple[OutputImage, str]]]:
    """Compute each placeholder (outside the transaction: file reads), then write them at once."""
    computed: list[OutputImage] = []
    problems: list[tuple[OutputImage, str]] = []
    for image in batch:
        if not image.sources:
            problems.append((image, f"no {SOURCE_SIZE} px thumbnail"))
            continue
        try:
            with default_storage.open(image.sources[0].file.name, "rb") as fp:
                image.placeholder = placeholder_from_file(fp)
        except (OSError, ValueError, SyntaxError) as exc:
            problems.append((image, f"its thumbnail could not be read ({exc})"))
            continue
        computed.append(image)
    with transaction.atomic():
        for image in computed:
            # Only if still empty: a save that raced us keeps its own value.
            OutputImage.objects.filter(pk=image.pk, placeholder="").update(
                placeholder=image.placeholder
            )
    return len(computed), problems
