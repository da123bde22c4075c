"""Tiles: an image's links and thumbnails, built without a reverse() per link.

A gallery page has 48 tiles of four links each; reversing every one of them was a third of the
page's server time. Each URL pattern is reversed once (per script prefix) with a stand-in UUID,
and a tile's links are that string with the image's UUID put in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django import template
from django.middleware.csrf import get_token
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from accounts.selectors import display_name_of

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


# The gallery's tiles, rendered in Python: 48 tiles through `{% include %}` cost most of a page's
# server time (bench/gallery.py: ~12 ms of ~30). `_thumb.html` and `_favourite_button.html` call
# the same functions, so each piece of markup has one source.

SIZES = "(max-width: 480px) 45vw, 240px"


def thumb_html(image: OutputImage, size: int = 256, sizes: str = "") -> str:
    t = tile(image, size)
    img = ""
    if t.thumb is not None:
        img = format_html(
            '<img src="{}"{} width="{}" height="{}" loading="lazy" decoding="async"{} alt="{}">',
            t.src,
            format_html(' srcset="{}" sizes="{}"', t.srcset, sizes) if sizes else "",
            t.thumb.width,
            t.thumb.height,
            format_html(' data-blurhash="{}"', image.placeholder) if image.placeholder else "",
            Truncator(image.generation.prompt).chars(200),
        )
    return format_html(
        '<a class="thumb{}" href="{}">{}</a>', " nsfw" if image.nsfw else "", t.page, img
    )


def star_html(image: OutputImage, *, starred: bool, next_url: str, csrf_token: str) -> str:
    url = image_link(image, "image_favourite")
    return format_html(
        '<form class="star-form" method="post" action="{url}" hx-post="{url}" '
        'hx-swap="outerHTML"><input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
        '<input type="hidden" name="next" value="{next}">'
        '<input type="hidden" name="star" value="{value}">'
        '<button type="submit" class="star{on}" aria-pressed="{pressed}" aria-label="Favourite" '
        'title="{title}">{glyph}</button></form>',
        url=url,
        csrf=csrf_token,
        next=next_url,
        value="0" if starred else "1",
        on=" on" if starred else "",
        pressed="true" if starred else "false",
        title="Remove from favourites" if starred else "Add to favourites",
        glyph="★" if starred else "☆",
    )


def tile_html(image: OutputImage, *, trash: bool, next_url: str, csrf_token: str) -> str:
    deleted = ""
    if trash:
        deleted = format_html(
            '<span class="deleted">deleted by {} on {}</span>',
            display_name_of(image.deleted_by) or "someone",
            date_format(timezone.localtime(image.deleted_at), "j M Y, H:i")
            if image.deleted_at
            else "",
        )
    return format_html(
        '<figure class="tile" data-tile data-uuid="{uuid}">'
        '<input type="checkbox" class="pick" name="images" value="{uuid}" form="bulk-form" '
        'aria-label="Select image">{thumb}<figcaption class="small">'
        '<span class="muted">{author}</span>{deleted}{star}</figcaption></figure>',
        uuid=image.uuid,
        thumb=thumb_html(image, 256, SIZES),
        author=display_name_of(image.owner),
        deleted=deleted,
        star=star_html(
            image,
            starred=getattr(image, "starred", False),
            next_url=next_url,
            csrf_token=csrf_token,
        ),
    )


@register.simple_tag(takes_context=True)
def gallery_tiles(context: template.Context, images: list[OutputImage], trash: bool) -> str:
    request = context["request"]
    next_url, csrf_token = request.get_full_path(), get_token(request)
    # Safe: every tile is built by format_html, which escapes what it puts in.
    return mark_safe(
        "\n".join(
            tile_html(image, trash=trash, next_url=next_url, csrf_token=csrf_token)
            for image in images
        )
    )


@register.simple_tag
def thumb(image: OutputImage, size: int = 256, sizes: str = "") -> str:
    return thumb_html(image, size, sizes)


@register.simple_tag(takes_context=True)
def star_button(context: template.Context, image: OutputImage, starred: bool, next_url: str) -> str:
    request = context["request"]
    return star_html(
        image,
        starred=starred,
        next_url=next_url or request.get_full_path(),
        csrf_token=get_token(request),
    )
