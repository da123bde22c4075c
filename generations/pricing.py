"""Prices of Kling Image O3 on WaveSpeed: per image, by resolution."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings


def price_per_image(resolution: str) -> Decimal:
    return settings.KLING_PRICE_PER_IMAGE[resolution]


def quote(*, resolution: str, num_images: int) -> Decimal:
    """The cost of a run before it is sent: the price times the number of images."""
    return price_per_image(resolution) * num_images


def format_usd(amount: Decimal) -> str:
    return f"${amount:.3f}"
