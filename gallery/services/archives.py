"""A streamed ZIP of originals, with their metadata as JSON and CSV beside them.

Nothing is held whole in memory: each original is read in chunks (media.read_chunks: local
files and S3 alike) only when the archive reaches it, and the archive is sent as it is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal

import zipstream
from django.contrib.auth.models import AbstractBaseUser

from accounts.selectors import display_name_of
from audit.models import Action
from audit.services import entry, record_all
from config import media
from config.csv_writer import csv_bytes
from generations.models import OutputImage

CHUNK_BYTES = 256 * 1024
# Beyond six places (money's precision everywhere else) a share of a cost is rounded.
COST_PLACES = Decimal("0.000001")

CSV_COLUMNS = (
    "file",
    "uuid",
    "prompt",
    "prompt_original",
    "aspect_ratio",
    "resolution",
    "result_type",
    "num_images",
    "request_payload",
    "author",
    "project",
    "cost",
    "created_at",
    "width",
    "height",
    "sha256",
)


def archive_name(now: datetime) -> str:
    return f"darkroom-{now:%Y-%m-%d-%H%M%S}.zip"


def archive_download(
    *, user: AbstractBaseUser, images: Sequence[OutputImage]
) -> zipstream.ZipStream:
    """The ZIP a person downloads, recorded in the audit trail: one entry per project the
    images come from (personal ones in one entry of their own), with how many."""
    by_project: dict[int | None, list[OutputImage]] = {}
    for image in images:
        by_project.setdefault(image.project_id, []).append(image)
    record_all(
        entry(
            Action.IMAGES_ZIPPED,
            actor=user,
            project=group[0].project,
            after={"images": len(group)},
        )
        for group in by_project.values()
    )
    return archive_stream(images=images)


def archive_stream(*, images: Sequence[OutputImage]) -> zipstream.ZipStream:
    """The images need `generation`, `project` and `owner__profile` loaded (no query each)."""
    archive = zipstream.ZipStream(compress_type=zipstream.ZIP_STORED)  # images are compressed
    rows = []
    for image in images:
        name = image.download_name
        archive.add(_chunks(image.file.name), name)
        rows.append(image_metadata(image, name))
    archive.add(json.dumps({"images": rows}, indent=2, ensure_ascii=False), "metadata.json")
    archive.add(metadata_csv(rows), "metadata.csv")
    return archive


def image_metadata(image: OutputImage, name: str) -> dict[str, object]:
    generation = image.generation
    return {
        "file": name,
        "uuid": str(image.uuid),
        "prompt": generation.prompt,
        "prompt_original": generation.prompt_original,
        "parameters": {
            "aspect_ratio": generation.aspect_ratio,
            "resolution": generation.resolution,
            "result_type": generation.result_type,
            "num_images": generation.num_images,
            "request_payload": generation.request_payload,
        },
        "author": display_name_of(image.owner),
        "project": image.project.name if image.project else "",
        "cost": image_cost(image),
        "created_at": image.created_at.isoformat(),
        "width": image.width,
        "height": image.height,
        "sha256": image.sha256,
    }


def image_cost(image: OutputImage) -> str:
    """The generation's charged cost shared by the images billed, as an exact decimal string
    ("" while nothing is charged)."""
    generation = image.generation
    billed = generation.billed_images
    if generation.cost is None or not billed:
        return ""
    share = generation.cost / billed
    if share != share.quantize(COST_PLACES):
        share = share.quantize(COST_PLACES)
    return format(share, "f")


def metadata_csv(rows: Sequence[dict[str, object]]) -> bytes:
    """The rows of metadata.json flattened into a table; text a spreadsheet would run as a
    formula is made inert by the csv writer (metadata.json keeps it exact)."""
    return csv_bytes([CSV_COLUMNS, *(_flat(row) for row in rows)])


def _flat(row: dict[str, object]) -> list[object]:
    parameters = row["parameters"]
    flat = {**row, **parameters}
    flat["request_payload"] = json.dumps(parameters["request_payload"], ensure_ascii=False)
    return [flat[column] for column in CSV_COLUMNS]


def _chunks(name: str) -> Iterator[bytes]:
    return media.read_chunks(name, CHUNK_BYTES)
