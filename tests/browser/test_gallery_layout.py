"""The gallery puts images first, at 1440×900 and on phones: rows of tiles in their own aspect
ratio across the whole width, sharp thumbnails, filters that apply as they change, a bulk bar
only while something is selected, and new images arriving at the top while the page is open.

Screenshots go to tests/output/screens/ (git-ignored) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from generations.models import OutputImage
from projects.models import Role
from tests.conftest import log_in
from tests.factories import add_member, make_pictured_image, make_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = Path(__file__).resolve().parents[1] / "output" / "screens"
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.get_fixed_timezone(0))
# Pixel sizes as the provider returns them for each ratio (simulator/spec.py, 1k).
SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1360, 768),
    "2:3": (832, 1248),
    "4:3": (1184, 896),
    "9:16": (768, 1360),
    "3:2": (1248, 832),
    "3:4": (896, 1184),
    "21:9": (1568, 672),
}
RATIOS = list(SIZES)
SUBJECTS = ("lighthouse", "red kite", "harbour", "fox", "glacier")
COUNT = 60


def seed(owner, count: int = COUNT, *, project=None) -> list[OutputImage]:
    """`count` images a minute apart in every ratio, newest first."""
    made = []
    for i in range(count):
        ratio = RATIOS[(i * 3) % len(RATIOS)]
        made.append(
            make_pictured_image(
                owner,
                size=SIZES[ratio],
                seed=i,
                project=project,
                prompt=f"a {SUBJECTS[i % len(SUBJECTS)]} at dusk, take {i}",
                created_at=T0 + timedelta(minutes=i),
                aspect_ratio=ratio,
            )
        )
    return made[::-1]


@contextmanager
def screen(browser, live_server, width: int, height: int, dpr: float = 1) -> Iterator[object]:
    """A page the size of a screen; a phone's (narrow) has touch and its pixel density."""
    phone = width < 600
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": height},
        device_scale_factor=dpr,
        is_mobile=phone,
        has_touch=phone,
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def wait_for_visible_thumbnails(page) -> None:
    """Every tile image in the first screen has loaded (lazy images load as they show)."""
    page.wait_for_function(
        """() => {
            const imgs = [...document.querySelectorAll('[data-tile] img')]
                .filter(i => i.getBoundingClientRect().top < innerHeight);
            return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
        }"""
    )


LAYOUT = """() => {
    const tiles = [...document.querySelectorAll('[data-gallery] [data-tile]')];
    return {
        innerWidth, innerHeight, dpr: devicePixelRatio,
        scrollWidth: document.documentElement.scrollWidth,
        grid: document.querySelector('[data-gallery]').getBoundingClientRect().toJSON(),
        tiles: tiles.map(t => {
            const img = t.querySelector('img');
            const box = t.querySelector('a.thumb').getBoundingClientRect();
            const chosen = img.currentSrc && (img.srcset.split(',').map(s => s.trim().split(/\\s+/))
                .find(([url]) => new URL(url, location.href).href === img.currentSrc) || []);
            return {
                top: Math.round(box.top), bottom: box.bottom, left: box.left, right: box.right,
                width: box.width, height: box.height,
                attrRatio: +img.getAttribute('width') / +img.getAttribute('height'),
                loaded: img.complete && img.naturalWidth > 0,
                candidate: chosen && chosen[1] ? parseInt(chosen[1]) : 0,
            };
        }),
    };
}"""


def rows_of(tiles: list[dict]) -> list[list[dict]]:
    rows: dict[int, list[dict]] = {}
    for tile in tiles:
        rows.setdefault(tile["top"], []).append(tile)
    return [rows[top] for top in sorted(rows)]


def check_tiles(layout: dict) -> None:
    """Each tile keeps its image's aspect ratio and, once loaded, is sharp: the thumbnail
    chosen is as wide as the tile in device pixels, or the largest there is (512 px)."""
    for tile in layout["tiles"]:
        shown = tile["width"] / tile["height"]
        assert abs(shown / tile["attrRatio"] - 1) < 0.02, tile
        if tile["loaded"] and tile["top"] < layout["innerHeight"]:
            needed = tile["width"] * layout["dpr"]
            assert tile["candidate"] >= min(needed, 512) * 0.98 or tile["candidate"] >= 512, tile


def test_the_first_screen_at_1440_is_three_rows_of_images_across_the_width(
    browser, live_server, user
) -> None:
    from playwright.sync_api import expect

    newest_first = seed(user)
    with screen(browser, live_server, 1440, 900) as page:
        log_in(page, user)
        page.goto("/gallery/")
        wait_for_visible_thumbnails(page)
        shot(page, "gallery-1440x900")
        layout = page.evaluate(LAYOUT)

        assert layout["scrollWidth"] <= layout["innerWidth"]
        # The whole width: the grid spans the screen less the page's small margins.
        assert layout["grid"]["width"] >= layout["innerWidth"] - 40
        rows = rows_of(layout["tiles"])
        whole = [row for row in rows if max(t["bottom"] for t in row) <= layout["innerHeight"]]
        assert len(whole) >= 3, [len(r) for r in rows]
        # Justified: each full row ends at the grid's right edge.
        for row in whole:
            assert abs(max(t["right"] for t in row) - layout["grid"]["right"]) < 2
        check_tiles(layout)

        # Nothing selected: no bulk bar. A tile's checkbox is named after its image.
        bulk = page.locator("#bulk-form")
        expect(bulk).to_be_hidden()
        first = page.locator("[data-tile]").first
        box = first.get_by_role("checkbox", name=f"Select {newest_first[0].generation.prompt}")
        box.check()
        expect(bulk).to_be_visible()
        expect(bulk.locator("[data-selected-count]")).to_have_text("1")
        shot(page, "gallery-1440x900-selected")
        bulk.get_by_role("button", name="Clear").click()
        expect(bulk).to_be_hidden()
        expect(page.get_by_role("button", name="Select all on page")).to_be_hidden()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (360, 800)])
def test_a_phone_shows_two_or_three_columns_and_no_sideways_scroll(
    browser, live_server, user, width, height
) -> None:
    from playwright.sync_api import expect

    seed(user, 30)
    with screen(browser, live_server, width, height, dpr=3) as page:
        log_in(page, user)
        page.goto("/gallery/")
        wait_for_visible_thumbnails(page)
        shot(page, f"gallery-{width}x{height}")
        layout = page.evaluate(LAYOUT)
        assert layout["scrollWidth"] <= layout["innerWidth"]
        rows = rows_of(layout["tiles"])
        on_screen = [row for row in rows if row[0]["top"] < layout["innerHeight"]]
        assert len(on_screen) >= 3
        per_row = [len(row) for row in rows[:-1]]  # the last row may be short
        assert 2 <= sum(per_row) / len(per_row) <= 3.5, per_row
        check_tiles(layout)

        # Filters open as a sheet from the bottom of the screen; the page still fits.
        page.locator(".filters-menu > summary").click()
        sheet = page.locator(".filters-sheet")
        expect(sheet).to_be_visible()
        box = sheet.bounding_box()
        assert abs(box["y"] + box["height"] - height) < 2 and box["width"] >= width - 1
        shot(page, f"gallery-{width}x{height}-filters")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.get_by_role("combobox", name="Ratio").select_option("16:9")
        expect(page.locator(".filter-chips")).to_contain_text("Ratio 16:9")
        page.get_by_role("button", name="Show images").click()
        expect(sheet).to_be_hidden()

        # Selecting on a phone: the bulk bar fits the screen too.
        page.locator("[data-tile] input.pick").first.tap()
        expect(page.locator("#bulk-form")).to_be_visible()
        shot(page, f"gallery-{width}x{height}-selected")
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_filters_apply_as_they_change_and_show_as_removable_chips(page, user) -> None:
    from playwright.sync_api import expect

    newest_first = seed(user, 24)
    log_in(page, user)
    page.goto("/gallery/")
    page.evaluate("window.__noReload = true")
    tiles = page.locator("[data-gallery] [data-tile]")
    expect(tiles).to_have_count(24)
    chips = page.locator(".filter-chips")
    expect(chips).to_have_count(0)

    # A ratio, chosen in the Filters panel: no button to press.
    page.locator(".filters-menu > summary").click()
    page.get_by_role("combobox", name="Ratio").select_option("16:9")
    wide = [i for i in newest_first if i.generation.aspect_ratio == "16:9"]
    expect(tiles).to_have_count(len(wide))
    expect(page).to_have_url(f"{page.url.split('?')[0]}?ratio=16%3A9")
    expect(chips.get_by_role("link", name="Remove filter: Ratio 16:9")).to_be_visible()
    expect(page.locator("[data-filter-badge]")).to_have_text("1")
    page.keyboard.press("Escape")

    # A search, as one types; both filters show as chips.
    page.get_by_label("Search prompts").fill("fox")
    expected = [i for i in wide if "fox" in i.generation.prompt]
    assert 0 < len(expected) < len(wide)
    expect(tiles).to_have_count(len(expected))
    expect(chips.get_by_role("link", name="Remove filter: “fox”")).to_be_visible()
    assert "q=fox" in page.url and "ratio=16%3A9" in page.url
    shot(page, "gallery-chips")

    # Removing the ratio's chip keeps the search, and the form follows.
    chips.get_by_role("link", name="Remove filter: Ratio 16:9").click()
    foxes = [i for i in newest_first if "fox" in i.generation.prompt]
    assert len(foxes) > len(expected)
    expect(tiles).to_have_count(len(foxes))
    ratio = page.locator("select[name=ratio]")  # in the closed Filters panel
    expect(ratio).to_have_value("")
    assert page.url.endswith("/gallery/?q=fox")

    # Back brings the ratio again; Clear all, every tile.
    page.go_back()
    expect(tiles).to_have_count(len(expected))
    expect(ratio).to_have_value("16:9")
    chips.get_by_role("link", name="Clear all").click()
    expect(tiles).to_have_count(24)
    expect(page.get_by_label("Search prompts")).to_have_value("")
    assert page.url.endswith("/gallery/")
    assert page.evaluate("window.__noReload") is True


def test_without_javascript_the_filter_form_still_submits(browser, live_server, user) -> None:
    from playwright.sync_api import expect

    seed(user, 8)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, user)
        page.goto("/gallery/")
        page.locator(".filters-menu > summary").click()
        page.get_by_role("combobox", name="Ratio").select_option("21:9")
        page.get_by_role("button", name="Show images").click()
        expect(page.locator("[data-tile]")).to_have_count(1)
        assert "ratio=21%3A9" in page.url
        expect(page.locator(".filter-chips")).to_contain_text("Ratio 21:9")
        # Something ticked shows the bulk bar without JavaScript too (CSS :has).
        expect(page.locator("#bulk-form")).to_be_hidden()
        page.locator("[data-tile] input.pick").first.check()
        expect(page.locator("#bulk-form")).to_be_visible()
    finally:
        context.close()


@pytest.mark.parametrize("where", ["gallery", "project"])
def test_new_images_appear_at_the_top_without_a_reload(
    page, user, django_user_model, settings, where
) -> None:
    from playwright.sync_api import expect

    settings.DARKROOM_GALLERY_POLL_SECONDS = 1
    harbour = make_project(user, "Harbour")
    grace = django_user_model.objects.create_user("grace", password="pw-grace-123456")
    add_member(harbour, grace, Role.EDITOR)
    existing = seed(user, 6, project=harbour)
    log_in(page, user)
    page.goto("/gallery/" if where == "gallery" else f"/projects/{harbour.uuid}/")
    page.evaluate("window.__noReload = true")
    tiles = page.locator("[data-gallery] [data-tile]")
    expect(tiles).to_have_count(6)

    # Grace generates into the project: her image comes in on top, then two more of ada's.
    fresh = make_pictured_image(
        grace, size=SIZES["16:9"], seed=99, project=harbour, prompt="grace's comet"
    )
    expect(tiles.first).to_have_attribute("data-uuid", str(fresh.uuid), timeout=10_000)
    more = [
        make_pictured_image(user, size=SIZES["2:3"], seed=100 + i, project=harbour)
        for i in range(2)
    ]
    expect(tiles).to_have_count(9, timeout=10_000)
    shown = tiles.evaluate_all("ts => ts.map(t => t.dataset.uuid)")
    assert shown == [str(i.uuid) for i in [*more[::-1], fresh, *existing]]
    assert page.evaluate("window.__noReload") is True
    shot(page, f"new-images-{where}")


def seed_ratio(owner, ratio: str, count: int, *, start: int = 0) -> None:
    for i in range(count):
        make_pictured_image(
            owner,
            size=SIZES[ratio],
            seed=start + i,
            prompt=f"a wide {SUBJECTS[i % len(SUBJECTS)]}, take {i}",
            created_at=T0 + timedelta(minutes=start + i),
            aspect_ratio=ratio,
        )


ROW = 210  # gallery.css --row at 1440 px
GROW = 1.15  # gallery.css --grow: the most a row stretches past --row


@pytest.mark.parametrize("kind", ["mixed", "16:9"])
def test_rows_stay_near_the_row_height_so_three_fill_the_first_screen(
    browser, live_server, user, kind
) -> None:
    """Three 16:9 tiles to a row were stretched to 264 px, two rows a screen: a row now takes
    one more tile and stretches by at most --grow, the last row not at all."""
    if kind == "mixed":
        seed(user, 48)
    else:
        seed_ratio(user, "16:9", 48)
    with screen(browser, live_server, 1440, 900) as page:
        log_in(page, user)
        page.goto("/gallery/")
        wait_for_visible_thumbnails(page)
        shot(page, f"gallery-1440x900-rows-{kind.replace(':', 'x')}")
        layout = page.evaluate(LAYOUT)
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        last = rows_of(page.evaluate(LAYOUT)["tiles"])[-1]

    rows = rows_of(layout["tiles"])
    whole = [row for row in rows if max(t["bottom"] for t in row) <= layout["innerHeight"]]
    assert len(whole) >= 3, [(len(r), r[0]["height"]) for r in rows[:4]]
    for row in rows:
        assert max(t["height"] for t in row) <= ROW * GROW + 1, row
        assert min(t["height"] for t in row) >= ROW * 0.8, row
    # The last row is not blown up to fill the width.
    assert max(t["height"] for t in last) <= ROW * GROW + 1, last
    check_tiles(layout)


def test_a_lone_very_wide_tile_is_not_stretched_across_the_screen(
    browser, live_server, user
) -> None:
    """A 21:9 tile followed by another too wide to join its row (at 1440 px three 21:9 tiles
    fill a row; the fourth waits): it stays near the row height."""
    seed_ratio(user, "21:9", 4)
    with screen(browser, live_server, 1440, 900) as page:
        log_in(page, user)
        page.goto("/gallery/")
        wait_for_visible_thumbnails(page)
        layout = page.evaluate(LAYOUT)
    for tile in layout["tiles"]:
        assert tile["height"] <= ROW * GROW + 1, tile
        assert tile["width"] <= ROW * GROW * 21 / 9 + 2, tile


@pytest.mark.parametrize("kind", ["mixed", "16:9"])
def test_a_phone_shows_two_or_three_columns_of_either_kind(
    browser, live_server, user, kind
) -> None:
    if kind == "mixed":
        seed(user, 48)
    else:
        seed_ratio(user, "16:9", 48)
    with screen(browser, live_server, 390, 844, dpr=3) as page:
        log_in(page, user)
        page.goto("/gallery/")
        wait_for_visible_thumbnails(page)
        layout = page.evaluate(LAYOUT)
    rows = rows_of(layout["tiles"])
    on_screen = [row for row in rows if row[0]["bottom"] <= layout["innerHeight"]]
    assert len(on_screen) >= 3
    per_row = [len(row) for row in on_screen]
    assert all(2 <= n <= 4 for n in per_row), per_row
    assert 2 <= sum(per_row) / len(per_row) <= 3.5, per_row
    check_tiles(layout)


SHARP = """() => [...document.querySelectorAll('[data-gallery] [data-tile]')].map(t => {
    const img = t.querySelector('img');
    const box = img.getBoundingClientRect();
    const chosen = (img.srcset.split(',').map(s => s.trim().split(/\\s+/))
        .find(([url]) => new URL(url, location.href).href === img.currentSrc) || []);
    return {uuid: t.dataset.uuid, top: box.top, width: box.width, src: img.currentSrc,
            loaded: img.complete && img.naturalWidth > 0, natural: img.naturalWidth,
            candidate: chosen[1] ? parseInt(chosen[1]) : 0};
})"""


@pytest.mark.parametrize("dpr", [1, 2, 3])
@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_every_tile_on_screen_is_sharp_at_its_pixel_density(
    browser, live_server, user, dpr, width, height
) -> None:
    """The file a tile shows has at least as many pixels across as the tile has device pixels,
    unless the original itself has fewer: 256, 512 and 1024 px thumbnails, then the original."""
    originals = {str(image.uuid): image.width for image in seed(user, 32)}
    with screen(browser, live_server, width, height, dpr=dpr) as page:
        log_in(page, user)
        page.goto("/gallery/")
        wait_for_visible_thumbnails(page)
        tiles = [t for t in page.evaluate(SHARP) if t["top"] < height]
    assert len(tiles) >= 6
    for tile in tiles:
        assert tile["loaded"] and tile["candidate"] > 0, tile
        needed = tile["width"] * dpr
        assert tile["candidate"] >= min(needed, originals[tile["uuid"]]) - 1, tile
