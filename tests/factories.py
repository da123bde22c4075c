"""Rows for tests that need finished images (or elements) without running the pipeline."""

from __future__ import annotations

import io
import itertools
import random
from datetime import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from generations.models import Generation, OutputImage, Renditions, Status, Thumbnail
from imaging.images import THUMBNAIL_SIZES, fit_within
from projects.models import Membership, Project, Role


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), color: str = "teal", **save: object
) -> bytes:
    """A flat-coloured picture encoded as `fmt` (`save` goes to Pillow, e.g. exif=...)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt, **save)
    return buffer.getvalue()


def make_project(owner, name: str = "Harbour") -> Project:
    """A project with `owner` as its owner."""
    project = Project.objects.create(name=name, created_by=owner)
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    return project


def add_member(project: Project, user, role: str) -> Membership:
    return Membership.objects.create(project=project, user=user, role=role)


def make_image(
    owner,
    *,
    project: Project | None = None,
    prompt: str = "a red kite",
    size: tuple[int, int] = (64, 48),
    created_at: datetime | None = None,
    nsfw: bool = False,
    thumbnails: bool = True,
    **generation_fields: object,
) -> OutputImage:
    """A finished image of `size` (as recorded; the stored file is small) with its thumbnails
    scaled as the pipeline scales them. `generation_fields` (aspect_ratio, resolution, ...) go
    to its generation. `thumbnails=False`: as a save leaves it before its thumbnails are made
    (a real PNG of `size` as its original, no thumbnails, no placeholder, `pending`)."""
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
        **generation_fields,
    )
    data = image_bytes() if thumbnails else image_bytes(size=size)
    original = default_storage.save("originals/test/original.png", ContentFile(data))
    image = OutputImage.objects.create(
        generation=generation,
        owner=owner,
        project=project,
        index=0,
        file=original,
        width=size[0],
        height=size[1],
        bytes=len(data),
        format="PNG",
        content_type="image/png",
        sha256="0" * 64,
        nsfw=nsfw,
        renditions=Renditions.READY if thumbnails else Renditions.PENDING,
    )
    if created_at is not None:  # auto_now_add ignores a value given to create()
        OutputImage.objects.filter(pk=image.pk).update(created_at=created_at)
        image.created_at = created_at
    if not thumbnails:
        return image
    for longest in THUMBNAIL_SIZES:
        width, height = fit_within(*size, longest)
        name = default_storage.save("thumbnails/test/thumb.webp", ContentFile(b"RIFF0000WEBP"))
        Thumbnail.objects.create(
            image=image, size=longest, file=name, width=width, height=height, bytes=12
        )
    return image


def picture(width: int, height: int, seed: int) -> bytes:
    """A JPEG that looks like something in a screenshot: a two-colour gradient with a sun and
    a horizon, different for each `seed`."""
    from PIL import ImageDraw

    rng = random.Random(seed)
    top, bottom = (tuple(rng.randrange(30, 256) for _ in "rgb") for _ in range(2))
    im = Image.linear_gradient("L").resize((width, height))
    channels = zip(top, bottom, strict=True)
    im = Image.merge(
        "RGB", [im.point(lambda v, a=a, b=b: a + (b - a) * v // 255) for a, b in channels]
    )
    draw = ImageDraw.Draw(im)
    r = min(width, height) // rng.randint(5, 9)
    x, y = rng.randrange(r, width - r), rng.randrange(r, height // 2 + r)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(180, 256) for _ in "rgb"))
    horizon = height * rng.randint(55, 80) // 100
    draw.rectangle((0, horizon, width, height), fill=tuple(rng.randrange(10, 90) for _ in "rgb"))
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def make_pictured_image(
    owner, *, size: tuple[int, int], seed: int, **fields: object
) -> OutputImage:
    """`make_image`, then a real picture of `size` as its original and real WebP thumbnails
    (and BlurHash) made from it as the pipeline makes them: for pages a browser shows."""
    from imaging.images import process_image

    image = make_image(owner, size=size, **fields)
    data = picture(*size, seed)
    processed = process_image(io.BytesIO(data))
    image.file = default_storage.save("originals/test/picture.jpg", ContentFile(data))
    image.bytes, image.format, image.content_type = len(data), "JPEG", "image/jpeg"
    image.placeholder = processed.placeholder
    image.save(update_fields=["file", "bytes", "format", "content_type", "placeholder"])
    for thumb in processed.thumbnails:
        name = default_storage.save("thumbnails/test/thumb.webp", ContentFile(thumb.data))
        Thumbnail.objects.filter(image=image, size=thumb.size).update(
            file=name, width=thumb.width, height=thumb.height, bytes=len(thumb.data)
        )
    return image


def make_element(
    created_by,
    *,
    project: Project | None = None,
    name: str | None = None,
    preview: bool = False,
    kling_element_id: str | None = None,
    **fields: object,
):
    """An element made through the service, as the library page makes it; names and Kling ids
    are numbered unless given."""
    from elements import services

    n = next(_element_numbers)
    return services.element_create(
        created_by=created_by,
        project=project,
        name=name or f"Element {n}",
        kling_element_id=kling_element_id or f"80000000000000000{n:02d}",
        preview=services.preview_from_upload(io.BytesIO(image_bytes())) if preview else None,
        **fields,
    )


_element_numbers = itertools.count()


def make_picture(
    owner,
    *,
    size: tuple[int, int] = (832, 1248),
    colors: tuple[str, str] = ("#2b3a67", "#e0a44a"),
    **fields: object,
) -> OutputImage:
    """`make_image` with real files: an original of `size` (a two-colour gradient, so its shape
    shows) and the thumbnails and placeholder the pipeline would make of it, for browser tests
    that look at pictures."""
    from imaging.images import process_image

    image = make_image(owner, size=size, **fields)
    picture = Image.linear_gradient("L").resize(size)
    encoded = io.BytesIO()
    Image.composite(
        Image.new("RGB", size, colors[0]), Image.new("RGB", size, colors[1]), picture
    ).save(encoded, "PNG")
    processed = process_image(encoded)
    image.file = default_storage.save("originals/test/picture.png", ContentFile(encoded.getvalue()))
    image.bytes = len(encoded.getvalue())
    image.placeholder = processed.placeholder
    image.save(update_fields=["file", "bytes", "placeholder"])
    for thumb in processed.thumbnails:
        name = default_storage.save("thumbnails/test/picture.webp", ContentFile(thumb.data))
        Thumbnail.objects.filter(image=image, size=thumb.size).update(
            file=name, width=thumb.width, height=thumb.height, bytes=len(thumb.data)
        )
    return image
