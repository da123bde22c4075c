"""Prices of Kling Image O3 on WaveSpeed, per image by resolution, from the dated price table."""

from __future__ import annotations

from decimal import Decimal

from spend import money
from spend.services import price_for
from wavespeed.specs import KLING_IMAGE_O3

# [inferred] How many images a series may deliver: WaveSpeed does not say, so a series holds
# the most a run can make (9) and is charged for what it delivers.
SERIES_HOLD_IMAGES = 9


def price_per_image(resolution: str, model: str = KLING_IMAGE_O3) -> Decimal:
    return price_for(model=model, resolution=resolution)


def held_images(*, num_images: int, series: bool) -> int:
    """How many images a run holds money for before it is sent."""
    return SERIES_HOLD_IMAGES if series else num_images


def format_usd(amount: Decimal) -> str:
    """A price or a quote's total: exact, as in the spend tables ($0.0280)."""
    return money.exact(amount)
