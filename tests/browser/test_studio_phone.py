"""The Generate page on narrow phones and at desktop width, in both themes: one header row at
360 px with every control reachable, the form's side-by-side labels on one line and level, the
run's status dot level with its words. Screenshots go to tests/output/screens/studio-phone/
(git-ignored) for a reviewer to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in
from tests.factories import make_pictured_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[1] / "output" / "screens" / "studio-phone"


def open_at(browser, live_server, user, width: int, height: int, theme: str = "auto"):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    context.add_cookies([{"name": "theme", "value": theme, "url": live_server.url}])
    page = context.new_page()
    log_in(page, user)
    page.goto("/")
    return context, page


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_the_header_is_one_row_at_360_with_every_control_reachable(
    browser, live_server, user
) -> None:
    context, page = open_at(browser, live_server, user, 360, 740)
    header = box(page, "header.topbar")
    assert header["height"] <= 60, header
    brand, menu = box(page, ".brand"), box(page, "[data-nav-toggle]")
    switch = page.locator(".theme-switch button:visible")
    expect(switch).to_have_count(1)  # the current theme's button alone
    theme = switch.bounding_box()
    for control in (brand, menu, theme):
        assert control["y"] >= header["y"] and control["y"] + control["height"] <= (
            header["y"] + header["height"]
        )
    assert theme["width"] >= 44 and menu["height"] >= 44  # tap targets
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The one button moves through the themes, keeping the focus, and says what comes next.
    expect(switch).to_have_accessible_name("Theme: System. Switch to Light")
    switch.click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(page.locator(".theme-switch button:visible")).to_have_accessible_name(
        "Theme: Light. Switch to Dark"
    )
    expect(page.locator(".theme-switch button:visible")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.locator(".theme-switch button:visible").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "auto")

    # The menu still opens to every link.
    page.get_by_role("button", name="Menu", exact=True).click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Gallery")).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    context.close()


@pytest.mark.parametrize("width", [360, 390, 1440])
def test_the_form_labels_and_the_status_dots_line_up(browser, live_server, user, width) -> None:
    for n in range(2):
        make_pictured_image(user, size=(768, 512), seed=n)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        height = 844 if width < 900 else 900
        context, page = open_at(browser, live_server, user, width, height, theme)
        ratio = box(page, "label[for=id_aspect_ratio]")
        count = box(page, "label[for=id_num_images]")
        assert abs(ratio["y"] - count["y"]) <= 1, (ratio, count)  # level
        assert abs(ratio["height"] - count["height"]) <= 1, (ratio, count)  # one line each
        first = box(page, "#id_aspect_ratio")
        second = box(page, "#id_num_images")
        assert abs(first["y"] - second["y"]) <= 1 and abs(first["height"] - second["height"]) <= 1
        overflowing = page.evaluate(
            "[...document.querySelectorAll('.generate-form .row label')]"
            ".filter((l) => l.scrollWidth > l.clientWidth).map((l) => l.textContent)"
        )
        assert overflowing == []

        # The status dot's centre is level with the middle of its line's lower-case letters.
        offsets = page.evaluate(
            """() => [...document.querySelectorAll('.run-phase')].map((line) => {
                const dot = line.querySelector('.status').getBoundingClientRect();
                const text = line.querySelector('.run-phase-text');
                const probe = document.createElement('span');
                probe.textContent = 'x';
                text.prepend(probe);
                const x = probe.getBoundingClientRect();
                const style = getComputedStyle(text);
                probe.remove();
                // x's box spans the font's ascent and descent; its lower-case middle sits
                // about a quarter em above the baseline, near the box's middle plus a little.
                const fontSize = parseFloat(style.fontSize);
                const baseline = x.top + (x.height + fontSize * 0.75) / 2;
                const xMiddle = baseline - fontSize * 0.26;
                return (dot.top + dot.height / 2) - xMiddle;
            })"""
        )
        assert offsets, "no run on the page"
        # The tiles' icons are drawn from the page's sprite (a <use> that found its symbol).
        drawn = page.evaluate(
            "[...document.querySelectorAll('.run-tile .icon use')]"
            ".filter((u) => u.closest('.tool').offsetParent).map((u) => u.getBBox().width)"
        )
        assert drawn and all(width > 0 for width in drawn), drawn
        assert all(abs(offset) <= 2 for offset in offsets), offsets
        page.screenshot(path=str(SHOTS / f"generate-{width}-{theme}.png"))
        page.screenshot(path=str(SHOTS / f"generate-{width}-{theme}-full.png"), full_page=True)
        context.close()


def test_the_tiles_buttons_post_without_javascript(browser, live_server, user) -> None:
    """The tile's buttons hold no token of their own: without JavaScript they submit the page's
    one form, which does."""
    from generations.models import OutputImage
    from references.models import ReferenceImage

    image = make_pictured_image(user, size=(768, 512), seed=3)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = context.new_page()
    log_in(page, user)
    page.goto("/")
    page.get_by_role("button", name="Use as reference").click()
    page.wait_for_load_state()
    assert ReferenceImage.objects.filter(owner=user).count() == 1
    page.goto("/")
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".messages")).to_contain_text("Moved to the trash")
    assert OutputImage.objects.get(pk=image.pk).deleted_at is not None
    context.close()
