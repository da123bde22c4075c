"""Tiles: an image's links, thumbnails and star, built from precompiled strings.

A gallery page has 48 tiles of four links each. Rendering them through `{% include %}` cost
most of a page's server time, then `format_html` and a `reverse()` per link a third of it
(bench/gallery.py). So each URL pattern is reversed once (per script prefix) with a stand-in
UUID and split around it, each piece of markup is a format string filled with values that are
escaped here (`escape` on every value that is not ours: prompts and names are user text), and
what is the same on every tile (the CSRF token, the page's address) is escaped once a request.
`escape` is the standard library's, which Django's wraps (the same text, without the wrapper's
check for lazy strings: a tenth of the tiles' time).
`_thumb.html` and `_favourite_button.html` use the same strings, so each piece of markup has
one source.
"""

from __future__ import annotations

import math
from functools import lru_cache
from html import escape

from django import template
from django.middleware.csrf import get_token
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe

from generations.models import OutputImage

from ..selectors import TileRow

register = template.Library()

STAND_IN = "00000000-0000-0000-0000-000000000000"
VIEWS = ("image_detail", "image_favourite", "image_original")
ALT_LENGTH = 200  # as Truncator(...).chars(200): the cut text ends with "…"
LABEL_LENGTH = 80  # a checkbox's name: "Select <the start of the prompt>"


@lru_cache(maxsize=16)
def _patterns(prefix: str) -> dict[str, tuple[str, str]]:
    """Each link's text before and after the image's UUID; the thumbnail's "after" ends
    before its size."""
    patterns = {name: reverse(f"gallery:{name}", args=[STAND_IN]) for name in VIEWS}
    thumbnail = reverse("gallery:image_thumbnail", args=[STAND_IN, 999])
    patterns["thumbnail"] = thumbnail.removesuffix("999/")
    return {name: _around(url, STAND_IN) for name, url in patterns.items()}


def _around(text: str, marker: str) -> tuple[str, str]:
    head, tail = text.split(marker)
    return head, tail


def _links() -> dict[str, tuple[str, str]]:
    return _patterns(get_script_prefix())


def image_link(image: OutputImage | TileRow, name: str) -> str:
    head, tail = _links()[name]
    return f"{head}{image.uuid}{tail}"


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- The tile's layout: justified rows --------------------------------------------------------
# A tile's width is its aspect ratio times the row's height (gallery.css stretches each row to
# the full width). The ratio comes as a class from a fixed table, `.arN { --ar: 1.025^(N-56) }`,
# because the Content-Security-Policy allows no style attributes; the 2.5 % steps put a tile
# within 1.25 % of its image's ratio (`object-fit: cover` trims the rest: a pixel or two).
RATIO_STEP = 1.025
RATIO_CLASSES = 56  # either side of 1:1, so 1:4 to 4:1
# Row heights of gallery.css by viewport width, and how far a row may stretch to fill the width
# (keep them in step; on phones a share of the width): `sizes` asks for the widest a tile gets.
ROWS = (
    (600, 26, "vw", 1.8),
    (1100, 180, "px", 1.15),
    (1800, 210, "px", 1.15),
    (None, 260, "px", 1.15),
)


def ratio_class(width: int, height: int) -> int:
    steps = round(math.log(width / height) / math.log(RATIO_STEP))
    return max(-RATIO_CLASSES, min(RATIO_CLASSES, steps)) + RATIO_CLASSES


@lru_cache(maxsize=2 * RATIO_CLASSES + 1)
def tile_sizes(ratio: int) -> str:
    """`sizes` for a tile of class `ratio`. Browsers that know `auto` use the tile's laid-out
    width (the images are lazy, so it is known); the others this list."""
    aspect = RATIO_STEP ** (ratio - RATIO_CLASSES)
    slots = []
    for max_width, row, unit, stretch in ROWS:
        value = aspect * row * stretch
        width = f"{math.ceil(value)}px" if unit == "px" else f"{math.ceil(value * 10) / 10:g}vw"
        slots.append(f"(max-width: {max_width}px) {width}" if max_width else width)
    return escape("auto, " + ", ".join(slots))  # escaped once, here: it goes into an attribute


# --- Precompiled markup ----------------------------------------------------------------------

IMG = (
    '<img src="{src}"{srcset} width="{width}" height="{height}" loading="lazy" '
    'decoding="async"{blurhash} alt="{alt}">'
)
SRCSET = ' srcset="{srcset}" sizes="{sizes}"'
BLURHASH = ' data-blurhash="{}"'
THUMB = '<a class="thumb{nsfw}" href="{page}">{img}</a>'
STAR = (
    '<form class="star-form" method="post" action="{url}" hx-post="{url}" '
    'hx-swap="outerHTML"><input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    '<input type="hidden" name="next" value="{next}">'
    '<input type="hidden" name="star" value="{value}">'
    '<button type="submit" class="star{on}" aria-pressed="{pressed}" aria-label="Favourite" '
    'title="{title}">{glyph}</button></form>'
)
STAR_STATES = {
    True: {"value": "0", "on": " on", "pressed": "true", "title": "Remove from favourites"},
    False: {"value": "1", "on": "", "pressed": "false", "title": "Add to favourites"},
}
GLYPH = {True: "★", False: "☆"}
TILE = (
    '<figure class="tile ar{ratio}" data-tile data-uuid="{uuid}" data-cursor="{cursor}">'
    '<input type="checkbox" class="pick" name="images" value="{uuid}" form="bulk-form" '
    'aria-label="Select {label}">{thumb}<figcaption class="small">'
    '<span class="author">{author}</span>{deleted}{star}</figcaption></figure>'
)
DELETED = '<span class="deleted">deleted by {} on {}</span>'


def _img(
    *,
    url: str,
    thumbnails: list[tuple[int, int, int]],
    size: int,
    sizes: str,
    placeholder: str,
    prompt: str,
    original: tuple[str, int] | None = None,
    fallback: tuple[str, int, int] | None = None,
) -> str:
    """The `<img>` of a thumbnail: the stored size nearest `size`, every stored size in
    `srcset` (`url`: the image's thumbnail address up to its size; `sizes`: escaped already),
    then the `original` (address, width) where it is wider than the largest: a tile wider than
    1024 device pixels (a 16:9 tile at 3x) is sharp only from it. Without thumbnails (not made
    yet, or impossible: generations/services/thumbnailing.py) the `fallback` original (address,
    width, height) stands in, at its real shape."""
    if not thumbnails:
        if fallback is None:
            return ""
        src, width, height = fallback
        return IMG.format(
            src=src,
            srcset="",
            width=width,
            height=height,
            blurhash="",
            alt=escape(_cut(prompt, ALT_LENGTH)),
        )
    chosen = next((t for t in thumbnails if t[0] == size), thumbnails[-1])
    srcset = ""
    if sizes:
        candidates = ", ".join(f"{url}{s}/ {w}w" for s, w, _ in thumbnails)
        if original and original[1] > thumbnails[-1][1]:
            candidates += f", {original[0]} {original[1]}w"
        srcset = SRCSET.format(srcset=candidates, sizes=sizes)
    return IMG.format(
        src=f"{url}{chosen[0]}/",
        srcset=srcset,
        width=chosen[1],
        height=chosen[2],
        blurhash=BLURHASH.format(escape(placeholder)) if placeholder else "",
        alt=escape(_cut(prompt, ALT_LENGTH)),
    )


def thumb_html(image: OutputImage, size: int = 256, sizes: str = "") -> SafeString:
    """A linked thumbnail of an image (with its prefetched `thumbnails`: no query)."""
    thumbnails = sorted((t.size, t.width, t.height) for t in image.thumbnails.all())
    img = _img(
        url=image_link(image, "thumbnail"),
        thumbnails=thumbnails,
        size=int(size),
        sizes=escape(sizes),
        placeholder=image.placeholder,
        prompt=image.generation.prompt,
        fallback=(image_link(image, "image_original"), image.width, image.height),
    )
    nsfw = " nsfw" if image.nsfw else ""
    # Safe: every value put in was escaped (or is ours).
    return mark_safe(THUMB.format(nsfw=nsfw, page=image_link(image, "image_detail"), img=img))


def _star_forms(*, csrf_token: str, next_url: str) -> dict[bool, list[str]]:
    """The star's form, on and off, with what every tile of a page shares filled in: the
    pieces around its two URLs (joined, never formatted again: user text may hold braces)."""
    shared = {"csrf": escape(csrf_token), "next": escape(next_url)}
    return {
        starred: [
            part.format(**shared, **state, glyph=GLYPH[starred]) for part in STAR.split("{url}")
        ]
        for starred, state in STAR_STATES.items()
    }


def star_html(image: OutputImage, *, starred: bool, next_url: str, csrf_token: str) -> SafeString:
    parts = _star_forms(csrf_token=csrf_token, next_url=next_url)[starred]
    return mark_safe(image_link(image, "image_favourite").join(parts))  # escaped in _star_forms


def tiles_html(rows: list[TileRow], *, trash: bool, next_url: str, csrf_token: str) -> SafeString:
    """The gallery's tiles: one format per tile, every user-written value escaped."""
    stars = _star_forms(csrf_token=csrf_token, next_url=next_url)
    links = _links()
    page_head, page_tail = links["image_detail"]
    star_head, star_tail = links["image_favourite"]
    thumb_head, thumb_tail = links["thumbnail"]
    original_head, original_tail = links["image_original"]
    out = []
    for row in rows:
        uuid = str(row.uuid)
        thumbnails = row.thumbnails()
        ratio = ratio_class(*(thumbnails[-1][1:] if thumbnails else (row.width, row.height)))
        original = f"{original_head}{uuid}{original_tail}"
        img = _img(
            url=f"{thumb_head}{uuid}{thumb_tail}",
            thumbnails=thumbnails,
            size=256,
            sizes=tile_sizes(ratio),
            placeholder=row.placeholder,
            prompt=row.prompt,
            original=(original, row.width),
            fallback=(original, row.width, row.height),
        )
        deleted = ""
        if trash:
            when = timezone.localtime(row.deleted_at) if row.deleted_at else None
            deleted = DELETED.format(
                escape(row.deleted_by or "someone"),
                date_format(when, "j M Y, H:i") if when else "",
            )
        out.append(
            TILE.format(
                ratio=ratio,
                uuid=uuid,
                cursor=row.cursor,
                label=escape(_cut(row.prompt, LABEL_LENGTH)),
                thumb=THUMB.format(
                    nsfw=" nsfw" if row.nsfw else "", page=f"{page_head}{uuid}{page_tail}", img=img
                ),
                author=escape(row.author),
                deleted=deleted,
                star=f"{star_head}{uuid}{star_tail}".join(stars[row.starred]),
            )
        )
    return mark_safe("\n".join(out))  # every value escaped above


@register.simple_tag(takes_context=True)
def gallery_tiles(context: template.Context, rows: list[TileRow], trash: bool) -> SafeString:
    request = context["request"]
    return tiles_html(
        rows, trash=trash, next_url=request.get_full_path(), csrf_token=get_token(request)
    )


@register.simple_tag
def thumb(image: OutputImage, size: int = 256, sizes: str = "") -> SafeString:
    return thumb_html(image, size, sizes)


@register.simple_tag(takes_context=True)
def star_button(
    context: template.Context, image: OutputImage, starred: bool, next_url: str
) -> SafeString:
    request = context["request"]
    return star_html(
        image,
        starred=starred,
        next_url=next_url or request.get_full_path(),
        csrf_token=get_token(request),
    )
