"""The studio's loop in headless Chromium, at 1440×900 and on a 390×844 phone: generate and keep
the form, watch the run paint, iterate from it; notice when it finishes.

Screenshots go to tests/output/screens/ (git-ignored) for a reviewer to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

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
