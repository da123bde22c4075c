"""BlurHash placeholders: a ~30-character string drawn blurred until the thumbnail arrives.

Pure functions over Pillow images and file objects, no Django (like `images.py`).

The hash is computed from a tiny copy (at most `TINY_SIDE` px) of an image that is already
reduced (a thumbnail), so it costs about a millisecond: blurhash-python's encoder is linear in
pixels x components and a BlurHash keeps only the lowest frequencies anyway. The components
follow the aspect ratio (4 along the longer side), so a wide image keeps horizontal detail.
The browser decodes it in static/js/placeholders.js.
"""

from __future__ import annotations

from typing import BinaryIO

import blurhash
from PIL import Image

TINY_SIDE = 32
MAX_COMPONENTS = 4
MIN_COMPONENTS = 3


def components_for(width: int, height: int) -> tuple[int, int]:
    """(x, y) components: 4 along the longer side, 3 or 4 along the shorter one."""
    longest, shortest = max(width, height), min(width, height)
    short = max(MIN_COMPONENTS, min(MAX_COMPONENTS, round(MAX_COMPONENTS * shortest / longest)))
    return (MAX_COMPONENTS, short) if width >= height else (short, MAX_COMPONENTS)


def placeholder_from_image(im: Image.Image) -> str:
    """The BlurHash of `im` (not changed; any mode) from a tiny RGB copy."""
    scale = min(1.0, TINY_SIDE / max(im.size))
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    tiny = im.resize(size, Image.Resampling.BOX)  # a new image, even at the same size
    if tiny.mode != "RGB":
        # Transparent pixels count as white, as a browser would show them on a light page.
        rgba = tiny.convert("RGBA")
        tiny = Image.new("RGB", rgba.size, "white")
        tiny.paste(rgba, mask=rgba)
    # The encoder closes the image it is given: it gets our own tiny one.
    return str(blurhash.encode(tiny, *components_for(*tiny.size)))


def placeholder_from_file(fp: BinaryIO) -> str:
    """The BlurHash of a stored thumbnail (WebP) or any image Pillow reads from `fp`."""
    fp.seek(0)
    with Image.open(fp, formats=("WEBP", "PNG", "JPEG")) as im:
        im.draft("RGB", (TINY_SIDE * 2, TINY_SIDE * 2))  # JPEG only; a no-op otherwise
        im.load()
        return placeholder_from_image(im)
