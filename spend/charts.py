"""A small server-drawn bar chart: inline SVG, no JavaScript, readable by screen readers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 720
HEIGHT = 180
AXIS = 20  # room under the bars for day labels
TOP = 8


def daily_bars(totals: dict[date, Decimal], *, start: date, end: date, label: str) -> SafeString:
    """One slot per day from `start` to `end`, and a bar (with a <title>) per day that has spend.

    The bars carry their own text, so the chart is also a list of days and amounts to a screen
    reader; the page shows the same figures in tables for everyone else."""
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    slot = WIDTH / max(len(days), 1)
    peak = max((v for v in totals.values() if v > 0), default=Decimal(0))
    plot = HEIGHT - AXIS - TOP
    bars = []
    for n, day in enumerate(days):
        value = totals.get(day, Decimal(0))
        if value <= 0:
            continue
        height = max(float(value / peak) * plot, 1.0)
        bars.append(
            (
                f"{n * slot + slot * 0.15:.1f}",
                f"{TOP + plot - height:.1f}",
                f"{slot * 0.7:.1f}",
                f"{height:.1f}",
                f"{day:%a %-d %b %Y}: ${value:.3f}",
            )
        )
    ticks = [
        (f"{n * slot + slot / 2:.1f}", HEIGHT - 5, f"{day:%-d}")
        for n, day in enumerate(days)
        if len(days) <= 31 and (day.day == 1 or day.day % 7 == 1 or n == len(days) - 1)
    ]
    return format_html(
        '<svg class="spend-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" '
        'xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>"
        '<line class="axis" x1="0" y1="{}" x2="{}" y2="{}"/>'
        "{}{}</svg>",
        label,
        WIDTH,
        HEIGHT,
        label,
        TOP + plot,
        WIDTH,
        TOP + plot,
        format_html_join(
            "",
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
            bars,
        ),
        format_html_join(
            "", '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>', ticks
        ),
    )
