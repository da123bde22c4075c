"""The Generate form's details in headless Chromium: an 11th reference is refused as it is chosen
or dropped, the ten kept.

Screenshots go to tests/output/screens/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from generations.models import ReferenceImage
from tests.browser.test_reference_pages import DROP_FILES, b64
from tests.browser.test_studio_loop import screen
from tests.conftest import log_in
from tests.generations.reference_images import encoded, gradient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_eleventh_reference_is_refused_as_it_is_chosen_or_dropped(page, user) -> None:
    log_in(page, user)
    page.goto("/")

    def picture(n: int) -> bytes:  # each its own: the same bytes twice make one reference
        return encoded(gradient((600 + n, 480)), "PNG")

    files = [
        {"name": f"ref-{n}.png", "mimeType": "image/png", "buffer": picture(n)}
        for n in range(1, 12)
    ]
    page.locator("#references input[type=file]").set_input_files(files)
    message = page.locator("#reference-tiles .is-error")
    # At once, before the ten are sent.
    expect(message).to_contain_text(
        "Kling takes at most 10 reference images: “ref-11.png” was not added."
    )
    tiles = page.locator("#reference-tiles .reference-tile:not(.is-error)")
    expect(tiles).to_have_count(10)
    expect(page.locator(".drop-busy")).to_be_hidden()
    assert ReferenceImage.objects.count() == 10  # the 11th never left the browser

    page.evaluate(
        DROP_FILES,
        [
            [
                ["late.png", "image/png", b64(picture(20))],
                ["later.png", "image/png", b64(picture(21))],
            ],
            "#reference-drop",
        ],
    )
    expect(message).to_have_count(1)  # the newer message replaces the older
    expect(message).to_contain_text(
        "“late.png” and 1 more were not added. Remove one to make room."
    )
    expect(tiles).to_have_count(10)
    page.wait_for_timeout(300)
    assert ReferenceImage.objects.count() == 10
    message.scroll_into_view_if_needed()
    screen(page, "first-run-eleventh-reference")

    # Room again after a removal.
    tiles.first.get_by_role("button", name="Remove ref-1.png").click()
    page.evaluate(DROP_FILES, [[["late.png", "image/png", b64(picture(20))]], "#reference-drop"])
    expect(tiles).to_have_count(10)
    expect(tiles.last).to_contain_text("late.png")
