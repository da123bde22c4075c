"""Prices of Kling Image O3 on WaveSpeed, per image by resolution, from the dated price table."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from spend import money
from spend.services import first_exceeded, price_for, standings
from wavespeed.specs import KLING_IMAGE_O3

from .models import ResultType

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from projects.models import Project

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


def quote(
    data: dict[str, Any], *, person: AbstractBaseUser, project: Project | None
) -> dict[str, Any]:
    """The price of a run before it is made, as the Generate form shows it live and the API's
    quote answers: `data` is a QuoteForm's cleaned data (resolution, num_images, result_type;
    missing values take the form's defaults); `project` one the person may generate in, or None
    for personal work. `refusal` is the budget refusal a submit would meet now ("" if none)."""
    resolution = data.get("resolution") or "1k"
    num_images = data.get("num_images") or 1
    series = data.get("result_type") == ResultType.SERIES
    price = price_per_image(resolution)
    # What the submit will hold: a series holds the most a run can deliver.
    hold = price * held_images(num_images=num_images, series=series)
    budgets = standings(person_id=person.pk, project_id=project.pk if project else None)
    refusal = first_exceeded(budgets, hold)
    return {
        "resolution": resolution,
        "num_images": num_images,
        "series": series,
        "price": format_usd(price),
        "total": format_usd(price * num_images),
        "price_amount": price,
        "total_amount": price * num_images,
        "hold": hold,
        "budgets": budgets,
        "refusal": str(refusal) if refusal else "",
    }
