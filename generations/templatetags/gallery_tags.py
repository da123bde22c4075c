"""Tiles: an image's links and thumbnails, built without a reverse() per link.

A gallery page has 48 tiles of four links each; reversing every one of them was a third of the
page's server time. Each URL pattern is reversed once (per script prefix) with a stand-in UUID,
and a tile's links are that string with the image's UUID put in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse

from ..models import OutputImage, Thumbnail

register = template.Library()

STAND_IN = "00000000-0000-0000-0000-000000000000"
VIEWS = ("image_detail", "image_favourite", "image_original")


@lru_cache(maxsize=16)
def _patterns(prefix: str) -> dict[str, str]:
    patterns = {name: reverse(f"generations:{name}", args=[STAND_IN]) for name in VIEWS}
    thumbnail = reverse("generations:image_thumbnail", args=[STAND_IN, 999])
    patterns["thumbnail"] = thumbnail.replace("/999/", "/{size}/")
    return patterns


def image_link(image: OutputImage, name: str) -> str:
    return _patterns(get_script_prefix())[name].replace(STAND_IN, str(image.uuid))


@dataclass(frozen=True)
class Tile:
    page: str
    thumb: Thumbnail | None  # the stored thumbnail nearest the size asked for
    src: str
    srcset: str  # every stored size, with its real width


@register.filter
def tile(image: OutputImage, size: int = 256) -> Tile:
    """What `_thumb.html` shows, from the prefetched thumbnails (no query)."""
    thumbnails = list(image.thumbnails.all())
    chosen = next((t for t in thumbnails if t.size == int(size)), None)
    chosen = chosen or (thumbnails[-1] if thumbnails else None)
    thumb_url = image_link(image, "thumbnail")
    return Tile(
        page=image_link(image, "image_detail"),
        thumb=chosen,
        src=thumb_url.replace("{size}", str(chosen.size)) if chosen else "",
        srcset=", ".join(
            f"{thumb_url.replace('{size}', str(t.size))} {t.width}w" for t in thumbnails
        ),
    )


@register.filter
def favourite_url(image: OutputImage) -> str:
    return image_link(image, "image_favourite")
