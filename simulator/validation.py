"""Input validation and pricing per model, exactly as documented (see spec.py for sources)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from simulator import spec


class InvalidInput(ValueError):
    """A submitted body that the API rejects with HTTP 400; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"Invalid parameter '{field}': {problem}")
        self.field = field


@dataclass(frozen=True)
class Plan:
    """What an accepted submit will produce."""

    model: str
    image_count: int  # images delivered (0 for text/id outputs); counts for images-per-minute
    cost: float  # USD charged when it completes
    fast: bool  # "completes quickly" models cap the latency
    media_urls: tuple[str, ...]  # URLs the model would fetch


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _optional(body: dict[str, Any], key: str, default: Any) -> Any:
    # [inferred] an explicit JSON null counts as "not given"
    value = body.get(key)
    return default if value is None else value


def _string_choice(body: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = _optional(body, key, default)
    if value not in choices:
        raise InvalidInput(key, f"must be one of {', '.join(choices)}")
    return value


def _integer(body: dict[str, Any], key: str, low: int, high: int, default: int) -> int:
    value = _optional(body, key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(key, f"must be an integer from {low} to {high}")
    return value


def _text(body: dict[str, Any], key: str, max_chars: int, *, required: bool) -> str:
    value = body.get(key)
    if value is None:
        if required:
            raise InvalidInput(key, "is required")
        return ""
    if not isinstance(value, str):
        raise InvalidInput(key, "must be a string")
    if required and not value.strip():
        raise InvalidInput(key, "must not be empty")
    if len(value) > max_chars:
        raise InvalidInput(key, f"must be at most {max_chars} characters (got {len(value)})")
    return value


def _url_list(body: dict[str, Any], key: str, max_items: int, *, required: bool) -> list[str]:
    value = body.get(key)
    if value is None:
        value = []
    if not isinstance(value, list):
        raise InvalidInput(key, "must be a list of image URLs")
    if required and not value:
        raise InvalidInput(key, "must contain at least one URL")
    if len(value) > max_items:
        raise InvalidInput(key, f"must contain at most {max_items} items (got {len(value)})")
    for index, item in enumerate(value):
        if not is_http_url(item):
            raise InvalidInput(f"{key}[{index}]", "must be an http(s) URL")
    return value


def _validate_kling_image_o3(body: dict[str, Any]) -> Plan:
    _text(body, "prompt", spec.MAX_PROMPT_CHARS, required=True)
    images = _url_list(body, "images", spec.MAX_REFERENCE_IMAGES, required=False)
    defaults = spec.KLING_IMAGE_O3_DEFAULTS
    _string_choice(body, "aspect_ratio", spec.ASPECT_RATIOS, str(defaults["aspect_ratio"]))
    resolution = _string_choice(body, "resolution", spec.RESOLUTIONS, str(defaults["resolution"]))
    result_type = _string_choice(
        body, "result_type", spec.RESULT_TYPES, str(defaults["result_type"])
    )
    num_images = _integer(
        body, "num_images", spec.NUM_IMAGES_MIN, spec.NUM_IMAGES_MAX, int(defaults["num_images"])
    )
    elements = body.get("element_list")
    if elements is None:
        elements = []
    if not isinstance(elements, list):
        raise InvalidInput("element_list", 'must be a list of {"element_id": ...} objects')
    if len(elements) > spec.MAX_ELEMENTS:
        raise InvalidInput(
            "element_list", f"must contain at most {spec.MAX_ELEMENTS} items (got {len(elements)})"
        )
    for index, element in enumerate(elements):
        element_id = element.get("element_id") if isinstance(element, dict) else None
        if not isinstance(element_id, str) or not element_id.strip():
            raise InvalidInput(
                f"element_list[{index}]", 'must be an object {"element_id": "<non-empty string>"}'
            )
    if len(images) + len(elements) > spec.MAX_REFERENCES_PLUS_ELEMENTS:
        raise InvalidInput(
            "images",
            f"reference images plus elements must be at most {spec.MAX_REFERENCES_PLUS_ELEMENTS}"
            f" (got {len(images)} + {len(elements)})",
        )
    count = spec.SERIES_IMAGE_COUNT if result_type == "series" else num_images
    cost = round(spec.PRICE_PER_IMAGE[resolution] * count, 6)
    return Plan(spec.KLING_IMAGE_O3, count, cost, fast=False, media_urls=tuple(images))


def _validate_prompt_optimizer(body: dict[str, Any]) -> Plan:
    _text(body, "text", spec.MAX_PROMPT_CHARS, required=True)
    _string_choice(body, "style", spec.OPTIMIZER_STYLES, spec.OPTIMIZER_ASSUMED["style"])
    _string_choice(body, "mode", spec.OPTIMIZER_MODES, spec.OPTIMIZER_ASSUMED["mode"])
    return Plan(spec.PROMPT_OPTIMIZER, 0, spec.PROMPT_OPTIMIZER_PRICE, fast=True, media_urls=())


def _validate_kling_elements(body: dict[str, Any]) -> Plan:
    _text(body, "name", spec.ELEMENT_NAME_MAX, required=True)
    _text(
        body,
        "description",
        spec.ELEMENT_DESCRIPTION_MAX,
        required=spec.ELEMENT_DESCRIPTION_REQUIRED,
    )
    image = body.get("image")
    if image is None:
        raise InvalidInput("image", "is required")
    if not is_http_url(image):
        raise InvalidInput("image", "must be an http(s) URL")
    refs = _url_list(body, "element_refer_list", spec.MAX_REFERENCE_IMAGES, required=True)
    return Plan(
        spec.KLING_ELEMENTS, 0, spec.KLING_ELEMENTS_PRICE, fast=True, media_urls=(image, *refs)
    )


VALIDATORS = {
    spec.KLING_IMAGE_O3: _validate_kling_image_o3,
    spec.PROMPT_OPTIMIZER: _validate_prompt_optimizer,
    spec.KLING_ELEMENTS: _validate_kling_elements,
}


def without_defaults(model: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` minus every field equal to `model`'s documented default (spec.INPUT_DEFAULTS).

    Only omits: nothing is filled in, and other fields (unknown ones too) are kept as sent."""
    defaults = spec.INPUT_DEFAULTS.get(model, {})
    return {
        key: value
        for key, value in body.items()
        if not (key in defaults and _same_json(value, defaults[key]))
    }


def _same_json(value: Any, default: Any) -> bool:
    # JSON equality: 1 == 1.0, but true is not 1
    return isinstance(value, bool) == isinstance(default, bool) and value == default


def validate(model: str, body: Any) -> Plan:
    """Check a submit body for `model`; raise InvalidInput (HTTP 400) naming the bad field."""
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    return VALIDATORS[model](body)
