"""The provider's models Darkroom uses: their ids and what their requests carry.

From the model pages summarised in docs/wavespeed.md.
"""

from __future__ import annotations

from typing import Any

KLING_IMAGE_O3 = "kwaivgi/kling-image-o3"
PROMPT_OPTIMIZER = "wavespeed-ai/prompt-optimizer"
KLING_ELEMENTS = "kwaivgi/kling-elements"

# The model page's defaults for Kling Image O3 [doc] (docs/wavespeed.md). A history that
# echoes a normalised input omits fields equal to these.
KLING_IMAGE_O3_DEFAULTS: dict[str, Any] = {
    "aspect_ratio": "auto",
    "resolution": "1k",
    "result_type": "single",
    "num_images": 1,
}
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {KLING_IMAGE_O3: KLING_IMAGE_O3_DEFAULTS}
# The model's documented parameters: a request is identified by these, whatever else a
# provider's echo of it carries.
MODEL_PARAMETERS: dict[str, frozenset[str]] = {
    KLING_IMAGE_O3: frozenset(
        {"prompt", "images", "aspect_ratio", "resolution", "result_type", "num_images"}
        | {"element_list"}
    ),
}


def normalised_input(model: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` without what carries no information: fields equal to the model's defaults,
    and empty values (an empty `images` list is the same request as none)."""
    defaults = MODEL_DEFAULTS.get(model, {})
    return {
        key: value
        for key, value in payload.items()
        if value not in (None, "", [], {}) and not (key in defaults and defaults[key] == value)
    }
