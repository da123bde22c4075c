"""My spend's charts as a person sees them, at 1440 and 390 px in both themes: a value on every
day's bar, the month's last day named under the axis, the budget pace's label clear of the bars,
and "are we on track?" answered by the month added up against its cap. Screenshots go to
var/shots/ for a person to look at."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from reports.selectors import month_end
from spend.models import Budget
from spend.services import month_of
from tests.conftest import log_in
from tests.spend.test_views import spend_run

SHOTS = Path(__file__).resolve().parents[2] / "var" / "shots"

BOXES = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {l: r.left, r: r.right, t: r.top, b: r.bottom}; };
  const chart = document.querySelector('svg.spend-chart[data-bucket]');
  return {
    bars: [...chart.querySelectorAll('rect.bar')].map(box),
    values: [...chart.querySelectorAll('text.value')].map(box),
    pace: box(chart.querySelector('text.budget-label')),
    xLabels: [...chart.querySelectorAll('text.tick[text-anchor=middle]')].map((t) => t.textContent),
  };
}"""


def overlaps(a: dict, b: dict) -> bool:
    return a["l"] < b["r"] and b["l"] < a["r"] and a["t"] < b["b"] and b["t"] < a["b"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("scheme", ["dark", "light"])
@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)], ids=["1440", "390"])
def test_my_spend_charts_label_every_day_and_say_if_the_month_is_on_track(
    browser, live_server, staff, width, height, scheme
) -> None:
    now = timezone.now()
    start = month_of(now)
    for day in range(timezone.localdate().day):
        charge = Decimal("0.028") * (day % 4 + 1)
        spend_run(staff, charge=str(charge), at=now - timedelta(days=day))
    Budget.objects.create(person=staff, monthly_limit=Decimal("3"))
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}, color_scheme=scheme
    )
    page = context.new_page()
    log_in(page, staff)
    page.goto("/spend/")

    found = page.evaluate(BOXES)
    assert found["bars"] and len(found["values"]) == len(found["bars"])  # a value on each bar
    for value in found["values"]:
        assert not any(overlaps(value, bar) for bar in found["bars"]), value
    assert found["xLabels"][0] == "1"
    assert found["xLabels"][-1] == str(month_end(start).day)  # the month's last day is named
    assert not any(overlaps(found["pace"], bar) for bar in found["bars"])
    track = page.locator("#track")
    assert "projected month end" in track.inner_text() or "Spent" in track.inner_text()
    assert "of a $3.00 cap" in track.inner_text()
    assert page.locator("svg.track-chart .cap-line").count() == 1
    assert page.locator("svg.track-chart .track-line").count() == 1
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= inner
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"my-spend-{width}-{scheme}.png"), full_page=True)
    context.close()
