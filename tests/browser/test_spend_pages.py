"""My spend, project spend and the cost review in a browser: charts with an axis, blurred NSFW
thumbnails that a click shows, and no page wider than a phone (360 and 390 px)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from generations.models import Generation, OutputImage, ResultType
from spend.models import Budget
from tests.browser.test_gallery_pages import badge_fits
from tests.conftest import log_in
from tests.factories import make_project
from tests.spend.test_views import spend_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[1] / "output" / "screens"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (
        f"{page.url} is {widths[0]} px wide at {widths[1]} px; too wide: {page.evaluate(WIDE)}"
    )


# What reaches past the right edge (the innermost ones), to say what to fix.
WIDE = """[...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > innerWidth + 1)
  .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right > innerWidth + 1))
  .slice(0, 8)
  .map(el => `${el.tagName}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)"""


def spending(person):
    """A month of runs for `person` (and some last month), one flagged NSFW, one a series, in
    a project with a long name; a personal budget."""
    now = timezone.now()
    project = make_project(person, "Harbour at night, a long project name for a phone")
    today = timezone.localdate()
    for n in range(min(today.day, 12)):
        at = now - timedelta(days=n)
        spend_run(
            person,
            project=project if n % 2 else None,
            charge=str(Decimal("0.028") * (n % 4 + 1)),
            at=at,
            prompt=f"a lighthouse in a storm, seen from the cliffs at dusk, take {n}",
        )
    last_month = today.replace(day=1) - timedelta(days=1)
    for day in (2, 9, 20):
        spend_run(
            person,
            charge="0.112",
            at=now.replace(year=last_month.year, month=last_month.month, day=day),
        )
    flagged = spend_run(person, charge="0.224", prompt="flagged by the provider")
    OutputImage.objects.filter(generation=flagged).update(nsfw=True)
    series = spend_run(person, charge="0.112", prompt="a series of four")
    Generation.objects.filter(pk=series.pk).update(
        result_type=ResultType.SERIES, output_urls=["a", "b", "c", "d"]
    )
    Budget.objects.create(person=person, monthly_limit=Decimal("3"))
    paint_thumbnails()
    return project, flagged


def paint_thumbnails() -> None:
    """The factory's thumbnails are a few bytes; paint real ones so the screenshots show
    images (and the blur shows on one)."""
    from django.core.files.storage import default_storage
    from PIL import Image

    from generations.models import Thumbnail

    for n, thumb in enumerate(Thumbnail.objects.all()):
        colour = (40 + n * 37 % 200, 90 + n * 53 % 150, 160 - n * 29 % 120)
        with default_storage.open(thumb.file.name, "wb") as out:
            Image.new("RGB", (thumb.width, thumb.height), colour).save(out, "WEBP")


def test_spend_pages_fit_phones_and_show_axis_charts(page, django_user_model) -> None:
    from playwright.sync_api import expect

    staff = django_user_model.objects.create_superuser(
        "root", "root@example.com", password="pw-root-123456"
    )
    project, flagged = spending(staff)
    log_in(page, staff)
    pages = {
        "my-spend": "/spend/",
        "project-spend": f"/spend/projects/{project.uuid}/",
        "cost-review": "/spend/review/",
    }
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for title, url in pages.items():
            page.goto(url)
            chart = page.locator("svg.spend-chart").first
            expect(chart).to_be_visible()
            assert chart.locator("text.tick").count() > 3  # the y-axis and the x labels
            assert chart.locator("line.gridline").count() >= 3
            shoot(page, f"{title}-{name}")
        fits(page, 390)
        fits(page, 360)

    for url in pages.values():
        page.goto(url)
        fits(page, 390)
        fits(page, 360)

    # My spend: the budget line, last month beside this one, the series as images delivered.
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/spend/")
    # One budget line on the spend chart; the "Against the cap" chart draws its own cap.
    expect(page.locator("svg.spend-chart:not(.track-chart) polyline.budget-line")).to_have_count(1)
    expect(page.locator("svg.track-chart")).to_have_count(1)
    expect(page.locator("#comparison dd")).to_have_count(3)
    expect(page.get_by_text("series · 4 images · 1k").first).to_be_visible()

    # My spend's flagged thumbnail carries the gallery's badge, whole inside the thumbnail.
    badge_fits(page.locator("a.thumb.nsfw").first)

    # The cost review is in the navigation; its NSFW thumbnail is blurred until clicked.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cost review").click()
    page.wait_for_url("**/spend/review/")
    thumb = page.locator(f'a.thumb.nsfw:has(img[src*="{flagged.uuid}"])')
    expect(thumb).to_have_count(1)
    badge_fits(thumb)
    blur = thumb.locator("img").evaluate("img => getComputedStyle(img).filter")
    assert blur.startswith("blur(")
    thumb.click()
    expect(thumb).to_have_class("thumb review-thumb-link nsfw revealed")
    thumb.locator("img").evaluate(  # once the .2 s transition is over
        "img => new Promise(done => setTimeout(done, 400))"
    )
    assert thumb.locator("img").evaluate("img => getComputedStyle(img).filter") == "none"
    assert page.url.endswith("/spend/review/")  # the first click only shows it

    # The date inputs look like the other inputs (in the dark theme: its field colour, not the
    # browser's white).
    page.emulate_media(color_scheme="dark")
    background = page.locator("#id_start").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    shoot(page, "cost-review-revealed-desktop")
