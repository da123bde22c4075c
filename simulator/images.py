"""Stand-in output images: cheap to make at any size, recognisable, deterministic per seed."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import queue
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw, ImageFont

from simulator import spec

logger = logging.getLogger(__name__)

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
    """Encoded outputs by (prediction id, index), as a CDN holds finished files.

    The real provider serves outputs from its CDN at no cost to us; a stand-in that rendered
    each PNG when it is first downloaded (30-100 ms of CPU for a 1k one) would charge that to
    the machine running Darkroom at the worst moment, when every save downloads at once. So a
    prediction's outputs are rendered ahead, once it is submitted (`render_ahead`), by one
    background thread at a lower CPU priority, and a download only sends bytes. A download
    that arrives first (or after the LRU dropped the file) renders it itself, as before;
    one already being rendered is waited for. This is the simulator's fidelity, not
    Darkroom's behaviour. Bounded by bytes, least recently used first out.
    """

    def __init__(self, max_bytes: int = spec.OUTPUT_CACHE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._queued: dict[tuple[str, int], tuple[int, int, list[str], str]] = {}
        self._rendering: dict[tuple[str, int], threading.Event] = {}
        self._jobs: queue.SimpleQueue[tuple[str, int] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def render_ahead(
        self, key: tuple[str, int], width: int, height: int, lines: list[str], output_format: str
    ) -> None:
        """Render `key` in the background, off the request path."""
        with self._lock:
            if key in self._items or key in self._queued or key in self._rendering:
                return
            self._queued[key] = (width, height, lines, output_format)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="sim-output-renderer", daemon=True
                )
                self._thread.start()
        self._jobs.put(key)

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
            self._queued.pop(key, None)  # not started yet: this request renders it
            rendering = self._rendering.get(key)
        if rendering is not None and rendering.wait(timeout=30):
            with self._lock:
                if key in self._items:
                    return self._items[key]
        data = render(width, height, f"{key[0]}/{key[1]}", lines, output_format)
        self._keep(key, data)
        return data

    def ready(self, key: tuple[str, int]) -> bool:
        with self._lock:
            return key in self._items

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._queued.clear()
            self._bytes = 0

    def stop(self) -> None:
        self._jobs.put(None)

    def _keep(self, key: tuple[str, int], data: bytes) -> None:
        with self._lock:
            if key in self._items:
                self._bytes -= len(self._items[key])
            self._items[key] = data
            self._items.move_to_end(key)
            self._bytes += len(data)
            while self._bytes > self._max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    def _work(self) -> None:
        _lower_priority()
        while True:
            key = self._jobs.get()
            if key is None:
                return
            with self._lock:
                job = self._queued.pop(key, None)
                if job is None:  # a download rendered it first, or a reset forgot it
                    continue
                done = self._rendering[key] = threading.Event()
            try:
                width, height, lines, output_format = job
                self._keep(key, render(width, height, f"{key[0]}/{key[1]}", lines, output_format))
            except Exception:  # a stand-in's render failing must not stop the thread
                logger.exception("Could not render %s ahead", key)
            finally:
                with self._lock:
                    self._rendering.pop(key, None)
                done.set()


def _lower_priority() -> None:
    """Nice this thread (Linux threads have their own priority): rendering ahead uses the CPU
    the app under test leaves, as a CDN's costs are not ours."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
