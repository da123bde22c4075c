"""The Generate page on narrow phones and at desktop width, in both themes: one header row at
360 px with every control reachable, the form's side-by-side labels on one line and level, the
run's status dot level with its words. Screenshots go to tests/output/screens/studio-phone/
(git-ignored) for a reviewer to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in

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
