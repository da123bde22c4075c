"""In headless Chromium: a finished run's image is on screen in the studio and in the gallery
before its thumbnails exist (their worker is not running here), from the original, at its real
shape; and the thumbnails task it queued waits, queued once.

Screenshots go to tests/output/screens/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generations.models import OutputImage, Renditions
from generations.tasks import make_image_renditions
from tests.conftest import log_in
from wavespeed import timing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(__file__).resolve().parents[1] / "output" / "screens"
LOADED = """(selector) => {
  const img = document.querySelector(selector);
  return img !== null && img.complete && img.naturalWidth > 0;
}"""


def test_an_image_is_shown_before_its_thumbnails_exist(page, user, sim, start_worker) -> None:
    from playwright.sync_api import expect

    # Every worker of the Procfile but the thumbnails one: the run is followed and saved, and
    # its thumbnails are never made while this test looks.
    start_worker(options={"queues": "celery,submit,images"})
    sim.configure(latency=1.0)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, user)
    page.get_by_label("Prompt").fill("A lighthouse on a basalt cliff at dusk")
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_role("button", name="Generate", exact=True).click()

    # The run card: the original, loaded, in the run's 16:9 shape.
    tile = page.locator(".run-tile img").first
    expect(tile).to_be_visible(timeout=30_000)
    page.wait_for_function(LOADED, arg=".run-tile img", timeout=15_000)
    image = OutputImage.objects.get()
    assert image.renditions == Renditions.PENDING and not image.thumbnails.exists()
    assert tile.get_attribute("src").endswith(f"/images/{image.uuid}/original/")
    box = tile.bounding_box()
    assert abs(box["width"] / box["height"] - 1360 / 768) < 0.02
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "run-before-thumbnails-desktop.png"))

    # The gallery's tile.
    page.goto("/gallery/")
    page.wait_for_function(LOADED, arg=".tile img", timeout=15_000)
    assert page.locator(".tile img").get_attribute("src").endswith("/original/")
    page.screenshot(path=str(SCREENS / "gallery-before-thumbnails-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/generations/{image.generation.uuid}/")
    page.wait_for_function(LOADED, arg=".run-tile img", timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SCREENS / "run-before-thumbnails-phone.png"))

    # Its thumbnails task waits in the queue, once: the sweeper (every second here, a step late
    # after 3 s) has not queued it again while it waits.
    assert timing.messages_waiting(make_image_renditions.name) == 1
