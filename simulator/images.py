"""Stand-in output images: cheap to make at any size, recognisable, deterministic per seed."""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw, ImageFont

from simulator import spec

_GRADIENT_SIZE = 256  # the gradient is drawn small and scaled up: fast even at 6272x2688


def pixel_size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    """(width, height) from the documented table; "auto" renders as spec.AUTO_ASPECT_RATIO."""
    ratio = spec.AUTO_ASPECT_RATIO if aspect_ratio == "auto" else aspect_ratio
    return spec.PIXEL_SIZES[ratio][resolution]


def _colours(seed: str) -> tuple[tuple[int, int, int], tuple[int, int, int], int]:
    digest = hashlib.sha256(seed.encode()).digest()
    first = (digest[0], digest[1], digest[2])
    # the second colour is the first's complement-ish, so the gradient is always visible
    second = (255 - digest[3] // 2, 255 - digest[1], digest[4] // 2)
    angle = digest[5] * 360 // 256
    return first, second, angle


def render(
    width: int, height: int, seed: str, lines: list[str], output_format: str = "png"
) -> bytes:
    """A two-colour gradient chosen by `seed` with `lines` of text drawn on it, encoded."""
    first, second, angle = _colours(seed)
    # rotate a gradient twice the size and keep its middle, so no empty corners show
    big = Image.linear_gradient("L").resize((2 * _GRADIENT_SIZE, 2 * _GRADIENT_SIZE))
    big = big.rotate(angle, resample=Image.Resampling.BILINEAR)
    offset = _GRADIENT_SIZE // 2
    mask = big.crop((offset, offset, offset + _GRADIENT_SIZE, offset + _GRADIENT_SIZE))
    small = Image.composite(
        Image.new("RGB", mask.size, first), Image.new("RGB", mask.size, second), mask
    )
    image = small.resize((width, height), Image.Resampling.BILINEAR)

    draw = ImageDraw.Draw(image)
    font_size = max(12, min(width, height) // 14)
    font = ImageFont.load_default(size=font_size)
    x, y = width // 20, height // 10
    for line in lines:
        draw.text(
            (x, y),
            line,
            font=font,
            fill=(255, 255, 255),
            stroke_width=max(1, font_size // 16),
            stroke_fill=(0, 0, 0),
        )
        y += int(font_size * 1.4)

    buffer = io.BytesIO()
    if output_format == "jpeg":
        image.save(buffer, "JPEG", quality=90)
    else:
        image.save(buffer, "PNG", compress_level=1)  # speed over size: this is a test double
    return buffer.getvalue()


class RenderCache:
    """A small in-memory LRU of encoded images, keyed by (prediction id, index)."""

    def __init__(self, size: int = spec.OUTPUT_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(
        self,
        key: tuple[str, int],
        width: int,
        height: int,
        lines: list[str],
        output_format: str,
    ) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        # rendered outside the lock: two requests for one image may both render; that is fine
        data = render(width, height, f"{key[0]}/{key[1]}", lines, output_format)
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return data

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
