"""A small server-drawn bar chart: inline SVG, no JavaScript, readable by screen readers.

The range picks the bucket, so a chart never disappears: up to 31 days one bar a day, up to
26 weeks one a week (Monday to Sunday, cut at the range's ends), else one a month. The y-axis
has "nice" ticks (1, 2 or 5 × a power of ten) with money labels and gridlines; each bar
carries its exact amount in a <title> (a tooltip, and what a screen reader reads), and a
rounded label on top: upright over a narrow bar (a month of days), level over a wide one. The
x-axis always labels the first and the last bucket. When a monthly budget applies, a dashed
line shows its even pace (what the budget allows per bucket if it is spread over the month),
named in a legend under the axis, clear of the bars.

`track_chart` answers "are we on track?" for one month: the spend so far added up day by day,
against the month's cap, with where the pace so far ends the month (`Track.projected`).
"""

from __future__ import annotations

from collections.abc import Iterable
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
MAX_VALUE_LABELS = 16  # more bars than this, and their value labels stand upright
UPRIGHT_ROOM = 52  # room over the tallest bar for an upright value label
LEGEND = 30  # a row under the x-axis naming the dashed line
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


def label_indexes(count: int) -> list[int]:
    """Which of `count` buckets get an x label: at most about MAX_X_LABELS, evenly spaced and
    counted back from the last, so the range's last day is always named, and the first."""
    every = -(-count // MAX_X_LABELS)  # ceiling
    picked = list(range(count - 1, -1, -every))[::-1]
    if picked[0] == 1:  # next to the first: label the first instead
        picked[0] = 0
    elif picked[0] >= 2:
        picked.insert(0, 0)
    return picked


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
    upright = len(drawn) > MAX_VALUE_LABELS
    top_room = UPRIGHT_ROOM if upright else TOP
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - top_room - BOTTOM
    base = top_room + plot_h
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
        centre, over = x + slot * 0.35, base - height - 4
        if upright:  # read bottom to top, its middle on the bar's middle
            values.append(
                format_html(
                    '<text class="value upright" x="{0}" y="{1}" text-anchor="start" '
                    'transform="rotate(-90 {0} {1})">{2}</text>',
                    f"{centre + 4:.1f}",
                    f"{over:.1f}",
                    money.rounded(bucket.value),
                )
            )
        else:
            values.append(
                format_html(
                    '<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{centre:.1f}",
                    f"{over:.1f}",
                    money.rounded(bucket.value),
                )
            )
    years = drawn[0].start.year != drawn[-1].end.year
    x_labels = [
        (f"{LEFT + n * slot + slot / 2:.1f}", HEIGHT - 6, _x_label(drawn[n], size, years))
        for n in label_indexes(len(drawn))
    ]
    budget = SafeString("")
    if pace:
        points = " ".join(
            f"{LEFT + n * slot:.1f},{y(v):.1f} {LEFT + (n + 1) * slot:.1f},{y(v):.1f}"
            for n, v in enumerate(pace)
        )
        legend_y = HEIGHT + LEGEND / 2 + 2
        budget = format_html(
            '<polyline class="budget-line" points="{}"><title>{}</title></polyline>'
            '<g class="legend"><line class="budget-line" x1="{}" y1="{}" x2="{}" y2="{}"/>'
            '<text class="budget-label" x="{}" y="{}">{}</text></g>',
            points,
            f"Budget pace: {money.rounded(budget_per_day)} a day",
            LEFT,
            f"{legend_y:.1f}",
            LEFT + 28,
            f"{legend_y:.1f}",
            LEFT + 34,
            f"{legend_y + 4:.1f}",
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
        HEIGHT + (LEGEND if pace else 0),
        size,
        f"{label}, per {size}",
        _gridlines(grid),
        LEFT,
        base,
        WIDTH - RIGHT,
        base,
        format_html_join(
            "",
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
            bars,
        ),
        SafeString("".join(values)),
        format_html_join(
            "", '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>', x_labels
        ),
        budget,
        empty,
    )


def daily_bars(totals: dict[date, Decimal], *, start: date, end: date, label: str) -> SafeString:
    """The chart without a budget line (the name from before buckets)."""
    return spend_chart(totals, start=start, end=end, label=label)


@dataclass(frozen=True)
class Track:
    """One month's spend against its cap: so far, and where the pace so far ends it."""

    start: date
    end: date
    through: date  # the last day counted: today in this month, else the month's last day
    so_far: Decimal
    projected: Decimal  # by `end`, at the average daily spend of the days so far
    cap: Decimal | None
    today: date

    @property
    def finished(self) -> bool:
        return self.today > self.end

    @property
    def over(self) -> bool:
        return self.cap is not None and self.projected > self.cap


def track(
    totals: dict[date, Decimal], *, start: date, end: date, today: date, cap: Decimal | None
) -> Track | None:
    """The month from `start` to `end` as seen on `today` (None before it begins)."""
    if today < start:
        return None
    through = min(today, end)
    so_far = sum((v for d, v in totals.items() if start <= d <= through), Decimal(0))
    elapsed = (through - start).days + 1
    days = (end - start).days + 1
    projected = so_far if through >= end else so_far / elapsed * days
    return Track(start, end, through, so_far, projected, cap, today)


def track_chart(totals: dict[date, Decimal], month: Track, *, label: str) -> SafeString:
    """The month's spend added up day by day (a solid line), the pace so far carried to the
    month's end (dashed), and the cap (a red dashed level), on one money axis."""
    days = (month.end - month.start).days + 1
    elapsed = (month.through - month.start).days + 1
    ticks = axis_ticks(max(month.so_far, month.projected, month.cap or Decimal(0)))
    top, step = ticks[-1], ticks[1] - ticks[0]
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h

    def x(day: int) -> float:  # the end of day `day` of the month, 0 its start
        return LEFT + day / days * plot_w

    def y(value: Decimal) -> float:
        return base - float(value / top) * plot_h

    running, points = Decimal(0), [(x(0), y(Decimal(0)))]
    for n in range(elapsed):
        running += totals.get(month.start + timedelta(days=n), Decimal(0))
        points.append((x(n + 1), y(running)))
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
    parts = [
        format_html(
            '<polyline class="track-line" points="{}"><title>{}</title></polyline>',
            line,
            f"Spent by {month.through:%-d %b}: {money.exact(month.so_far)}",
        )
    ]
    end_x, end_y = x(days), y(month.projected)
    if not month.finished:
        parts.append(
            format_html(
                '<line class="track-projection" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                f"{points[-1][0]:.1f}",
                f"{points[-1][1]:.1f}",
                f"{end_x:.1f}",
                f"{end_y:.1f}",
            )
        )
    # Over the point, unless the cap's line runs just over it (then under, if there is room).
    near_cap = month.cap is not None and 0 <= end_y - y(month.cap) < 24
    label_y = end_y + 18 if near_cap and end_y + 18 < base - 4 else end_y - 8
    parts.append(
        format_html(
            '<circle class="track-end" cx="{}" cy="{}" r="4"/>'
            '<text class="track-label" x="{}" y="{}" text-anchor="end">{}</text>',
            f"{end_x:.1f}",
            f"{end_y:.1f}",
            f"{end_x - 8:.1f}",
            f"{label_y:.1f}",
            ("spent " if month.finished else "projected ") + money.rounded(month.projected),
        )
    )
    if month.cap is not None:
        parts.append(
            format_html(
                '<line class="cap-line" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="cap-label" x="{}" y="{}">{}</text>',
                LEFT,
                f"{y(month.cap):.1f}",
                WIDTH - RIGHT,
                f"{y(month.cap):.1f}",
                LEFT + 6,
                f"{y(month.cap) - 5:.1f}",
                f"cap {money.rounded(month.cap)}",
            )
        )
    grid = [(f"{y(t):.1f}", f"{y(t) + 4:.1f}", tick_label(t, step)) for t in ticks]
    x_labels = [
        (f"{x(n) + plot_w / days / 2:.1f}", HEIGHT - 6, f"{month.start + timedelta(days=n):%-d}")
        for n in label_indexes(days)
    ]
    return format_html(
        '<svg class="spend-chart track-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<g class="grid">{}</g><line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>{}{}</svg>',
        label,
        WIDTH,
        HEIGHT,
        label,
        _gridlines(grid),
        LEFT,
        base,
        WIDTH - RIGHT,
        base,
        format_html_join(
            "", '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>', x_labels
        ),
        SafeString("".join(parts)),
    )


def _gridlines(grid: Iterable[tuple[object, object, object]]) -> SafeString:
    """The y-axis: a gridline at each (line y, label y, label) with its value at the left."""
    return format_html_join(
        "",
        '<line class="gridline" x1="'
        + str(LEFT)
        + '" y1="{0}" x2="'
        + str(WIDTH - RIGHT)
        + '" y2="{0}"/><text class="tick" x="'
        + str(LEFT - 6)
        + '" y="{1}" text-anchor="end">{2}</text>',
        grid,
    )
