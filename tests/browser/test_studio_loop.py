"""The studio's loop in headless Chromium, at 1440×900 and on a 390×844 phone: generate and keep
the form, watch the run paint, iterate from it; notice when it finishes; the image page.

Screenshots go to tests/output/screens/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from generations.models import ErrorKind, Generation, Status
from tests.conftest import log_in
from tests.factories import make_picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(__file__).resolve().parents[1] / "output" / "screens"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
PROMPT = "A lighthouse on a basalt cliff at dusk, long exposure, storm clouds"


def screen(page, name: str, *, full: bool = False) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=full)


@pytest.fixture(params=list(SIZES))
def device(request, browser, live_server) -> Iterator[tuple[str, object]]:
    """(name, page) at each size; the phone is a touch screen, as a phone is."""
    name = request.param
    width, height = SIZES[name]
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": height},
        has_touch=name == "phone",
        is_mobile=name == "phone",
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    yield name, context.new_page()
    context.close()


def ratio(locator) -> float:
    box = locator.bounding_box()
    return box["width"] / box["height"]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_run_keeps_the_form_and_paints_in_its_shape_without_a_reload(
    device, user, sim, start_worker
) -> None:
    from playwright.sync_api import expect

    name, page = device
    start_worker()
    sim.configure(latency=3.0)
    log_in(page, user)
    expect(page.get_by_role("heading", name="Generate with Kling Image O3")).to_be_visible()
    screen(page, f"generate-idle-{name}")

    page.get_by_label("Prompt").fill(PROMPT)
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_label("Number of images").fill("3")
    page.get_by_label("2k").check()
    page.evaluate("window.__noReload = true")
    if name == "desktop":
        page.get_by_label("Prompt").press("Control+Enter")  # Ctrl/⌘+Enter generates
    else:
        page.get_by_role("button", name="Generate", exact=True).click()

    # The run is at the top of the results at once, in view even on a phone, as three
    # placeholders in its real shape, with its phase in words and a timer.
    run = page.locator(".run").first
    expect(run).to_have_attribute("data-run-state", "active")
    expect(run.locator(".run-prompt")).to_have_text(PROMPT)
    placeholders = run.locator(".placeholder")
    expect(placeholders).to_have_count(3)
    assert abs(ratio(placeholders.first) - 16 / 9) < 0.03
    expect(run.locator(".run-phase")).to_contain_text(
        re.compile(r"(Sending to WaveSpeed|Queued at WaveSpeed|Painting 3 images) · \d:\d\d")
    )
    # On a phone the results are far below the button: the run is brought up the screen.
    page.wait_for_function(
        "() => { const box = document.querySelector('.run').getBoundingClientRect();"
        " return box.top >= 0 && box.bottom <= innerHeight; }"
    )
    expect(run).to_be_in_viewport(ratio=0.9)
    expect(page).to_have_title("(1) Generate · Darkroom")
    screen(page, f"generate-running-{name}")

    # The form kept everything.
    expect(page.get_by_label("Prompt")).to_have_value(PROMPT)
    expect(page.get_by_label("Aspect ratio")).to_have_value("16:9")
    expect(page.get_by_label("Number of images")).to_have_value("3")
    expect(page.get_by_label("2k")).to_be_checked()

    # The images replace the placeholders, whole (16:9, not a square crop), without a reload.
    expect(run).to_have_attribute("data-run-state", "done", timeout=45_000)
    images = run.locator(".run-image img")
    expect(images).to_have_count(3)
    for i in range(3):
        image = images.nth(i).element_handle()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
        assert abs(ratio(images.nth(i)) - 16 / 9) < 0.03
    expect(run.locator(".placeholder")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True
    expect(page).to_have_title("✓ Ready — Generate · Darkroom")
    expect(run.get_by_role("link", name="Reuse settings")).to_be_visible()
    expect(run.get_by_role("button", name="Run again")).to_be_visible()
    assert no_sideways_scroll(page)
    run.scroll_into_view_if_needed()
    screen(page, f"generate-finished-{name}")


def test_a_run_finishing_is_noticed_on_another_page(page, user, sim, start_worker) -> None:
    from playwright.sync_api import expect

    start_worker()
    sim.configure(latency=4.0)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, user)
    page.get_by_label("Prompt").fill(PROMPT)
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator(".run").first).to_have_attribute("data-run-state", "active")
    generation = Generation.objects.get()

    # In the gallery, the tab counts the run; a toast links to its images when it is done.
    page.get_by_role("link", name="Gallery").click()
    expect(page).to_have_title("(1) Gallery · Darkroom")
    toast = page.locator(".toast")
    expect(toast).to_contain_text("1 image ready", timeout=45_000)
    expect(toast).to_contain_text(PROMPT[:40])
    expect(page).to_have_title("✓ Ready — Gallery · Darkroom")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.toast img')].every(i => i.complete)"
    )
    page.wait_for_timeout(300)  # the toast has slid in
    screen(page, "toast-desktop")
    toast.get_by_role("link", name="View images").click()
    expect(page).to_have_url(re.compile(f"/generations/{generation.uuid}/$"))
    expect(page.locator(".run-image img")).to_have_count(1)


def test_reuse_settings_use_as_reference_and_delete_with_undo_work_in_place(device, user) -> None:
    from playwright.sync_api import expect

    _name, page = device
    image = make_picture(
        user,
        size=(1248, 832),
        prompt="A paper boat on a rain-soaked street",
        aspect_ratio="3:2",
        num_images=1,
        resolution="4k",
    )
    log_in(page, user)
    page.evaluate("window.__noReload = true")
    page.get_by_label("Prompt").fill("something else entirely")
    page.get_by_label("Aspect ratio").select_option("1:1")
    run = page.locator(f"#run-{image.generation.uuid}")

    run.get_by_role("link", name="Reuse settings").click()
    expect(page.get_by_label("Prompt")).to_have_value("A paper boat on a rain-soaked street")
    expect(page.get_by_label("Aspect ratio")).to_have_value("3:2")
    expect(page.get_by_label("Number of images")).to_have_value("1")
    expect(page.get_by_label("4k")).to_be_checked()
    expect(page.locator("#quote")).to_contain_text("1 × 4k × $0.056")
    expect(page.get_by_label("Prompt")).to_be_in_viewport()

    tile = run.locator(".run-tile").first
    tile.get_by_role("button", name="Use as reference").click()
    reference = page.locator("#reference-tiles .reference-tile")
    expect(reference).to_have_count(1)
    expect(reference).to_contain_text("<<<image_1>>>")

    tile.get_by_role("button", name="Delete").click()
    deleted = run.locator(".run-tile.is-deleted")
    expect(deleted).to_contain_text("In the trash")
    image.refresh_from_db()
    assert image.deleted_at is not None
    deleted.get_by_role("button", name="Undo").click()
    expect(run.locator(".run-tile.is-deleted")).to_have_count(0)
    image.refresh_from_db()
    assert image.deleted_at is None
    assert page.evaluate("window.__noReload") is True


def failed_run(user) -> Generation:
    image = make_picture(
        user, size=(832, 1248), prompt="A knight made of glass", aspect_ratio="2:3", num_images=2
    )
    generation = image.generation
    image.delete()
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.FAILED,
        error_kind=ErrorKind.PREDICTION,
        error_message="WaveSpeed could not make the images (code 1001): content flagged",
        resolution="2k",
        cost=0,
    )
    return Generation.objects.get(pk=generation.pk)


def test_retry_on_a_failed_run_makes_a_new_run_with_the_same_parameters(device, user) -> None:
    from playwright.sync_api import expect

    name, page = device
    source = failed_run(user)
    log_in(page, user)
    run = page.locator(f"#run-{source.uuid}")
    expect(run).to_contain_text("The model could not make these images.")
    expect(run).to_contain_text("Nothing was charged.")
    run.scroll_into_view_if_needed()
    screen(page, f"generate-failed-{name}")

    run.get_by_role("button", name="Retry").click()
    new = page.locator(".run").first
    expect(new).not_to_have_id(f"run-{source.uuid}")
    expect(new).to_have_attribute("data-run-state", "active")
    expect(new.locator(".placeholder.r-2-3")).to_have_count(2)
    retried = Generation.objects.exclude(pk=source.pk).get()
    assert (retried.prompt, retried.aspect_ratio, retried.num_images, retried.resolution) == (
        "A knight made of glass",
        "2:3",
        2,
        "2k",
    )
    assert retried.request_payload == source.request_payload | {
        "prompt": "A knight made of glass",
        "aspect_ratio": "2:3",
        "resolution": "2k",
        "result_type": "single",
        "num_images": 2,
    }
    expect(page).to_have_title("(1) Generate · Darkroom")


def test_the_image_page_fits_the_image_and_carries_the_actions(device, user) -> None:
    from playwright.sync_api import expect

    name, page = device
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    now = timezone.now()
    older = make_picture(user, size=(1360, 768), prompt="older", created_at=now)
    middle = make_picture(
        user,
        size=(832, 1248),
        prompt="A portrait of an old fisherman, rim light",
        aspect_ratio="2:3",
        created_at=now + timedelta(seconds=1),
    )
    newer = make_picture(user, size=(1024, 1024), prompt="newer", created_at=now + timedelta(2))
    log_in(page, user)
    page.goto(f"/images/{middle.uuid}/")
    picture = page.locator("img.viewer-image")
    page.wait_for_function("() => document.querySelector('img.viewer-image').complete")
    expect(page.locator(".viewer-count")).to_have_text("2 / 3")
    # Whole on the first screen: a 2:3 image fits 1440×900 without scrolling.
    box = picture.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= SIZES[name][1]
    assert abs(box["width"] / box["height"] - 2 / 3) < 0.02
    assert no_sideways_scroll(page)
    screen(page, f"image-{name}")

    page.get_by_role("button", name="Copy prompt").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == middle.generation.prompt
    for label in ("Download original", "Reuse settings", "Share"):
        expect(page.get_by_role("link", name=label)).to_be_visible()
    for label in ("Use as reference", "Delete"):
        expect(page.get_by_role("button", name=label)).to_be_visible()

    if name == "desktop":
        page.keyboard.press("f")
        expect(page.locator(".viewer-star button.star")).to_have_attribute("aria-pressed", "true")
        page.keyboard.press("ArrowRight")  # next: the older one
        expect(page).to_have_url(re.compile(f"/images/{older.uuid}/$"))
        expect(page.locator(".viewer-count")).to_have_text("3 / 3")
        page.keyboard.press("ArrowLeft")
        expect(page).to_have_url(re.compile(f"/images/{middle.uuid}/$"))
    else:
        swipe(page, "img.viewer-image", dx=-200)  # a swipe to the left: the next one
        expect(page).to_have_url(re.compile(f"/images/{older.uuid}/$"))
        swipe(page, "img.viewer-image", dx=200)
        expect(page).to_have_url(re.compile(f"/images/{middle.uuid}/$"))
    page.goto(f"/images/{newer.uuid}/")
    expect(page.locator(".viewer-count")).to_have_text("1 / 3")


def swipe(page, selector: str, *, dx: int) -> None:
    page.evaluate(
        """([selector, dx]) => {
            const target = document.querySelector(selector);
            const box = target.getBoundingClientRect();
            const x = box.left + box.width / 2, y = box.top + box.height / 2;
            const touch = (clientX) => new Touch({identifier: 1, target, clientX, clientY: y});
            target.dispatchEvent(new TouchEvent("touchstart", {
                bubbles: true, touches: [touch(x)], changedTouches: [touch(x)]}));
            target.dispatchEvent(new TouchEvent("touchend", {
                bubbles: true, touches: [], changedTouches: [touch(x + dx)]}));
        }""",
        [selector, dx],
    )


def test_a_flagged_image_is_blurred_until_asked_for(device, user) -> None:
    from playwright.sync_api import expect

    _name, page = device
    image = make_picture(user, nsfw=True, prompt="flagged")
    log_in(page, user)
    page.goto(f"/images/{image.uuid}/")
    stage = page.locator("[data-viewer-stage]")
    expect(stage).to_have_class(re.compile("is-nsfw"))
    assert "blur" in page.locator("img.viewer-image").evaluate("i => getComputedStyle(i).filter")
    page.get_by_role("link", name=re.compile("Flagged NSFW by WaveSpeed")).click()
    expect(stage).not_to_have_class(re.compile("is-nsfw"))
    assert page.locator("img.viewer-image").evaluate("i => getComputedStyle(i).filter") == "none"


@pytest.mark.parametrize("width", [360, 390])
def test_the_studio_pages_never_scroll_sideways(page, user, width: int) -> None:
    long_word = "https://example.com/" + "a-very-long-reference-without-spaces" * 4
    wide = make_picture(user, size=(1552, 656), prompt=f"Ultra-wide desert {long_word}")
    make_picture(user, size=(768, 1360), prompt="Tall", aspect_ratio="9:16", num_images=4)
    failed = failed_run(user)
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, user)
    for path in (
        "/",
        f"/generations/{failed.uuid}/",
        f"/generations/{wide.generation.uuid}/",
        f"/images/{wide.uuid}/",
    ):
        page.goto(path)
        assert no_sideways_scroll(page), (
            path,
            page.evaluate("document.documentElement.scrollWidth"),
        )


def test_the_lightbox_steps_through_the_runs_with_their_actions(device, user) -> None:
    from playwright.sync_api import expect

    name, page = device
    first = make_picture(user, size=(1552, 656), prompt="Ultra-wide desert highway")
    second = make_picture(user, size=(832, 1248), prompt="A portrait", nsfw=True)
    log_in(page, user)
    # The newest run is first: the portrait, then the desert.
    page.locator(f"#run-{first.generation.uuid} .run-image").click()
    lightbox = page.get_by_role("dialog", name="Image viewer")
    expect(lightbox).to_be_visible()
    expect(lightbox.locator(".lb-count")).to_have_text("2 / 2")
    expect(lightbox.locator(".lb-prompt")).to_have_text("Ultra-wide desert highway")
    full = lightbox.locator(".lb-full")
    expect(full).to_be_visible()
    box = full.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= SIZES[name][1]
    assert abs(box["width"] / box["height"] - 1552 / 656) < 0.03  # whole, not cropped
    for label in ("Download", "Share", "Open page"):
        expect(lightbox.get_by_role("link", name=label)).to_be_visible()
    for label in ("Copy prompt", "Reuse settings", "Use as reference", "Delete"):
        expect(lightbox.get_by_role("button", name=label)).to_be_visible()
    screen(page, f"lightbox-{name}")

    lightbox.get_by_role("button", name="☆ Star").click()
    expect(lightbox.get_by_role("button", name="★ Starred")).to_be_visible()
    expect(page.locator(f"#run-{first.generation.uuid} button.star")).to_have_attribute(
        "aria-pressed", "true"
    )

    # Back to the portrait: flagged, so blurred until asked for.
    if name == "desktop":
        page.keyboard.press("ArrowLeft")
    else:
        swipe(page, ".lb-stage", dx=200)
    expect(lightbox.locator(".lb-count")).to_have_text("1 / 2")
    expect(lightbox.locator(".lb-stage")).to_have_class(re.compile("is-nsfw"))
    lightbox.get_by_role("button", name=re.compile("Flagged NSFW by WaveSpeed")).click()
    expect(lightbox.locator(".lb-stage")).not_to_have_class(re.compile("is-nsfw"))

    lightbox.get_by_role("button", name="Delete", exact=True).click()
    expect(lightbox.get_by_role("button", name="Undo delete")).to_be_visible()
    second.refresh_from_db()
    assert second.deleted_at is not None
    lightbox.get_by_role("button", name="Undo delete").click()
    expect(lightbox.get_by_role("button", name="Delete", exact=True)).to_be_visible()
    second.refresh_from_db()
    assert second.deleted_at is None
    lightbox.get_by_role("button", name="Close").click()
    expect(lightbox).to_be_hidden()
