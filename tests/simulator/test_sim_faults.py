"""Each fault kind queued through /_sim/faults, consumed in order, one per matching event."""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import KLING, Api


@pytest.mark.parametrize("status", [401, 402, 500, 502, 503])
def test_http_fault_on_submit_creates_no_prediction(api: Api, status: int) -> None:
    api.fault(kind="http", endpoint="submit", status=status, message="boom")
    response = api.submit()
    assert response.status_code == status
    assert response.json() == {"code": status, "message": "boom", "data": None}
    assert api.control("predictions") == []
    assert api.submit().status_code == 200  # consumed: the next submit goes through


def test_http_fault_429_sends_retry_after_only_when_given(api: Api) -> None:
    api.fault(kind="http", endpoint="submit", status=429, retry_after=7)
    api.fault(kind="http", endpoint="submit", status=429)
    first = api.submit()
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "7"
    second = api.submit()
    assert second.status_code == 429
    assert "Retry-After" not in second.headers
    assert second.json()["message"] == "Too Many Requests"


def test_http_fault_count_and_endpoint_matching(api: Api) -> None:
    prediction_id = api.submit_ok()["id"]
    api.fault(kind="http", endpoint="result", status=503, count=2)
    assert api.http.get("/api/v3/balance").status_code == 200  # other endpoints untouched
    assert api.http.get(f"/api/v3/predictions/{prediction_id}/result").status_code == 503
    assert api.http.get(f"/api/v3/predictions/{prediction_id}").status_code == 503
    assert api.http.get(f"/api/v3/predictions/{prediction_id}/result").status_code == 200
    assert api.control("faults") == []

    api.fault(kind="http", endpoint="any", status=502)
    assert api.http.get("/api/v3/balance").status_code == 502
    assert api.http.get("/api/v3/balance").status_code == 200


def test_http_faults_on_history_upload_and_output(api: Api) -> None:
    done = api.wait(api.submit_ok()["id"])
    api.fault(kind="http", endpoint="history", status=500)
    api.fault(kind="http", endpoint="upload", status=500)
    api.fault(kind="http", endpoint="output", status=502)
    assert api.http.post("/api/v3/predictions", json={}).status_code == 500
    upload = {"filename": "a.png", "size": 10, "content_type": "image/png"}
    assert api.http.post("/api/v3/media/uploads", json=upload).status_code == 500
    assert api.bare.get(done["outputs"][0]).status_code == 502
    assert api.bare.get(done["outputs"][0]).status_code == 200


def test_faults_are_consumed_in_order(api: Api) -> None:
    api.fault(kind="http", endpoint="submit", status=500)
    api.fault(kind="http", endpoint="any", status=503)
    assert api.submit().status_code == 500
    assert api.submit().status_code == 503
    assert api.submit().status_code == 200


def test_slow_submit_creates_the_prediction_before_answering(api: Api) -> None:
    api.fault(kind="slow", endpoint="submit", seconds=1.0)
    with pytest.raises(httpx.ReadTimeout):
        api.http.post(KLING, json={"prompt": "unknown fate"}, timeout=0.3)
    # the client gave up, but the prediction exists and the history shows it
    items = api.http.post("/api/v3/predictions", json={}).json()["data"]["items"]
    assert [item["input"]["prompt"] for item in items] == ["unknown fate"]


def test_slow_result_delays_the_answer(api: Api) -> None:
    prediction_id = api.submit_ok()["id"]
    api.fault(kind="slow", endpoint="result", seconds=0.3)
    started = time.monotonic()
    assert api.http.get(f"/api/v3/predictions/{prediction_id}").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    api.http.get(f"/api/v3/predictions/{prediction_id}")
    assert time.monotonic() - started < 0.2


def test_drop_connection_on_submit_after_creating(api: Api) -> None:
    api.fault(kind="drop_connection", endpoint="submit")
    with pytest.raises(httpx.RemoteProtocolError):
        api.http.post(KLING, json={"prompt": "dropped"})
    predictions = api.control("predictions")
    assert [p["input"]["prompt"] for p in predictions] == ["dropped"]
    assert api.control("requests")[-1]["status"] == "dropped"
    assert api.submit().status_code == 200  # a new connection works


def test_drop_connection_on_result(api: Api) -> None:
    prediction_id = api.submit_ok()["id"]
    api.fault(kind="drop_connection", endpoint="result")
    with pytest.raises(httpx.RemoteProtocolError):
        api.http.get(f"/api/v3/predictions/{prediction_id}")
    assert api.http.get(f"/api/v3/predictions/{prediction_id}").status_code == 200


@pytest.mark.parametrize(
    ("payload", "code", "error"),
    [
        ({"code": 1200, "error": "Flagged by moderation"}, 1200, "Flagged by moderation"),
        ({"code": 1402}, 1402, "Failed to fetch media from the given URL"),
        ({}, 5000, "Internal server error"),
    ],
)
def test_fail_prediction(api: Api, payload: dict[str, object], code: int, error: str) -> None:
    api.fault(kind="fail_prediction", **payload)
    failing = api.submit_ok()
    assert failing["status"] == "created"
    assert api.wait(failing["id"], "processing")["status"] == "processing"
    failed = api.wait(failing["id"])
    assert failed["status"] == "failed"
    assert failed["code"] == code
    assert failed["error"] == error
    assert failed["outputs"] == []
    assert api.wait(api.submit_ok()["id"])["status"] == "completed"  # only the next one


def test_fail_prediction_can_target_a_model(api: Api) -> None:
    api.fault(kind="fail_prediction", code=5003, model="kwaivgi/kling-image-o3")
    enhance = api.http.post("/api/v3/wavespeed-ai/prompt-optimizer", json={"text": "t"})
    assert api.wait(enhance.json()["data"]["id"])["status"] == "completed"
    assert api.wait(api.submit_ok()["id"])["code"] == 5003


def test_nsfw_flags_every_output(api: Api) -> None:
    api.fault(kind="nsfw")
    flagged = api.wait(api.submit_ok({"prompt": "p", "num_images": 2})["id"])
    assert flagged["status"] == "completed"
    assert flagged["has_nsfw_contents"] == [True, True]
    assert api.wait(api.submit_ok()["id"])["has_nsfw_contents"] == [False]


def test_expire_outputs(api: Api) -> None:
    api.fault(kind="expire_outputs")
    expired = api.wait(api.submit_ok()["id"])
    response = api.bare.get(expired["outputs"][0])
    assert response.status_code == 403
    assert "AccessDenied" in response.text
    fresh = api.wait(api.submit_ok()["id"])
    assert api.bare.get(fresh["outputs"][0]).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "meteor"},
        {"kind": "http", "endpoint": "nowhere"},
        {"kind": "http", "status": 200},
        {"kind": "slow", "seconds": -1},
        {"kind": "nsfw", "count": 0},
    ],
)
def test_bad_fault_is_400(api: Api, payload: dict[str, object]) -> None:
    assert api.bare.post("/_sim/faults", json=payload).status_code == 400
    assert api.control("faults") == []
