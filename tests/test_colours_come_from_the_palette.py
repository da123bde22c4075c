"""Every colour of the pages is named in static/css/palette.css, once for each theme: the
other stylesheets use its custom properties, so a new rule cannot bring back a colour that
only one theme was checked with."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[1] / "static" / "css"
COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch)\(|"
    r"(?<![-\w])(?:white|black|gr[ae]y|red|green|blue|yellow|orange|silver)(?![-\w])"
)


def without_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


@pytest.mark.parametrize(
    "sheet", sorted(p.name for p in CSS.glob("*.css") if p.name != "palette.css")
)
def test_a_stylesheet_names_no_colour_of_its_own(sheet: str) -> None:
    found = COLOUR.findall(without_comments((CSS / sheet).read_text()))

    assert not found, f"{sheet} has colours of its own: {found}; add them to palette.css"


def test_the_check_finds_a_colour() -> None:
    assert COLOUR.findall(".x { color: #fff; background: rgb(0 0 0 / .5); border: 1px solid red; }")
    assert not COLOUR.findall(".x { white-space: nowrap; color: var(--text); }")


def test_the_palette_gives_each_colour_for_both_themes() -> None:
    palette = without_comments((CSS / "palette.css").read_text())
    tokens = dict(re.findall(r"(--[\w-]+):\s*([^;]+);", palette))

    assert {"--bg", "--panel", "--text", "--muted", "--field-line", "--accent-ink"} <= set(tokens)
    themed = {name for name, value in tokens.items() if value.startswith("light-dark(")}
    for name in ("--bg", "--panel", "--panel-2", "--field", "--text", "--muted", "--bad"):
        assert name in themed, name
