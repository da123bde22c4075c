"""static/js/placeholders.js in headless Chromium: BlurHash placeholders drawn until images load."""

from __future__ import annotations

import io
import re

import blurhash
import pytest

from generations.models import OutputImage
from imaging.images import process_image
from tests.conftest import log_in
from tests.factories import image_bytes, make_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RED = (220, 20, 20)
TINY_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8"
    "BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_the_browser_draws_placeholders_until_images_load(page, user) -> None:
    from playwright.sync_api import expect

    red = io.BytesIO(image_bytes("PNG", (1360, 768), RED))
    hash_ = process_image(red).placeholder
    image = make_image(user)  # its thumbnail bytes are not a decodable image: it never loads
    OutputImage.objects.filter(pk=image.pk).update(placeholder=hash_)
    log_in(page, user)
    page.goto("/gallery/")

    # A tile whose thumbnail has not arrived shows the placeholder, red like the image.
    tile = page.locator(f'img[data-blurhash="{hash_}"]')
    expect(tile).to_have_count(1)
    expect(tile).to_have_attribute("style", re.compile(r"background-image: url\(\"data:image/png"))

    # Our decoder gives the reference implementation's pixels.
    pixels = page.evaluate("h => Array.from(window.darkroomPlaceholders.decode(h, 8, 6))", hash_)
    reference = blurhash.decode(hash_, 8, 6).convert("RGBA").tobytes()
    assert len(pixels) == len(reference)
    assert max(abs(a - b) for a, b in zip(pixels, reference, strict=True)) <= 1

    # Content swapped in by htmx gets placeholders too, cleared once its image loads.
    page.evaluate(
        """h => {
            const target = document.createElement("div");
            target.id = "swapped";
            document.body.append(target);
            htmx.swap("#swapped", `<img data-blurhash="${h}" width="64" height="48" alt="">`,
                      {swapStyle: "innerHTML"});
        }""",
        hash_,
    )
    swapped = page.locator("#swapped img")
    expect(swapped).to_have_attribute("style", re.compile(r"data:image/png"))
    swapped.evaluate("(img, src) => { img.src = src; }", TINY_PNG)
    expect(swapped).not_to_have_attribute("style", re.compile(r"data:image"))
