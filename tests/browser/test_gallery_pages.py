"""The gallery as a person uses it: endless scroll, filters, stars, the lightbox, a ZIP."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from generations.models import Favourite, OutputImage
from tests.conftest import log_in
from tests.factories import make_image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNT = 60
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.get_fixed_timezone(0))


def make_images(owner) -> list[OutputImage]:
    """60 images a minute apart, every fifth of a lighthouse; newest first."""
    made = []
    for i in range(COUNT):
        prompt = f"lighthouse number {i}" if i % 5 == 0 else f"a red kite, take {i}"
        made.append(make_image(owner, prompt=prompt, created_at=T0 + timedelta(minutes=i)))
    return made[::-1]


def test_scroll_filter_star_lightbox_and_zip(page, django_user_model) -> None:
    from playwright.sync_api import expect

    ada = django_user_model.objects.create_user("ada", password="pw-ada-123456")
    newest_first = make_images(ada)
    log_in(page, ada)

    # 1. The first page has 48 tiles; scrolling to the end brings the other 12, once each.
    page.goto("/gallery/")
    tiles = page.locator("[data-gallery] [data-tile]")
    expect(tiles).to_have_count(48)
    page.locator(".gallery-more").scroll_into_view_if_needed()
    expect(tiles).to_have_count(COUNT)
    expect(page.locator(".gallery-more")).to_have_count(0)
    shown = tiles.evaluate_all("ts => ts.map(t => t.dataset.uuid)")
    assert shown == [str(image.uuid) for image in newest_first]

    # 2. The lightbox: the newest image, → and ← across tiles, `f` stars, Escape closes.
    page.evaluate("window.scrollTo(0, 0)")
    tiles.nth(0).locator("a.thumb").click()
    lightbox = page.locator("[data-lightbox]")
    expect(lightbox).to_be_visible()
    prompt = lightbox.locator("[data-lightbox-prompt]")
    expect(prompt).to_have_text(newest_first[0].generation.prompt)
    full = lightbox.locator("[data-lightbox-full]")
    expect(full).to_be_visible()  # the original loaded over the thumbnail
    assert full.evaluate("img => img.naturalWidth") == newest_first[0].width
    page.keyboard.press("ArrowRight")
    expect(prompt).to_have_text(newest_first[1].generation.prompt)
    page.keyboard.press("ArrowRight")
    expect(prompt).to_have_text(newest_first[2].generation.prompt)
    page.keyboard.press("ArrowLeft")
    expect(prompt).to_have_text(newest_first[1].generation.prompt)
    page.keyboard.press("f")
    expect(lightbox.locator("[data-lightbox-star]")).to_have_attribute("aria-pressed", "true")
    expect(tiles.nth(1).locator("button.star")).to_have_attribute("aria-pressed", "true")
    assert Favourite.objects.filter(user=ada, image=newest_first[1]).exists()
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    expect(tiles.nth(1).locator("a.thumb")).to_be_focused()

    # 3. A star on a tile, then the favourites view shows both.
    tiles.nth(3).get_by_role("button", name="Favourite").click()
    expect(tiles.nth(3).locator("button.star")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("navigation", name="Galleries").get_by_role("link", name="Favourites").click()
    expect(tiles).to_have_count(2)
    assert tiles.evaluate_all("ts => ts.map(t => t.dataset.uuid)") == [
        str(newest_first[1].uuid),
        str(newest_first[3].uuid),
    ]

    # 4. A filter: search the prompts (applied as one types); the URL carries it.
    page.goto("/gallery/")
    page.get_by_label("Search prompts").fill("lighthouse")
    expect(tiles).to_have_count(COUNT // 5)
    assert page.url.endswith("/gallery/?q=lighthouse")  # empty filters stay out of it
    for text in tiles.locator("img").evaluate_all("imgs => imgs.map(i => i.alt)"):
        assert text.startswith("lighthouse")

    # 5. Select a range with shift-click, drop one, download the two as a ZIP.
    page.goto("/gallery/")
    count = page.locator("[data-selected-count]")
    download_button = page.get_by_role("button", name="Download ZIP")
    bulk_bar = page.get_by_role("form", name="Selected images")
    expect(bulk_bar).to_be_hidden()  # until something is selected
    tiles.nth(0).locator("input.pick").click()
    expect(bulk_bar).to_be_visible()
    tiles.nth(2).locator("input.pick").click(modifiers=["Shift"])
    expect(count).to_have_text("3")
    tiles.nth(1).locator("input.pick").click()
    expect(count).to_have_text("2")
    with page.expect_download() as info:
        download_button.click()
    with open(info.value.path(), "rb") as fp:
        archive = zipfile.ZipFile(io.BytesIO(fp.read()))
    names = archive.namelist()
    chosen = [newest_first[0], newest_first[2]]
    assert sorted(n for n in names if n.endswith(".png")) == sorted(
        image.download_name for image in chosen
    )
    metadata = json.loads(archive.read("metadata.json"))
    assert {row["prompt"] for row in metadata["images"]} == {
        image.generation.prompt for image in chosen
    }

    # 6. Select all on the page: one way to clear it is left ("Clear"), and Esc clears too.
    select_all = bulk_bar.get_by_role("button", name="Select all on page")
    page.get_by_role("button", name="Select all on page").click()
    expect(count).to_have_text("48")
    expect(select_all).to_be_hidden()
    expect(bulk_bar.get_by_role("button", name=re.compile("Clear"))).to_have_count(1)
    bulk_bar.get_by_role("button", name="Clear").click()
    expect(count).to_have_text("0")
    expect(bulk_bar).to_be_hidden()
    tiles.nth(3).locator("input.pick").click()
    expect(bulk_bar).to_be_visible()
    expect(select_all).to_be_visible()
    page.keyboard.press("Escape")
    expect(count).to_have_text("0")
    expect(bulk_bar).to_be_hidden()
    assert not tiles.nth(3).locator("input.pick").is_checked()


def test_an_nsfw_image_stays_blurred_until_clicked(page, user) -> None:
    from playwright.sync_api import expect

    make_image(user, prompt="a flagged one", nsfw=True)
    log_in(page, user)
    page.goto("/gallery/")
    link = page.locator("[data-gallery] [data-tile] a.thumb")
    picture = link.locator("img")
    expect(link).to_have_class("thumb nsfw")
    assert picture.evaluate("img => getComputedStyle(img).filter").startswith("blur(")

    # The first click only shows it (no lightbox, no new page); the next one opens it.
    link.click()
    expect(link).to_have_class("thumb nsfw revealed")
    expect(picture).to_have_css("filter", "none")
    expect(page.locator("[data-lightbox]")).to_be_hidden()
    assert page.url.endswith("/gallery/")
    link.click()
    expect(page.locator("[data-lightbox]")).to_be_visible()


def test_the_filters_panel_fetches_the_authors_when_it_opens(page, user, django_user_model) -> None:
    from playwright.sync_api import expect

    from projects.models import Role
    from tests.factories import add_member, make_project

    grace = django_user_model.objects.create_user("grace", password="pw-grace-123456")
    add_member(make_project(user, "Harbour"), grace, Role.EDITOR)
    make_image(grace, prompt="grace's kite")
    make_image(user, prompt="a lamp")  # an empty gallery shows no filters
    log_in(page, user)
    page.goto("/gallery/")
    author = page.get_by_label("Author")
    assert author.locator("option").all_text_contents() == ["Anyone"]
    page.locator(".filters-menu > summary").click()
    expect(author.locator("option")).to_have_count(3)
    assert author.locator("option").evaluate_all("os => os.map(o => o.value)") == [
        "",
        user.username,
        "grace",
    ]
    author.select_option("grace")
    expect(page.locator(".filter-chips")).to_contain_text("By grace")
    assert page.url.endswith("/gallery/?author=grace")


def test_the_gallery_lightbox_steps_on_into_the_next_page_with_its_actions(page, user) -> None:
    """The gallery opens the studio's lightbox (static/js/lightbox.js): → past the last loaded
    tile loads the next page and goes on; it offers download, copy, share and the page."""
    from playwright.sync_api import expect

    from tests.browser.test_studio_loop import screen

    newest_first = make_images(user)
    log_in(page, user)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/gallery/")
    tiles = page.locator("[data-gallery] [data-tile]")
    expect(tiles).to_have_count(48)
    tiles.nth(46).locator("a.thumb").click()
    lightbox = page.get_by_role("dialog", name="Image viewer")
    count = lightbox.locator(".lb-count")
    expect(count).to_have_text(re.compile(r"^47 / (48\+|60)$"))  # the next page may be in
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(lightbox.locator("[data-lightbox-prompt]")).to_have_text(
        newest_first[48].generation.prompt
    )
    expect(count).to_have_text("49 / 60")
    expect(tiles).to_have_count(60)
    original = f"/images/{newest_first[48].uuid}/original/"
    expect(lightbox.get_by_role("link", name="Download")).to_have_attribute(
        "href", f"{original}?download=1"
    )
    expect(lightbox.locator("[data-lightbox-full]")).to_have_attribute("src", re.compile(original))
    expect(lightbox.get_by_role("link", name="Open page")).to_have_attribute(
        "href", f"/images/{newest_first[48].uuid}/"
    )
    expect(lightbox.get_by_role("link", name="Share")).to_be_visible()
    expect(lightbox.get_by_role("button", name="Copy prompt")).to_be_visible()
    for missing in ("Reuse settings", "Use as reference", "Delete"):  # the tiles have none
        expect(lightbox.get_by_role("button", name=missing)).to_be_hidden()
    screen(page, "gallery-lightbox-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screen(page, "gallery-lightbox-phone")
    # One lightbox on the page, the studio's: the gallery's own markup is gone.
    assert page.locator("dialog").count() == 1
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()


BADGE = """a => {
    const box = a.getBoundingClientRect();
    const after = getComputedStyle(a, '::after');
    return {content: after.content,
            width: parseFloat(after.width), height: parseFloat(after.height),
            boxWidth: box.width, boxHeight: box.height};
}"""


def badge_fits(thumb) -> dict:
    """A flagged thumbnail's badge is whole inside it (the thumbnail clips what overflows)."""
    badge = thumb.evaluate(BADGE)
    assert "NSFW" in badge["content"], badge
    assert badge["width"] <= badge["boxWidth"] and badge["height"] <= badge["boxHeight"], badge
    return badge


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 800), (1440, 900)])
def test_the_nsfw_badge_fits_small_and_large_tiles(browser, live_server, user, width, height):
    from tests.browser.test_gallery_layout import SIZES, make_pictured_image, screen, shot

    for i, ratio in enumerate(["9:16", "1:1", "16:9", "2:3", "21:9", "3:4"]):
        make_pictured_image(user, size=SIZES[ratio], seed=i, nsfw=True, aspect_ratio=ratio)
    with screen(browser, live_server, width, height) as page:
        log_in(page, user)
        page.goto("/gallery/")
        thumbs = page.locator("[data-gallery] a.thumb.nsfw")
        assert thumbs.count() == 6
        badges = [badge_fits(thumbs.nth(i)) for i in range(6)]
        shot(page, f"nsfw-badges-{width}x{height}")
    # Tiles wide enough say what a click does; the others say "NSFW" beside an eye.
    wide = [b["content"] for b in badges if b["boxWidth"] >= 200]
    assert all("click to show" in label for label in wide), badges
    if width > 1000:
        assert len(wide) >= 2, badges


def test_an_empty_gallery_shows_no_view_chips_until_there_are_images(page, user) -> None:
    """A new member with no image anywhere sees the first step, not chips for empty views; an
    empty view among full ones keeps them: they lead to the project's images."""
    from playwright.sync_api import expect

    from tests.factories import make_project

    log_in(page, user)
    page.goto("/gallery/")
    expect(page.get_by_text("Your gallery is empty")).to_be_visible()
    expect(page.get_by_role("navigation", name="Galleries")).to_have_count(0)

    harbour = make_project(user, "Harbour")
    make_image(user, project=harbour, prompt="a harbour at dawn")
    page.goto("/gallery/?starred=1")
    expect(page.get_by_text("No favourites yet")).to_be_visible()
    galleries = page.get_by_role("navigation", name="Galleries")
    expect(galleries).to_be_visible()
    galleries.get_by_role("link", name="Harbour").click()
    expect(page.locator("[data-gallery] [data-tile]")).to_have_count(1)
