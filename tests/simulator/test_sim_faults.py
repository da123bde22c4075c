"""Each fault kind queued through /_sim/faults, consumed in order, one per matching event.

Request faults with for_seconds instead match every request until they expire (sim clock)."""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import KLING, Api, FakeClock

from simulator.faults import FaultQueue


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


# --- timed request faults (for_seconds) ------------------------------------------------------


def _output_url(api: Api, clock: FakeClock) -> str:
    prediction_id = api.submit_ok()["id"]
    clock.advance(2)  # queue delay 0.5 s + latency 1 s
    done = api.get(prediction_id)
    assert done["status"] == "completed"
    return done["outputs"][0]


def test_timed_http_fault_is_an_outage_until_it_expires(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    url = _output_url(api, clock)
    queued = api.fault(kind="http", endpoint="output", status=503, for_seconds=90)
    assert queued["for_seconds"] == 90
    assert queued["remaining"] is None
    assert queued["expires_at"] == queued["queued_at"] + 90
    assert queued["seconds_left"] == 90
    for _ in range(5):
        assert api.bare.get(url).status_code == 503
    assert api.http.get("/api/v3/balance").status_code == 200  # other endpoints untouched
    clock.advance(89.5)
    assert api.bare.get(url).status_code == 503
    [listed] = api.control("faults")
    assert listed["id"] == queued["id"]
    assert listed["hits"] == 6
    assert listed["seconds_left"] == pytest.approx(0.5)
    clock.advance(0.5)  # exactly 90 s after queuing: over
    assert api.bare.get(url).status_code == 200
    assert api.control("faults") == []


def test_timed_fault_ignores_count(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    api.fault(kind="drop_connection", endpoint="submit", count=1, for_seconds=60)
    for index in range(3):
        with pytest.raises(httpx.RemoteProtocolError):
            api.http.post(KLING, json={"prompt": f"dropped {index}"})
        clock.advance(15)
    # dropped after the work was done, as with a counted drop: each submit made a prediction
    assert len(api.control("predictions")) == 3
    assert api.control("faults")[0]["hits"] == 3
    clock.advance(15)  # 60 s since queuing
    assert api.submit().status_code == 200
    assert api.control("faults") == []


def test_expired_timed_fault_is_gone_even_unused(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    api.fault(kind="http", endpoint="submit", status=500, for_seconds=10)
    clock.advance(11)
    api.fault(kind="http", endpoint="submit", status=502)
    # the listing never shows it, and the next submit meets the fault queued after it
    assert [fault["status"] for fault in api.control("faults")] == [502]
    assert api.submit().status_code == 502
    assert api.submit().status_code == 200


def test_expired_timed_fault_never_matches(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    api.fault(kind="http", endpoint="any", status=503, for_seconds=5)
    clock.advance(5)
    assert api.submit().status_code == 200  # no listing in between: expiry is checked on match
    assert api.http.get("/api/v3/balance").status_code == 200


def test_timed_fault_shadows_later_faults_while_active(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    api.fault(kind="http", endpoint="submit", status=503, for_seconds=30)
    api.fault(kind="http", endpoint="submit", status=500)  # queued after: waits its turn
    assert api.submit().status_code == 503
    assert api.submit().status_code == 503
    clock.advance(30)
    assert api.submit().status_code == 500
    assert api.submit().status_code == 200


def test_timed_slow_fault_delays_every_request_until_it_expires(
    clocked_api: Api, clock: FakeClock
) -> None:
    api = clocked_api
    api.fault(kind="slow", endpoint="balance", seconds=0.3, for_seconds=20)
    for _ in range(2):
        started = time.monotonic()
        assert api.http.get("/api/v3/balance").status_code == 200
        assert time.monotonic() - started >= 0.3
    clock.advance(20)
    started = time.monotonic()
    assert api.http.get("/api/v3/balance").status_code == 200
    assert time.monotonic() - started < 0.2


def test_untimed_faults_list_without_a_timer(api: Api) -> None:
    queued = api.fault(kind="http", endpoint="submit", status=500, count=2, for_seconds=None)
    assert queued["remaining"] == 2
    assert queued["for_seconds"] is None
    assert queued["expires_at"] is None
    assert queued["seconds_left"] is None
    assert queued["hits"] == 0
    api.submit()
    [listed] = api.control("faults")
    assert (listed["remaining"], listed["hits"]) == (1, 1)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "http", "for_seconds": 0}, "for_seconds"),
        ({"kind": "http", "for_seconds": -5}, "for_seconds"),
        ({"kind": "slow", "for_seconds": "60"}, "for_seconds"),
        ({"kind": "drop_connection", "for_seconds": True}, "for_seconds"),
        ({"kind": "fail_prediction", "for_seconds": 60}, "for_seconds"),
        ({"kind": "nsfw", "for_seconds": 60}, "for_seconds"),
        ({"kind": "http", "for_seconds": 60, "count": 0}, "count"),
        ({"kind": "http", "for_seconds": 60, "endpoint": "nowhere"}, "endpoint"),
    ],
)
def test_bad_timed_fault_is_400_naming_the_field(
    api: Api, payload: dict[str, object], field: str
) -> None:
    response = api.bare.post("/_sim/faults", json=payload)
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}:")
    assert api.control("faults") == []


def test_fault_queue_with_an_injected_clock() -> None:
    now = [1000.0]
    queue = FaultQueue(lambda: now[0])
    with pytest.raises(ValueError, match=r"^for_seconds: must be a number > 0"):
        queue.add({"kind": "http", "for_seconds": float("inf")})
    queue.add({"kind": "http", "endpoint": "result", "status": 503, "for_seconds": 2.5})
    assert queue.take_request_fault("submit") is None
    assert queue.take_request_fault("result") is not None
    assert queue.pending()[0]["seconds_left"] == 2.5
    now[0] += 2.4999
    assert queue.take_request_fault("result") is not None
    now[0] = 1002.5
    assert queue.take_request_fault("result") is None
    assert queue.pending() == []
