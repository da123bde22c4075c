"""References in the Generate form reorder with the keyboard alone: each tile's Move earlier and
Move later buttons, and Alt+Arrow keys on a focused tile, announced in a live region; the order
the form sends follows."""

from __future__ import annotations

import pytest

from tests.browser.test_reference_pages import DROP_FILES, b64
from tests.conftest import log_in
from tests.generations.reference_images import encoded, gradient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_references_reorder_with_the_keyboard_and_say_where_they_went(page, user) -> None:
    from playwright.sync_api import expect

    log_in(page, user)
    page.goto("/")
    files = [
        [name, "image/png", b64(encoded(gradient(size), "PNG"))]
        for name, size in (
            ("one.png", (400, 300)),
            ("two.png", (300, 400)),
            ("three.png", (360, 360)),
        )
    ]
    page.evaluate(DROP_FILES, [files, "#reference-drop"])
    tiles = page.locator("#reference-tiles .reference-tile:not(.is-error)")
    expect(tiles).to_have_count(3)
    sent = page.locator("#reference-tiles input[name=references]")
    one, two, three = (sent.nth(i).get_attribute("value") for i in range(3))

    def order() -> list[str]:
        return [sent.nth(i).get_attribute("value") for i in range(sent.count())]

    def names() -> list[str]:
        return [tiles.nth(i).locator(".reference-name").inner_text() for i in range(3)]

    # The ends cannot move further.
    expect(tiles.nth(0).get_by_role("button", name="Move one.png earlier")).to_be_disabled()
    expect(tiles.nth(2).get_by_role("button", name="Move three.png later")).to_be_disabled()

    # Tab to "Move three.png earlier" and press Enter: three goes second, and it is said.
    earlier = page.get_by_role("button", name="Move three.png earlier")
    earlier.focus()
    page.keyboard.press("Enter")
    assert names() == ["one.png", "three.png", "two.png"]
    assert order() == [one, three, two]
    status = page.locator("#reference-moved")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("Moved three.png to position 2 of 3.")
    # The focus stays on the button, so pressing again moves it again.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Move three.png earlier"
    )
    expect(tiles.nth(1).locator(".reference-label")).to_have_text("<<<image_2>>>")
    page.keyboard.press("Enter")
    assert names() == ["three.png", "one.png", "two.png"]
    expect(status).to_have_text("Moved three.png to position 1 of 3.")
    # At the front its earlier button is disabled: the focus moves to its later button.
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "Move three.png later"
    )

    # Alt+Arrow keys from anywhere in a tile.
    tiles.nth(1).get_by_role("button", name="Insert in prompt").focus()
    page.keyboard.press("Alt+ArrowRight")
    assert names() == ["three.png", "two.png", "one.png"]
    assert order() == [three, two, one]
    expect(status).to_have_text("Moved one.png to position 3 of 3.")
    page.keyboard.press("Alt+ArrowLeft")
    page.keyboard.press("Alt+ArrowUp")
    assert names() == ["one.png", "three.png", "two.png"]
    expect(tiles.nth(0).locator(".reference-label")).to_have_text("<<<image_1>>>")
