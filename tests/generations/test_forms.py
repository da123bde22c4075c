from __future__ import annotations

import pytest

from generations.forms import GenerateForm

VALID = {
    "prompt": "a red fox in snow",
    "aspect_ratio": "16:9",
    "resolution": "2k",
    "result_type": "single",
    "num_images": "3",
}


def form(**changes: str) -> GenerateForm:
    return GenerateForm(data={**VALID, **changes})


def test_a_full_form_is_valid_and_becomes_params() -> None:
    f = form()
    assert f.is_valid(), f.errors
    params = f.to_params()
    assert (params.prompt, params.aspect_ratio, params.resolution, params.num_images) == (
        "a red fox in snow",
        "16:9",
        "2k",
        3,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("prompt", "", "Write a prompt"),
        ("prompt", "   ", "Write a prompt"),
        ("prompt", "x" * 2501, "at most 2500 characters"),
        ("num_images", "0", "at least 1"),
        ("num_images", "10", "at most 9"),
        ("num_images", "two", "whole number"),
        ("aspect_ratio", "5:4", "not one of the available choices"),
        ("resolution", "8k", "not one of the available choices"),
        ("result_type", "grid", "not one of the available choices"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(field: str, value: str, message: str) -> None:
    f = form(**{field: value})
    assert not f.is_valid()
    assert list(f.errors) == [field]
    assert message in " ".join(f.errors[field])


def test_every_documented_aspect_ratio_is_offered() -> None:
    offered = [value for value, _ in GenerateForm().fields["aspect_ratio"].choices]
    assert offered == ["auto", "16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9"]


def test_a_prompt_of_2500_characters_is_fine() -> None:
    assert form(prompt="y" * 2500).is_valid()
