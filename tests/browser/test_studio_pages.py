"""Steps 1-5 of the studio as a person does them, in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from generations.models import Generation, OutputImage
from tests.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_person_generates_finds_downloads_and_generates_again(
    page, user, sim, start_worker, tmp_path
) -> None:
    from playwright.sync_api import expect

    start_worker()
    sim.configure(latency=1.5)

    # 1. Log in; the Generate page opens.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("pw-ada-123456")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Generate with Kling Image O3")).to_be_visible()

    # 2. Every parameter has a labelled field; the price follows the options live.
    for label in ("Prompt", "Aspect ratio", "Result type", "Number of images"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.get_by_label("4k")).to_be_visible()
    quote = page.locator("#quote")
    expect(quote).to_contain_text("1 × 1k × $0.0280 = $0.0280")
    page.get_by_label("4k").check()
    expect(quote).to_contain_text("1 × 4k × $0.0560 = $0.0560")
    page.get_by_label("Number of images").fill("3")
    expect(quote).to_contain_text("3 × 4k × $0.0560 = $0.1680")
    page.get_by_label("1k").check()
    page.get_by_label("Number of images").fill("2")
    expect(quote).to_contain_text("2 × 1k × $0.0280 = $0.0560")

    # An empty prompt is refused next to the field, the rest kept.
    page.get_by_label("Aspect ratio").select_option("3:2")
    page.locator("#id_prompt").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#id_prompt_error")).to_contain_text("Write a prompt")
    expect(page.get_by_label("Aspect ratio")).to_have_value("3:2")
    expect(page.get_by_label("Number of images")).to_have_value("2")
    shot(page, "1-form-error")

    # 3. Submit; the generation shows at once and its status moves on without a reload.
    page.get_by_label("Prompt").fill("A paper boat on a rain-soaked street, cinematic light")
    page.get_by_role("button", name="Generate", exact=True).click()
    item = page.locator(".run").first
    expect(item).to_contain_text("A paper boat")
    page.evaluate("window.__noReload = true")
    status = item.locator(".status")
    expect(status).to_have_attribute("data-status", re.compile("queued|submitted|processing"))
    shot(page, "2-recent-running")
    expect(status).to_have_attribute("data-status", "done", timeout=45_000)
    assert page.evaluate("window.__noReload") is True  # updated in place, never reloaded
    expect(item.locator(".run-image img")).to_have_count(2)
    shot(page, "3-recent-done")

    # Polling has stopped: no more requests for the run.
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/run/" in r.url else None)
    page.wait_for_timeout(4500)
    assert polls == []

    # 4. The gallery shows the thumbnails, newest first; the image page has everything.
    generation = Generation.objects.get()
    newest_first = list(OutputImage.objects.order_by("-created_at", "-id"))
    page.get_by_role("link", name="Gallery").click()
    tiles = page.locator(".gallery-grid a.thumb")
    expect(tiles).to_have_count(2)
    hrefs = [tiles.nth(i).get_attribute("href") for i in range(2)]
    assert hrefs == [f"/images/{image.uuid}/" for image in newest_first]
    for i in range(2):
        thumb = tiles.nth(i).locator("img").element_handle()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb)
    shot(page, "4-gallery")

    # A click opens the lightbox over the grid; it links to the image's page.
    tiles.first.click()
    page.locator("[data-lightbox]").get_by_role("link", name="Open page").click()
    image = newest_first[0]
    original = page.locator("img.viewer-image")
    expect(original).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.viewer-image').complete")
    assert original.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [
        image.width,
        image.height,
    ]
    body = page.locator("main")
    expect(body).to_contain_text("A paper boat on a rain-soaked street")
    expect(body).to_contain_text(generation.provider_id)
    expect(body).to_contain_text('"aspect_ratio": "3:2"')
    expect(body).to_contain_text("$0.056")
    expect(body).to_contain_text(re.compile(r"Inference time\s*\d+\.\d s"))
    shot(page, "5-image-detail")

    with page.expect_download() as caught:
        page.get_by_role("link", name="Download original").click()
    download = caught.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with default_storage.open(image.file.name) as fp:
        assert saved.read_bytes() == fp.read()
    assert saved.suffix == ".png"

    # 5. Reuse settings: the form comes back filled with the same parameters.
    page.get_by_role("link", name="Reuse settings").click()
    expect(page.get_by_label("Prompt")).to_have_value(
        "A paper boat on a rain-soaked street, cinematic light"
    )
    expect(page.get_by_label("Aspect ratio")).to_have_value("3:2")
    expect(page.get_by_label("Number of images")).to_have_value("2")
    expect(page.get_by_label("1k")).to_be_checked()
    expect(page.locator("#quote")).to_contain_text("2 × 1k × $0.0280 = $0.0560")


def test_a_phone_sized_screen_reads_well(page, user, live_server) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, user)
    expect(page.get_by_label("Prompt")).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "6-phone")
