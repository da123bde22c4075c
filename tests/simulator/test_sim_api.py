"""Submit, validation, auth, balance, history, delete and the other models."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import KLING, Api, FakeClock

PREDICTION_KEYS = {
    "id",
    "model",
    "outputs",
    "urls",
    "has_nsfw_contents",
    "status",
    "created_at",
    "error",
    "timings",
    "input",
    "executionTime",
}


def test_submit_answers_envelope_with_created_prediction(api: Api) -> None:
    body = {"prompt": "a lighthouse at dusk", "aspect_ratio": "16:9", "num_images": 2}
    response = api.submit(body)

    assert response.status_code == 200
    envelope = response.json()
    assert envelope["code"] == 200
    assert envelope["message"] == "success"
    data = envelope["data"]
    assert set(data) == PREDICTION_KEYS
    assert data["model"] == "kwaivgi/kling-image-o3"
    assert data["status"] == "created"
    assert data["outputs"] == []
    assert data["has_nsfw_contents"] == []
    assert data["error"] == ""
    assert data["input"] == body
    assert data["urls"]["get"] == f"{api.base_url}/api/v3/predictions/{data['id']}/result"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["created_at"])
    assert isinstance(data["timings"]["inference"], int)


def test_get_prediction_by_both_urls_and_unknown_is_404(api: Api) -> None:
    prediction = api.submit_ok()
    for path in (f"/api/v3/predictions/{prediction['id']}", prediction["urls"]["get"]):
        response = api.http.get(path)
        assert response.status_code == 200
        assert response.json()["data"]["id"] == prediction["id"]

    missing = api.http.get("/api/v3/predictions/nope/result")
    assert missing.status_code == 404
    assert missing.json()["code"] == 404
    assert missing.json()["data"] is None
    assert "nope" in missing.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": 42}, "prompt"),
        ({"prompt": "x" * 2501}, "prompt"),
        ({"prompt": "p", "images": "http://a/b.png"}, "images"),
        ({"prompt": "p", "images": ["ftp://a/b.png"]}, "images[0]"),
        ({"prompt": "p", "images": ["https://a/ok.png", 3]}, "images[1]"),
        ({"prompt": "p", "images": [f"https://a/{i}.png" for i in range(11)]}, "images"),
        ({"prompt": "p", "aspect_ratio": "5:4"}, "aspect_ratio"),
        ({"prompt": "p", "resolution": "8k"}, "resolution"),
        ({"prompt": "p", "resolution": "1K"}, "resolution"),
        ({"prompt": "p", "result_type": "group"}, "result_type"),
        ({"prompt": "p", "num_images": 0}, "num_images"),
        ({"prompt": "p", "num_images": 10}, "num_images"),
        ({"prompt": "p", "num_images": "2"}, "num_images"),
        ({"prompt": "p", "num_images": 1.5}, "num_images"),
        ({"prompt": "p", "num_images": True}, "num_images"),
        ({"prompt": "p", "element_list": {"element_id": "1"}}, "element_list"),
        (
            {"prompt": "p", "element_list": [{"element_id": str(i)} for i in range(4)]},
            "element_list",
        ),
        ({"prompt": "p", "element_list": [{"id": "1"}]}, "element_list[0]"),
        ({"prompt": "p", "element_list": ["1"]}, "element_list[0]"),
        (
            {
                "prompt": "p",
                "images": [f"https://a/{i}.png" for i in range(8)],
                "element_list": [{"element_id": "1"}, {"element_id": "2"}, {"element_id": "3"}],
            },
            "images",
        ),
    ],
)
def test_invalid_submit_is_400_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.submit(body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == 400
    assert f"'{field}'" in payload["message"]
    assert api.control("predictions") == []


def test_body_that_is_not_a_json_object_is_400(api: Api) -> None:
    not_json = api.http.post(KLING, content=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert "JSON" in not_json.json()["message"]
    a_list = api.http.post(KLING, json=["prompt"])
    assert a_list.status_code == 400


def test_valid_edges_and_unknown_keys_are_accepted(api: Api) -> None:
    body = {
        "prompt": "x" * 2500,
        "images": [f"https://cdn.example/{i}.png" for i in range(7)],
        "element_list": [{"element_id": "a"}, {"element_id": "b"}, {"element_id": "c"}],
        "aspect_ratio": "21:9",
        "resolution": "4k",
        "result_type": "series",
        "num_images": 9,
        "enable_sync_mode": False,
        "something_new": {"ignored": True},
    }
    assert api.submit_ok(body)["input"] == body


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authorization"),
        ({"Authorization": ""}, "Authorization"),
        ({"Authorization": "Bearer"}, "Authorization"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Authorization"),
    ],
)
def test_missing_or_malformed_auth_is_401(api: Api, headers: dict[str, str], message: str) -> None:
    for method, path in [
        ("POST", KLING),
        ("GET", "/api/v3/balance"),
        ("POST", "/api/v3/predictions"),
    ]:
        response = api.bare.request(method, path, json={"prompt": "p"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == 401
        assert message in response.json()["message"]
    assert api.control("predictions") == []


def test_rejected_key_is_401_invalid_api_key(api: Api) -> None:
    api.control("config", {"rejected_keys": ["test-key"]})
    response = api.submit()
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Invalid API key", "data": None}
    other = api.bare.get("/api/v3/balance", headers={"Authorization": "Bearer other-key"})
    assert other.status_code == 200


def test_unknown_model_and_route(api: Api) -> None:
    assert api.http.post("/api/v3/someone/other-model", json={"prompt": "p"}).status_code == 404
    assert api.http.get("/api/v3/nothing/here/at/all").status_code == 404
    assert api.http.get("/api/v3/predictions/delete").status_code == 404  # an id, not a route
    assert api.http.put("/api/v3/balance").status_code == 405


def test_balance_is_charged_for_completed_predictions_only(api: Api) -> None:
    def balance() -> float:
        return api.http.get("/api/v3/balance").json()["data"]["balance"]

    assert balance() == 1000
    first = api.submit_ok({"prompt": "p", "num_images": 3})  # 3 x 0.028
    second = api.submit_ok({"prompt": "p", "resolution": "4k", "result_type": "series"})  # 4 x .056
    assert balance() == 1000  # nothing charged before completion
    api.fault(kind="fail_prediction", code=5000)
    failed = api.submit_ok({"prompt": "p", "num_images": 9})
    for prediction in (first, second, failed):
        api.wait(prediction["id"])
    assert balance() == pytest.approx(1000 - 3 * 0.028 - 4 * 0.056)


def test_insufficient_balance_is_402(api: Api) -> None:
    api.control("config", {"balance": 0.1})
    ok = api.submit({"prompt": "p", "num_images": 3})  # 0.084
    assert ok.status_code == 200
    too_much = api.submit({"prompt": "p", "resolution": "4k", "num_images": 2})  # 0.112
    assert too_much.status_code == 402
    assert too_much.json() == {"code": 402, "message": "Insufficient balance", "data": None}
    assert len(api.control("predictions")) == 1


def test_images_per_minute_gives_429_with_retry_after(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    api.control("config", {"images_per_minute": 3})
    api.submit_ok({"prompt": "p", "num_images": 2})
    clock.advance(10)
    api.submit_ok({"prompt": "p"})
    clock.advance(5)
    limited = api.submit({"prompt": "p"})
    assert limited.status_code == 429
    assert limited.json()["code"] == 429
    assert limited.headers["Retry-After"] == "45"  # the first 2 images leave the window at 60 s
    clock.advance(45)
    assert api.submit({"prompt": "p"}).status_code == 200
    # the prompt optimizer makes no images, so it is not limited
    assert api.http.post("/api/v3/wavespeed-ai/prompt-optimizer", json={"text": "t"}).is_success


def test_prompt_optimizer_outputs_a_richer_string(api: Api) -> None:
    response = api.http.post(
        "/api/v3/wavespeed-ai/prompt-optimizer",
        json={"text": "a cat on a windowsill", "style": "photographic", "mode": "image"},
    )
    assert response.status_code == 200
    created = response.json()["data"]
    assert created["model"] == "wavespeed-ai/prompt-optimizer"
    done = api.wait(created["id"], timeout=2)
    assert done["status"] == "completed"
    (text,) = done["outputs"]
    assert isinstance(text, str)
    assert text.startswith("a cat on a windowsill")
    assert len(text) > 2 * len("a cat on a windowsill")
    assert "lens" in text  # the photographic style phrase
    again = api.http.post(
        "/api/v3/wavespeed-ai/prompt-optimizer",
        json={"text": "a cat on a windowsill", "style": "photographic"},
    ).json()["data"]
    assert api.wait(again["id"])["outputs"] == [text]  # deterministic
    balance = api.http.get("/api/v3/balance").json()["data"]["balance"]
    assert balance == pytest.approx(1000 - 2 * 0.001)


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "text"), ({"text": ""}, "text"), ({"text": "t", "style": "noir"}, "style")],
)
def test_prompt_optimizer_validation(api: Api, body: dict[str, Any], field: str) -> None:
    response = api.http.post("/api/v3/wavespeed-ai/prompt-optimizer", json=body)
    assert response.status_code == 400
    assert f"'{field}'" in response.json()["message"]


def test_kling_elements_outputs_an_element_id(api: Api) -> None:
    body = {
        "name": "Captain Fox",
        "description": "An orange fox in a blue coat",
        "image": "https://example.com/front.png",
        "element_refer_list": ["https://example.com/side.png"],
    }
    created = api.http.post("/api/v3/kwaivgi/kling-elements", json=body).json()["data"]
    done = api.wait(created["id"], timeout=2)
    assert done["status"] == "completed"
    assert isinstance(done["outputs"][0]["element_id"], str)
    assert done["outputs"][0]["element_id"]

    for bad, field in [
        ({**body, "name": "n" * 21}, "name"),
        ({**body, "description": "d" * 101}, "description"),
        ({**body, "image": "front.png"}, "image"),
        ({**body, "element_refer_list": []}, "element_refer_list"),
    ]:
        response = api.http.post("/api/v3/kwaivgi/kling-elements", json=bad)
        assert response.status_code == 400
        assert f"'{field}'" in response.json()["message"]


def _history(api: Api, **body: Any) -> dict[str, Any]:
    response = api.http.post("/api/v3/predictions", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_history_filters_pages_and_includes_input(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    first = api.submit_ok({"prompt": "first"})
    clock.advance(2)
    middle = api.submit_ok({"prompt": "middle", "num_images": 2})
    clock.advance(2)
    enhance = api.http.post("/api/v3/wavespeed-ai/prompt-optimizer", json={"text": "t"}).json()
    last = api.submit_ok({"prompt": "last"})

    everything = _history(api)
    assert everything["page"] == 1
    assert everything["total"] == 4
    ids = [item["id"] for item in everything["items"]]
    assert ids == [last["id"], enhance["data"]["id"], middle["id"], first["id"]]  # newest first
    assert everything["items"][2]["input"] == {"prompt": "middle", "num_images": 2}

    kling = _history(api, model="kwaivgi/kling-image-o3")
    assert kling["total"] == 3
    page2 = _history(api, model="kwaivgi/kling-image-o3", page=2, page_size=2)
    assert [item["id"] for item in page2["items"]] == [first["id"]]
    assert page2["page"] == 2

    # first and middle are completed by now; last was just submitted
    assert {i["id"] for i in _history(api, status="completed")["items"]} == {
        first["id"],
        middle["id"],
    }
    assert [i["id"] for i in _history(api, status="created")["items"]] == [
        last["id"],
        enhance["data"]["id"],
    ]

    since = _history(api, created_after=middle["created_at"])
    assert since["total"] == 3
    until = _history(api, created_before=middle["created_at"])
    assert [item["id"] for item in until["items"]] == [middle["id"], first["id"]]

    clock.advance(7 * 24 * 3600 - 3)  # first is now older than 7 days
    assert first["id"] not in {item["id"] for item in _history(api)["items"]}
    assert api.http.get(f"/api/v3/predictions/{first['id']}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"page": 0}, {"page_size": 101}, {"status": "done"}, {"created_after": "yesterday"}],
)
def test_history_rejects_bad_parameters(api: Api, body: dict[str, Any]) -> None:
    response = api.http.post("/api/v3/predictions", json=body)
    assert response.status_code == 400
    assert f"'{next(iter(body))}'" in response.json()["message"]


def test_history_time_filter_uses_iso_8601(clocked_api: Api, clock: FakeClock) -> None:
    created = clocked_api.submit_ok()
    moment = datetime.fromisoformat(created["created_at"])
    before = (moment - timedelta(seconds=1)).astimezone(UTC).isoformat()
    after = (moment + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert _history(clocked_api, created_after=before)["total"] == 1
    assert _history(clocked_api, created_after=after)["total"] == 0
    assert _history(clocked_api, created_before=after)["total"] == 1


def test_delete_removes_predictions(api: Api) -> None:
    keep = api.submit_ok()
    drop = api.submit_ok()
    response = api.http.post("/api/v3/predictions/delete", json={"ids": [drop["id"], "unknown"]})
    assert response.status_code == 200
    assert response.json()["data"] == {"deleted_count": 1}
    assert api.http.get(f"/api/v3/predictions/{drop['id']}/result").status_code == 404
    assert [item["id"] for item in _history(api)["items"]] == [keep["id"]]
    again = api.http.post("/api/v3/predictions/delete", json={"ids": [drop["id"]]})
    assert again.json()["data"] == {"deleted_count": 0}
    assert api.http.post("/api/v3/predictions/delete", json={"ids": "x"}).status_code == 400


def test_webhook_secret_shape(api: Api) -> None:
    response = api.http.get("/api/v3/webhook/secret")
    assert response.status_code == 200
    secret = response.json()["data"]["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > len("whsec_") + 16
    assert api.http.get("/api/v3/webhook/secret").json()["data"]["secret"] == secret


def test_request_log_never_holds_the_key(api: Api) -> None:
    api.submit({"prompt": "logged"}, webhook="https://example.com/hook")
    api.bare.get("/api/v3/balance")
    log = api.control("requests")
    assert [(e["method"], e["path"], e["has_authorization"], e["status"]) for e in log] == [
        ("POST", KLING, True, 200),
        ("GET", "/api/v3/balance", False, 401),
    ]
    assert log[0]["json"] == {"prompt": "logged"}
    assert log[0]["query"] == {"webhook": "https://example.com/hook"}
    assert "test-key" not in httpx.get(f"{api.base_url}/_sim/requests", trust_env=False).text


def test_reset_forgets_everything_and_restores_config(api: Api) -> None:
    api.submit_ok()
    api.control("config", {"balance": 1, "latency": 9})
    api.fault(kind="http", endpoint="submit", status=500)
    api.control("reset")
    assert api.control("predictions") == []
    assert api.control("requests") == []
    assert api.control("faults") == []
    config = api.control("config")
    assert config["balance"] == 1000
    assert config["latency"] == 0.2
    assert api.submit().status_code == 200


def test_config_rejects_bad_values(api: Api) -> None:
    for payload in ({"latency": -1}, {"output_format": "gif"}, {"nope": 1}, {"concurrency": 1.5}):
        response = api.bare.post("/_sim/config", json=payload)
        assert response.status_code == 400
        assert next(iter(payload)) in response.json()["message"]
