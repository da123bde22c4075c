"""A small server-drawn bar chart: inline SVG, no JavaScript, readable by screen readers.

The range picks the bucket, so a chart never disappears: up to 31 days one bar a day, up to
26 weeks one a week (Monday to Sunday, cut at the range's ends), else one a month. The y-axis
has "nice" ticks (1, 2 or 5 × a power of ten) with money labels and gridlines; each bar
carries its exact amount in a <title> (a tooltip, and what a screen reader reads), and a
rounded label on top when there is room. When a monthly budget applies, a dashed line shows
its even pace: what the budget allows per bucket if it is spread over the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from spend import money

WIDTH = 720
HEIGHT = 220
LEFT = 64  # room for the y-axis labels
RIGHT = 8
TOP = 18  # room for a value label over the tallest bar
BOTTOM = 24  # room for the x-axis labels
MAX_X_LABELS = 12
MAX_VALUE_LABELS = 16
DAY_LIMIT = 31
WEEK_LIMIT = 26 * 7


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date  # included
    value: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def bucket_size(start: date, end: date) -> str:
    """ "day", "week" or "month": the bucket a range from `start` to `end` is drawn in."""
    days = (end - start).days + 1
    if days <= DAY_LIMIT:
        return "day"
    return "week" if days <= WEEK_LIMIT else "month"


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def buckets(totals: dict[date, Decimal], *, start: date, end: date) -> list[Bucket]:
    """Every bucket from `start` to `end` (both included), with the total of its days."""
    size = bucket_size(start, end)
    made = []
    first = start
    while first <= end:
        if size == "day":
            last = first
        elif size == "week":
            last = first + timedelta(days=6 - first.weekday())
        else:
            last = _next_month(first) - timedelta(days=1)
        last = min(last, end)
        made.append(Bucket(first, last, Decimal(0)))
        first = last + timedelta(days=1)
    for day, value in totals.items():
        if start <= day <= end and value:
            index = next(n for n, b in enumerate(made) if b.start <= day <= b.end)
            bucket = made[index]
            made[index] = Bucket(bucket.start, bucket.end, bucket.value + value)
    return made


def axis_ticks(peak: Decimal, *, count: int = 4) -> list[Decimal]:
    """From 0 up to the first tick at or over `peak`, in steps of 1, 2 or 5 × 10ⁿ, about
    `count` steps (an empty chart gets 0 to $0.10)."""
    if peak <= 0:
        peak = Decimal("0.1")
    rough = peak / count
    power = Decimal(10) ** rough.adjusted()
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    ticks = [Decimal(0)]
    while ticks[-1] < peak:
        ticks.append(ticks[-1] + step)
    return ticks


def tick_label(value: Decimal, step: Decimal) -> str:
    """`$0.05`; with as many decimals as the step needs when it is under a cent."""
    places = max(2, -step.normalize().as_tuple().exponent) if step else 2
    return f"${value:.{places}f}"


def _x_label(bucket: Bucket, size: str, years: bool) -> str:
    if size == "day":
        return f"{bucket.start:%-d}"
    if size == "week":
        return f"{bucket.start:%-d %b}"
    return f"{bucket.start:%b %y}" if years else f"{bucket.start:%b}"


def _title(bucket: Bucket, size: str) -> str:
    if size == "day":
        when = f"{bucket.start:%a %-d %b %Y}"
    elif size == "week":
        when = f"{bucket.start:%-d %b} – {bucket.end:%-d %b %Y}"
    else:
        when = f"{bucket.start:%B %Y}"
    return f"{when}: {money.exact(bucket.value)}"


def spend_chart(
    totals: dict[date, Decimal],
    *,
    start: date,
    end: date,
    label: str,
    budget_per_day: Decimal | None = None,
) -> SafeString:
    """The chart of `totals` (spend per local day) from `start` to `end`, both included."""
    size = bucket_size(start, end)
    drawn = buckets(totals, start=start, end=end)
    pace = [budget_per_day * b.days for b in drawn] if budget_per_day else []
    ticks = axis_ticks(max([b.value for b in drawn] + pace + [Decimal(0)]))
    top = ticks[-1]
    step = ticks[1] - ticks[0]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    slot = plot_w / len(drawn)

    def y(value: Decimal) -> float:
        return base - float(value / top) * plot_h

    grid = [(f"{y(t):.1f}", f"{y(t) + 4:.1f}", tick_label(t, step)) for t in ticks]
    bars, values = [], []
    for n, bucket in enumerate(drawn):
        if bucket.value <= 0:
            continue
        height = max(base - y(bucket.value), 1.0)
        x = LEFT + n * slot + slot * 0.15
        bars.append(
            (
                f"{x:.1f}",
                f"{base - height:.1f}",
                f"{slot * 0.7:.1f}",
                f"{height:.1f}",
                _title(bucket, size),
            )
        )
        if len(drawn) <= MAX_VALUE_LABELS:
            values.append(
                (f"{x + slot * 0.35:.1f}", f"{base - height - 4:.1f}", money.rounded(bucket.value))
            )
    every = -(-len(drawn) // MAX_X_LABELS)  # ceiling: at most MAX_X_LABELS labels
    years = drawn[0].start.year != drawn[-1].end.year
    x_labels = [
        (f"{LEFT + n * slot + slot / 2:.1f}", HEIGHT - 6, _x_label(bucket, size, years))
        for n, bucket in enumerate(drawn)
        if n % every == 0
    ]
    budget = SafeString("")
    if pace:
        points = " ".join(
            f"{LEFT + n * slot:.1f},{y(v):.1f} {LEFT + (n + 1) * slot:.1f},{y(v):.1f}"
            for n, v in enumerate(pace)
        )
        budget = format_html(
            '<polyline class="budget-line" points="{}"><title>{}</title></polyline>'
            '<text class="budget-label" x="{}" y="{}" text-anchor="end">{}</text>',
            points,
            f"Budget pace: {money.rounded(budget_per_day)} a day",
            WIDTH - RIGHT,
            f"{y(pace[-1]) - 4:.1f}",
            f"budget pace {money.rounded(pace[-1])}/{size}",
        )
    empty = SafeString("")
    if not bars:
        empty = format_html(
            '<text class="empty" x="{}" y="{}" text-anchor="middle">No spend</text>',
            LEFT + plot_w / 2,
            TOP + plot_h / 2,
        )
    return format_html(
        '<svg class="spend-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'data-bucket="{}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>"
        '<g class="grid">{}</g>'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        "{}{}{}{}{}</svg>",
        f"{label}, per {size}",
        WIDTH,
        HEIGHT,
        size,
        f"{label}, per {size}",
        format_html_join(
            "",
            '<line class="gridline" x1="'
            + str(LEFT)
            + '" y1="{0}" x2="'
            + str(WIDTH - RIGHT)
            + '" y2="{0}"/><text class="tick" x="'
            + str(LEFT - 6)
            + '" y="{1}" '
            'text-anchor="end">{2}</text>',
            grid,
        ),
        LEFT,
        base,
        WIDTH - RIGHT,
        base,
        format_html_join(
            "",
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
            bars,
        ),
        format_html_join(
            "", '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>', values
        ),
        format_html_join(
            "", '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>', x_labels
        ),
        budget,
        empty,
    )


def daily_bars(totals: dict[date, Decimal], *, start: date, end: date, label: str) -> SafeString:
    """The chart without a budget line (the name from before buckets)."""
    return spend_chart(totals, start=start, end=end, label=label)
