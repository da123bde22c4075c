"""The spend charts (buckets by range, the y-axis, the budget line) and the money formats."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template

from reports.charts import (
    HEIGHT,
    axis_ticks,
    bucket_size,
    buckets,
    spend_chart,
    tick_label,
    track,
    track_chart,
)
from spend import money

BAR = re.compile(r'<rect class="bar"[^>]*><title>([^<]*)</title></rect>')
Y_LABEL = re.compile(r'<text class="tick" x="58" y="[\d.]+" text-anchor="end">([^<]*)</text>')


# Buckets


@pytest.mark.parametrize(
    ("days", "size"),
    [
        (1, "day"),
        (28, "day"),
        (31, "day"),
        (32, "week"),
        (92, "week"),
        (182, "week"),
        (183, "month"),
        (200, "month"),
        (366, "month"),
    ],
)
def test_the_range_picks_days_weeks_or_months(days: int, size: str) -> None:
    start = date(2026, 1, 1)
    assert bucket_size(start, start + timedelta(days=days - 1)) == size


def test_weeks_run_monday_to_sunday_cut_at_the_range_ends() -> None:
    drawn = buckets(
        {date(2026, 3, 4): Decimal("1"), date(2026, 3, 8): Decimal("2"), date(2026, 4, 30): 5},
        start=date(2026, 3, 4),  # a Wednesday
        end=date(2026, 4, 20),
    )
    assert (drawn[0].start, drawn[0].end, drawn[0].value) == (
        date(2026, 3, 4),
        date(2026, 3, 8),
        Decimal("3"),
    )
    assert drawn[1].start == date(2026, 3, 9) and drawn[1].start.weekday() == 0
    assert drawn[-1].end == date(2026, 4, 20)  # cut; the spend of 30 April is outside
    assert sum(b.value for b in drawn) == Decimal("3")
    assert all(b.days <= 7 for b in drawn)


def test_a_200_day_range_still_draws_one_bar_a_month() -> None:
    start, end = date(2026, 1, 10), date(2026, 7, 28)
    assert (end - start).days + 1 == 200
    svg = spend_chart(
        {date(2026, 1, 15): Decimal("0.028"), date(2026, 6, 2): Decimal("1.5")},
        start=start,
        end=end,
        label="Spend",
    )
    assert 'data-bucket="month"' in svg
    assert BAR.findall(svg) == ["January 2026: $0.0280", "June 2026: $1.5000"]
    # Seven months, each labelled under the axis.
    for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul"):
        assert f'text-anchor="middle">{month}</text>' in svg


def test_a_range_of_weeks_draws_one_bar_a_week_with_labels() -> None:
    svg = spend_chart(
        {date(2026, 3, 2): Decimal("0.5"), date(2026, 3, 3): Decimal("0.25")},
        start=date(2026, 3, 1),
        end=date(2026, 5, 31),
        label="Spend",
    )
    assert 'data-bucket="week"' in svg
    assert BAR.findall(svg) == ["2 Mar – 8 Mar 2026: $0.7500"]
    assert 'text-anchor="middle">1 Mar</text>' in svg  # a Sunday: a week of one day


# The y-axis


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        ("0.028", ["0", "0.01", "0.02", "0.03"]),
        ("0.5", ["0", "0.2", "0.4", "0.6"]),
        ("3.7", ["0", "1", "2", "3", "4"]),
        ("100", ["0", "50", "100"]),
        ("0", ["0", "0.05", "0.1"]),
    ],
)
def test_axis_ticks_are_round_steps_from_zero_past_the_peak(peak: str, ticks: list) -> None:
    made = axis_ticks(Decimal(peak))
    assert made == [Decimal(t) for t in ticks]
    assert made[-1] >= Decimal(peak)


def test_tick_labels_are_money_with_the_decimals_the_step_needs() -> None:
    assert tick_label(Decimal("0.2"), Decimal("0.2")) == "$0.20"
    assert tick_label(Decimal("50"), Decimal("50")) == "$50.00"
    assert tick_label(Decimal("0.002"), Decimal("0.001")) == "$0.002"


def test_the_chart_has_a_y_axis_gridlines_and_value_labels() -> None:
    svg = spend_chart(
        {date(2026, 11, 2): Decimal("0.028"), date(2026, 11, 5): Decimal("0.1")},
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        label="Spend",
    )
    assert Y_LABEL.findall(svg) == ["$0.00", "$0.05", "$0.10"]
    assert svg.count('class="gridline"') == 3
    # 30 bars are too narrow for level labels: each bar's value stands upright over it.
    assert re.findall(r'class="value upright"[^>]*>([^<]*)<', svg) == ["$0.03", "$0.10"]
    assert 'transform="rotate(-90 ' in svg
    week = spend_chart(
        {date(2026, 11, 2): Decimal("0.028")},
        start=date(2026, 11, 1),
        end=date(2026, 11, 7),
        label="Spend",
    )
    assert re.findall(r'class="value"[^>]*>([^<]*)<', week) == ["$0.03"]


def test_the_budget_line_shows_the_budgets_pace() -> None:
    svg = spend_chart(
        {date(2026, 11, 2): Decimal("0.028")},
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        label="Spend",
        budget_per_day=Decimal("3") / 30,
    )
    assert '<polyline class="budget-line"' in svg
    assert "budget pace $0.10/day" in svg
    # The axis reaches the line.
    assert Y_LABEL.findall(svg)[-1] == "$0.10"
    assert "budget-line" not in spend_chart(
        {}, start=date(2026, 11, 1), end=date(2026, 11, 30), label="Spend"
    )


X_LABEL = re.compile(r'class="tick" x="[^"]*" y="[^"]*" text-anchor="middle">([^<]*)<')


@pytest.mark.parametrize(("last", "labels"), [(30, "1 3 6 9 12 15 18 21 24 27 30"), (28, None)])
def test_a_months_days_are_labelled_from_the_first_to_the_last(last: int, labels) -> None:
    svg = spend_chart(
        {},
        start=date(2026, 2 if last == 28 else 11, 1),
        end=date(2026, 2 if last == 28 else 11, last),
        label="S",
    )
    found = X_LABEL.findall(svg)
    assert found[0] == "1" and found[-1] == str(last)  # 30 Nov had no label: ticks ended at 28
    assert labels is None or " ".join(found) == labels


def test_the_budget_pace_is_named_under_the_axis_clear_of_the_bars() -> None:
    svg = spend_chart(
        {date(2026, 11, 30): Decimal("0.5")},
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        label="Spend",
        budget_per_day=Decimal("0.1"),
    )
    label_y = float(re.search(r'class="budget-label" x="[^"]*" y="([^"]*)"', svg)[1])
    assert label_y > HEIGHT  # under the x-axis labels, in the legend row
    assert 'viewBox="0 0 720 250"' in svg


def test_the_track_projects_the_month_end_from_the_pace_so_far() -> None:
    per_day = {date(2026, 11, d): Decimal("0.1") for d in range(1, 11)}
    month = track(
        per_day,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        today=date(2026, 11, 10),
        cap=Decimal("2"),
    )
    assert month.so_far == Decimal("1.0") and month.projected == Decimal("3.0")
    assert month.over and not month.finished
    svg = track_chart(per_day, month, label="Your spend")
    assert "projected $3.00" in svg and "cap $2.00" in svg
    assert svg.count('<polyline class="track-line"') == 1
    assert 'class="track-projection"' in svg
    # A month that is over: what it came to, no projection.
    done = track(
        per_day,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        today=date(2026, 12, 3),
        cap=None,
    )
    assert done.finished and done.projected == Decimal("1.0") and not done.over
    assert "spent $1.00" in track_chart(per_day, done, label="S")
    assert (
        track(
            per_day,
            start=date(2026, 12, 1),
            end=date(2026, 12, 31),
            today=date(2026, 11, 3),
            cap=None,
        )
        is None
    )


def test_an_empty_chart_still_draws_its_axis() -> None:
    svg = spend_chart({}, start=date(2026, 2, 1), end=date(2026, 2, 28), label="Nothing")
    assert BAR.findall(svg) == [] and ">No spend</text>" in svg
    assert Y_LABEL.findall(svg) == ["$0.00", "$0.05", "$0.10"]


# Money


@pytest.mark.parametrize(
    ("value", "exact", "rounded"),
    [
        ("0.028", "$0.0280", "$0.03"),
        ("0.757", "$0.7570", "$0.76"),
        ("0.028000", "$0.0280", "$0.03"),
        ("0.001234", "$0.001234", "$0.00"),  # more than four places: kept, not rounded away
        ("0", "$0.0000", "$0.00"),
        ("-0.028", "-$0.0280", "-$0.03"),
        ("1234.5", "$1234.5000", "$1,234.50"),
        ("0.005", "$0.0050", "$0.01"),  # half a cent rounds up
    ],
)
def test_one_exact_and_one_rounded_format(value: str, exact: str, rounded: str) -> None:
    assert money.exact(Decimal(value)) == exact
    assert money.rounded(Decimal(value)) == rounded
    assert money.exact_number(Decimal(value)) == exact.replace("$", "")


def test_the_template_filters_are_the_same_formats() -> None:
    html = Template("{% load money %}{{ a|money }} · {{ a|money_exact }}").render(
        Context({"a": Decimal("0.757")})
    )
    assert html == "$0.76 · $0.7570"


def test_no_spend_template_formats_money_by_itself() -> None:
    """Every amount on the spend pages goes through the two filters."""
    from pathlib import Path

    for path in Path("templates/spend").rglob("*.*"):
        text = path.read_text()
        assert "floatformat" not in text, path
        assert "${{" not in text, path
