"""Example prompts for a first run: each fills the Generate form (prompt and options) on a click.

Cheap settings on purpose (1k, one to four images): a first try should not cost much.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import AspectRatio, Resolution, ResultType


@dataclass(frozen=True)
class Example:
    key: str
    title: str
    prompt: str
    aspect_ratio: str = AspectRatio.AUTO
    resolution: str = Resolution.R1K
    result_type: str = ResultType.SINGLE
    num_images: int = 1

    def initial(self) -> dict[str, object]:
        """The Generate form's values for this example."""
        return {
            "prompt": self.prompt,
            "aspect_ratio": self.aspect_ratio,
            "resolution": self.resolution,
            "result_type": self.result_type,
            "num_images": self.num_images,
        }

    @property
    def summary(self) -> str:
        """The options in a few words: "16:9 · 1k · 2 images"."""
        if self.result_type == ResultType.SERIES:
            count = "a series"
        else:
            count = f"{self.num_images} image{'' if self.num_images == 1 else 's'}"
        return f"{self.aspect_ratio} · {self.resolution} · {count}"


EXAMPLES = (
    Example(
        key="lighthouse",
        title="Lighthouse at dusk",
        prompt="A lighthouse on a basalt cliff at dusk, long exposure, storm clouds rolling in, "
        "waves blurred to mist, warm light in the lantern room, cinematic wide shot",
        aspect_ratio=AspectRatio.LANDSCAPE_16_9,
        num_images=2,
    ),
    Example(
        key="product",
        title="Product shot",
        prompt="A matte black ceramic coffee cup on a travertine plinth, soft window light from "
        "the left, pale sand background, studio product photography, crisp soft shadows",
        aspect_ratio=AspectRatio.SQUARE,
        num_images=4,
    ),
    Example(
        key="portrait",
        title="Portrait",
        prompt="Close-up portrait of an old fisherman with a weathered face and a red knitted "
        "cap, overcast harbour light, 85 mm lens, shallow depth of field, fine film grain",
        aspect_ratio=AspectRatio.PORTRAIT_3_4,
        num_images=2,
    ),
    Example(
        key="poster",
        title="Travel poster",
        prompt="Minimalist travel poster of Lisbon: a yellow tram on a steep cobbled street, "
        'bold flat shapes, warm evening palette, the title "LISBOA" in large letters at the top',
        aspect_ratio=AspectRatio.PORTRAIT_2_3,
    ),
    Example(
        key="isometric",
        title="Isometric island",
        prompt="Isometric illustration of a tiny floating island town with tiled roofs, a canal, "
        "cherry trees and a windmill, soft pastel palette, clean vector style, white background",
        aspect_ratio=AspectRatio.SQUARE,
        num_images=2,
    ),
    Example(
        key="story",
        title="Storybook series",
        prompt="A small red fox explores an abandoned glass greenhouse from dawn to night, the "
        "same fox in every image, painterly storybook illustration, gentle light",
        aspect_ratio=AspectRatio.LANDSCAPE_3_2,
        result_type=ResultType.SERIES,
    ),
)

_BY_KEY = {example.key: example for example in EXAMPLES}


def by_key(key: str) -> Example | None:
    return _BY_KEY.get(key)
