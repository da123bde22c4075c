"""WaveSpeed's published prices (docs/wavespeed.md), as first loaded into the table."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

KLING_IMAGE_O3 = "kwaivgi/kling-image-o3"
KLING_PRICES = {"1k": Decimal("0.028"), "2k": Decimal("0.028"), "4k": Decimal("0.056")}
SINCE = datetime(2025, 1, 1, tzinfo=UTC)

# The prompt enhancer is priced per use, not per image at a resolution: its rows carry this
# placeholder resolution ("about $0.001 a use" on WaveSpeed's playground).
PROMPT_OPTIMIZER = "wavespeed-ai/prompt-optimizer"
PER_USE = "-"
PROMPT_OPTIMIZER_PRICE = Decimal("0.001")

# "Create on Kling" (elements/creation.py) is priced per use like the enhancer, but WaveSpeed
# publishes no price for it (docs/wavespeed.md): staff add its `Price` row in the admin, and
# until they do, creating elements on Kling is refused. Nothing is loaded here.
KLING_ELEMENTS = "kwaivgi/kling-elements"


def add_published_prices(price_model) -> None:
    for resolution, per_image in KLING_PRICES.items():
        price_model.objects.get_or_create(
            model=KLING_IMAGE_O3,
            resolution=resolution,
            valid_from=SINCE,
            defaults={"per_image": per_image},
        )
    add_enhancer_price(price_model)


def add_enhancer_price(price_model) -> None:
    price_model.objects.get_or_create(
        model=PROMPT_OPTIMIZER,
        resolution=PER_USE,
        valid_from=SINCE,
        defaults={"per_image": PROMPT_OPTIMIZER_PRICE},
    )
