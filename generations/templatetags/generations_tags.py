from __future__ import annotations

from collections.abc import Iterable

from django import template

from ..models import Generation, OutputImage, Thumbnail

register = template.Library()


@register.filter
def any_active(generations: Iterable[Generation]) -> bool:
    return any(generation.is_active for generation in generations)


@register.filter
def thumbnail(image: OutputImage, size: int) -> Thumbnail | None:
    """The stored thumbnail of `size`, from the prefetched list (no query per tile)."""
    thumbnails = list(image.thumbnails.all())
    for thumb in thumbnails:
        if thumb.size == int(size):
            return thumb
    return thumbnails[-1] if thumbnails else None


@register.filter
def seconds(milliseconds: int | None) -> str:
    return "—" if milliseconds is None else f"{milliseconds / 1000:.1f} s"
