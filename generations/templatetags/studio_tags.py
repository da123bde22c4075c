"""Template helpers of the studio and the image page: line icons, short times, run images."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timeuntil

from .. import examples
from ..models import OutputImage

register = template.Library()

# 24 px line icons (paths in the style of Feather, MIT), drawn with currentColor.
_PATHS = {
    "download": '<path d="M12 3v12"/><path d="m7 10 5 5 5-5"/><path d="M5 21h14"/>',
    "reference": '<rect x="3" y="3" width="18" height="18" rx="2"/><circle cx="9" cy="9" r="2"/>'
    '<path d="m21 15-4-4-6 6"/><path d="M16 3v6M13 6h6"/>',
    "trash": '<path d="M3 6h18"/><path d="M8 6V4h8v2"/><path d="M6 6l1 15h10l1-15"/>',
    "open": '<path d="M15 3h6v6"/><path d="M10 14 21 3"/><path d="M21 14v7H3V3h7"/>',
    "copy": '<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15H3V3h12v2"/>',
    "share": '<circle cx="18" cy="5" r="3"/><circle cx="6" cy="12" r="3"/>'
    '<circle cx="18" cy="19" r="3"/><path d="m8.6 13.5 6.8 4M15.4 6.5l-6.8 4"/>',
    "again": '<path d="M21 12a9 9 0 1 1-3-6.7"/><path d="M21 3v6h-6"/>',
    "reuse": '<path d="M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3"/>'
    '<path d="M1 14h6M9 8h6M17 16h6"/>',
    "prev": '<path d="m15 18-6-6 6-6"/>',
    "next": '<path d="m9 18 6-6-6-6"/>',
    "bell": '<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/>'
    '<path d="M13.7 21a2 2 0 0 1-3.4 0"/>',
    "close": '<path d="M18 6 6 18M6 6l12 12"/>',
    "undo": '<path d="M9 14 4 9l5-5"/><path d="M4 9h11a5 5 0 0 1 0 10h-3"/>',
    "eye": '<path d="M1 12s4-8 11-8 11 8 11 8-4 8-11 8-11-8-11-8z"/>'
    '<circle cx="12" cy="12" r="3"/>',
}


@register.simple_tag
def icon(name: str) -> SafeString:
    """An icon of the page's sprite (`icon_sprite`, in base.html), hidden from screen readers
    (the control around it has the name). A reference, not the paths: a run's tiles carry
    three or four icons each, and 40 tiles of inline paths weighed ~50 KB."""
    if name not in _PATHS:
        raise KeyError(name)
    return format_html(
        '<svg class="icon" width="18" height="18" aria-hidden="true" focusable="false">'
        '<use href="#i-{}"/></svg>',
        name,
    )


@register.simple_tag
def icon_sprite() -> SafeString:
    """Every icon once, as a hidden sprite's symbols, for `icon` to refer to. The stroke is on
    each symbol: a <use> copies the symbol, not the sprite around it; currentColor is then the
    colour where the icon is used."""
    symbols = "".join(
        f'<symbol id="i-{name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{paths}</symbol>'
        for name, paths in _PATHS.items()
    )
    return mark_safe(f'<svg class="icon-sprite" hidden aria-hidden="true">{symbols}</svg>')


@register.simple_tag
def example_list() -> tuple[examples.Example, ...]:
    """The example prompts of a first run (`{% example_list as examples %}`)."""
    return examples.EXAMPLES


@register.filter
def ago(moment: datetime) -> str:
    """ "just now", "5 min ago", "3 h ago", then the date: short enough for a run's header."""
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 24 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return date_format(timezone.localtime(moment), "j M Y")


@register.filter
def until(moment: datetime) -> str:
    """ "in under a minute", then "in 6 days, 23 hours": never "in 0 minutes"."""
    if (moment - timezone.now()).total_seconds() < 60:
        return "in under a minute"
    return f"in {timeuntil(moment)}"


@register.simple_tag
def run_thumb(image: OutputImage) -> SafeString:
    """An image of a run, uncropped, at its real shape: every stored thumbnail in srcset (the
    browser picks by the tile's laid-out width, `sizes="auto"`, lazy images only), the 512 px
    one as `src`; from the prefetched thumbnails (no query). Until they are made (or when they
    cannot be: generations/services/thumbnailing.py) the original stands in at its real shape."""
    thumbnails = sorted(image.thumbnails.all(), key=lambda t: t.size)
    if not thumbnails:
        return format_html(
            '<img src="{}" width="{}" height="{}" loading="lazy" decoding="async" alt="{}">',
            reverse("gallery:image_original", args=[image.uuid]),
            image.width,
            image.height,
            Truncator(image.generation.prompt).chars(120),
        )
    largest = next((t for t in thumbnails if t.size == 512), thumbnails[-1])
    urls = {
        t.size: reverse("gallery:image_thumbnail", args=[image.uuid, t.size]) for t in thumbnails
    }
    return format_html(
        '<img src="{}" srcset="{}" sizes="auto, (max-width: 640px) 100vw, 480px" width="{}" '
        'height="{}" loading="lazy" decoding="async"{} alt="{}">',
        urls[largest.size],
        ", ".join(f"{urls[t.size]} {t.width}w" for t in thumbnails),
        largest.width,
        largest.height,
        format_html(' data-blurhash="{}"', image.placeholder) if image.placeholder else "",
        Truncator(image.generation.prompt).chars(120),
    )
