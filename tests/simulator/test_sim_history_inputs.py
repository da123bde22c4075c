"""Config history_inputs: how POST /api/v3/predictions echoes each prediction's input."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api

from simulator import spec
from simulator.config import SimulatorConfig

OPTIMIZER = "/api/v3/wavespeed-ai/prompt-optimizer"
# every documented default given explicitly, plus fields without a default and an unknown one
ALL_DEFAULTS = {
    "prompt": "defaults everywhere",
    "images": [],
    "aspect_ratio": "auto",
    "resolution": "1k",
    "result_type": "single",
    "num_images": 1,
    "element_list": [],
    "seed_note": "kept",
}
NO_DEFAULTS = {
    "prompt": "nothing default",
    "images": ["https://example.com/a.png"],
    "aspect_ratio": "16:9",
    "resolution": "2k",
    "result_type": "series",
    "num_images": 3,
}


def _items(api: Api) -> list[dict[str, Any]]:
    response = api.http.post("/api/v3/predictions", json={})
    assert response.status_code == 200, response.text
    return response.json()["data"]["items"]


def _submit_three(api: Api) -> list[str]:
    """Two Kling predictions and one optimizer run, oldest first."""
    ids = [api.submit_ok(ALL_DEFAULTS)["id"], api.submit_ok(NO_DEFAULTS)["id"]]
    optimizer = api.http.post(OPTIMIZER, json={"text": "t", "style": "default", "mode": "image"})
    assert optimizer.status_code == 200, optimizer.text
    ids.append(optimizer.json()["data"]["id"])
    return ids


def test_defaults_table_matches_the_model_page() -> None:
    # docs/wavespeed.md: the model page's request-parameter table, Default column
    assert spec.KLING_IMAGE_O3_DEFAULTS == {
        "images": [],
        "aspect_ratio": "auto",
        "resolution": "1k",
        "result_type": "single",
        "num_images": 1,
    }
    assert spec.INPUT_DEFAULTS == {spec.KLING_IMAGE_O3: spec.KLING_IMAGE_O3_DEFAULTS}


def test_exact_is_the_default_and_echoes_inputs_as_submitted(api: Api) -> None:
    assert api.control("config")["history_inputs"] == "exact"
    _submit_three(api)
    inputs = [item["input"] for item in reversed(_items(api))]
    assert inputs == [
        ALL_DEFAULTS,
        NO_DEFAULTS,
        {"text": "t", "style": "default", "mode": "image"},
    ]


def test_normalised_omits_fields_equal_to_documented_defaults(api: Api) -> None:
    assert api.control("config", {"history_inputs": "normalised"})["history_inputs"] == (
        "normalised"
    )
    kling_defaults, kling_custom, optimizer = _submit_three(api)
    sparse = api.submit_ok({"prompt": "sparse", "num_images": 1.0})["id"]
    by_id = {item["id"]: item for item in _items(api)}
    # omitted only: element_list has no documented default, unknown fields stay, none added
    assert by_id[kling_defaults]["input"] == {
        "prompt": "defaults everywhere",
        "element_list": [],
        "seed_note": "kept",
    }
    assert by_id[kling_custom]["input"] == NO_DEFAULTS
    assert by_id[sparse]["input"] == {"prompt": "sparse"}  # 1.0 is the JSON number 1
    # the optimizer's style/mode fallbacks are not documented defaults: echoed as sent
    assert by_id[optimizer]["input"] == {"text": "t", "style": "default", "mode": "image"}
    # /result, the control listing and the stored input are untouched
    assert api.get(kling_defaults)["input"] == ALL_DEFAULTS
    stored = {p["id"]: p["input"] for p in api.control("predictions")}
    assert stored[kling_defaults] == ALL_DEFAULTS


def test_none_leaves_input_out_of_history_items(api: Api) -> None:
    api.control("config", {"history_inputs": "none"})
    ids = _submit_three(api)
    items = _items(api)
    assert sorted(item["id"] for item in items) == sorted(ids)
    assert all("input" not in item for item in items)
    assert all("defaults everywhere" not in str(item) for item in items)
    assert api.get(ids[0])["input"] == ALL_DEFAULTS  # /result unchanged


def test_mode_applies_to_predictions_already_made_and_reset_restores(api: Api) -> None:
    prediction_id = api.submit_ok(ALL_DEFAULTS)["id"]
    api.control("config", {"history_inputs": "none"})
    assert "input" not in _items(api)[0]
    api.control("config", {"history_inputs": "normalised"})
    assert _items(api)[0]["input"]["prompt"] == "defaults everywhere"
    assert "aspect_ratio" not in _items(api)[0]["input"]
    api.control("config", {"history_inputs": "exact"})
    assert _items(api)[0]["input"] == ALL_DEFAULTS
    api.control("config", {"history_inputs": "none"})
    api.control("reset")
    assert api.control("config")["history_inputs"] == "exact"
    assert api.http.get(f"/api/v3/predictions/{prediction_id}").status_code == 404


def test_submit_answer_keeps_the_exact_input(api: Api) -> None:
    # submit, /result and webhook bodies are Prediction.public() with no mode: only history varies
    api.control("config", {"history_inputs": "none"})
    prediction = api.submit_ok(ALL_DEFAULTS)
    assert prediction["input"] == ALL_DEFAULTS  # the submit answer too


@pytest.mark.parametrize("value", ["normalized", "", None, 1, ["exact"]])
def test_bad_history_inputs_is_400_naming_it(api: Api, value: Any) -> None:
    response = api.bare.post("/_sim/config", json={"history_inputs": value})
    assert response.status_code == 400
    assert response.json()["message"] == ("history_inputs: must be one of exact, normalised, none")
    assert api.control("config")["history_inputs"] == "exact"


def test_history_inputs_from_env_and_constructor() -> None:
    assert SimulatorConfig.from_env({"SIM_HISTORY_INPUTS": "none"}).history_inputs == "none"
    assert SimulatorConfig.from_env({}).history_inputs == "exact"
    with pytest.raises(ValueError, match=r"^history_inputs: must be one of"):
        SimulatorConfig.from_env({"SIM_HISTORY_INPUTS": "sometimes"})
    with pytest.raises(ValueError, match=r"^history_inputs:"):
        SimulatorConfig(history_inputs="all")
