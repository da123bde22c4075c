"""A deterministic stand-in for wavespeed-ai/prompt-optimizer: visibly richer, never random."""

from __future__ import annotations

import hashlib

_STYLE_PHRASES = {
    "default": "rich detail, balanced composition, natural colours",
    "artistic": "painterly brushwork, expressive colour palette, fine-art composition",
    "photographic": "shot on a full-frame camera with a 50mm lens, shallow depth of field",
    "technical": "precise technical illustration, clean lines, accurate proportions",
    "anime": "anime illustration style, crisp line art, vibrant cel shading",
    "realistic": "photorealistic, lifelike textures, true-to-life colours",
}
_LIGHTING = (
    "soft golden-hour lighting",
    "dramatic rim lighting",
    "diffused overcast light",
    "cinematic low-key lighting",
)
_CAMERA = (
    "eye-level medium shot",
    "low-angle wide shot",
    "close-up with gentle bokeh",
    "three-quarter view",
)
_FINISH = "highly detailed, sharp focus, high resolution"


def enhance_prompt(text: str, style: str = "default") -> str:
    """Rewrite `text` with style, lighting, camera and detail phrases chosen by its hash."""
    base = " ".join(text.split()).rstrip(" .,;")
    pick = hashlib.sha256(f"{style}:{base}".encode()).digest()
    lighting = _LIGHTING[pick[0] % len(_LIGHTING)]
    camera = _CAMERA[pick[1] % len(_CAMERA)]
    style_phrase = _STYLE_PHRASES.get(style, _STYLE_PHRASES["default"])
    return f"{base}, {style_phrase}, {lighting}, {camera}, {_FINISH}."
