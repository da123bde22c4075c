"""Issue 5 in headless Chromium: references dropped in and picked from the gallery, an element,
the prompt enhancer, and a generation whose page shows all of it."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from generations.models import Generation, GenerationReference, OutputImage, Status
from references.models import ReferenceImage
from tests.conftest import log_in
from tests.factories import make_element, make_image
from tests.generations.reference_images import encoded, gradient, photo_with_gps_and_orientation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

# Builds a DataTransfer in the page, as a person's drag from the desktop would bring, and drops
# it on the drop zone.
DROP_FILES = """([files, selector]) => {
  const data = new DataTransfer();
  for (const [name, type, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    data.items.add(new File([bytes], name, { type }));
  }
  const zone = document.querySelector(selector);
  const init = { dataTransfer: data, bubbles: true, cancelable: true };
  zone.dispatchEvent(new DragEvent("dragover", init));
  zone.dispatchEvent(new DragEvent("drop", init));
}"""


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def gallery_image(owner) -> OutputImage:
    image = make_image(owner, prompt="a lighthouse at dusk")
    data = encoded(gradient((800, 600)), "PNG")
    name = default_storage.save("originals/test/lighthouse.png", ContentFile(data))
    OutputImage.objects.filter(pk=image.pk).update(file=name, width=800, height=600)
    return image


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_references_an_element_and_the_enhancer_make_one_generation(
    page, user, sim, start_worker
) -> None:
    from playwright.sync_api import expect

    element = make_element(user, name="Captain Mira", kling_element_id="880000000000000001")
    image = gallery_image(user)
    start_worker()

    log_in(page, user)

    # 1. From the gallery: "Use as reference" on an image's page.
    page.goto(f"/images/{image.uuid}/")
    page.get_by_role("button", name="Use as reference").click()
    expect(page.get_by_role("heading", name="Generate with Kling Image O3")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Added as a reference")
    tiles = page.locator("#reference-tiles .reference-tile:not(.is-error)")
    expect(tiles).to_have_count(1)

    # 2. Two files dragged in at once, and one that is not an image: an error tile naming it.
    page.evaluate(
        DROP_FILES,
        [
            [
                ["IMG_0001.jpg", "image/jpeg", b64(photo_with_gps_and_orientation())],
                ["sketch.png", "image/png", b64(encoded(gradient((500, 700)), "PNG"))],
                ["notes.png", "image/png", b64(b"not an image at all" * 40)],
            ],
            "#reference-drop",
        ],
    )
    expect(tiles).to_have_count(3)
    expect(page.locator("#reference-tiles .is-error")).to_contain_text("“notes.png” is not a")
    expect(tiles.nth(1)).to_contain_text("IMG_0001.jpg")
    expect(tiles.nth(2).locator(".reference-label")).to_have_text("<<<image_3>>>")
    for i in range(3):
        img = tiles.nth(i).locator("img").element_handle()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img)
    page.locator("#reference-tiles .is-error .reference-remove").click()
    expect(page.locator("#reference-tiles .is-error")).to_have_count(0)

    # 3. The element, and the tag of the second reference put into the prompt.
    page.locator(f"input[name=elements][value='{element.uuid}']").check()
    prompt = page.locator("#id_prompt")
    prompt.fill("Captain Mira stands on the pier beside")
    tiles.nth(1).get_by_role("button", name="Insert in prompt").click()
    expect(prompt).to_have_value("Captain Mira stands on the pier beside <<<image_2>>> ")
    shot(page, "issue5-1-form")

    # 4. The enhancer: its suggestion accepted; the original is kept.
    original_prompt = prompt.input_value()
    page.locator("#enhance-button").click()
    page.locator("#enhance-accept").click(timeout=30_000)
    expect(prompt).not_to_have_value(original_prompt)
    enhanced_prompt = prompt.input_value()

    # 5. Generate, and follow it to the end with the real worker.
    page.get_by_role("button", name="Generate", exact=True).click()
    # The new run joins the top of the results, above the gallery image's own run.
    item = page.locator(".run", has_text=enhanced_prompt.strip()[:40])
    expect(item.locator(".status")).to_have_attribute("data-status", "done", timeout=45_000)
    generation = Generation.objects.get(
        owner=user, status=Status.DONE, prompt=enhanced_prompt.strip()
    )
    assert generation.prompt_original.strip() == original_prompt.strip()

    links = list(GenerationReference.objects.filter(generation=generation))
    names = [link.reference.original_name for link in links]
    assert names == [image.download_name, "IMG_0001.jpg", "sketch.png"]
    [submit] = sim.submits()
    assert len(submit["json"]["images"]) == 3
    assert submit["json"]["element_list"] == [{"element_id": "880000000000000001"}]
    assert ReferenceImage.objects.filter(owner=user).count() == 3

    # 6. The generation's page shows the three references in order, the element, both prompts.
    page.goto(f"/generations/{generation.uuid}/")
    body = page.locator("main")
    shown = body.locator(".reference-list .reference-tile")
    expect(shown).to_have_count(3)
    for i, link in enumerate(links):
        expect(shown.nth(i).locator(".reference-label")).to_have_text(f"<<<image_{i + 1}>>>")
        expect(shown.nth(i).locator("img")).to_have_attribute(
            "src", re.compile(str(link.reference.uuid))
        )
    expect(body).to_contain_text("Captain Mira")
    expect(body).to_contain_text(original_prompt.strip())
    expect(body).to_contain_text(enhanced_prompt.strip()[:60])
    shot(page, "issue5-2-detail")


def test_a_removed_pick_stays_removed_after_a_reload(page, user) -> None:
    from playwright.sync_api import expect

    image = gallery_image(user)
    log_in(page, user)
    page.goto(f"/images/{image.uuid}/")
    page.get_by_role("button", name="Use as reference").click()
    tiles = page.locator("#reference-tiles .reference-tile")
    expect(tiles).to_have_count(1)
    # The tile is a small preview, not the reference itself.
    expect(tiles.locator("img")).to_have_attribute("src", re.compile(r"\?size=preview$"))

    with page.expect_response(re.compile(r"/unpick/$")) as unpicked:
        tiles.get_by_role("button", name=re.compile("^Remove")).click()
    assert unpicked.value.status == 204
    expect(tiles).to_have_count(0)

    page.reload()
    expect(page.locator("#reference-tiles .reference-tile")).to_have_count(0)
    assert ReferenceImage.objects.filter(owner=user).count() == 1  # still in the library
