"""The clock drives created -> processing -> completed; concurrency keeps extras in created."""

from __future__ import annotations

import time

from conftest import Api, FakeClock


def test_status_progresses_with_real_time(api: Api) -> None:
    created = api.submit_ok({"prompt": "p", "num_images": 2})
    assert created["status"] == "created"
    started = time.monotonic()

    processing = api.wait(created["id"], "processing", "completed")
    assert processing["status"] == "processing"  # 0.05 s queue delay, then 0.2 s processing
    assert processing["outputs"] == []

    done = api.wait(created["id"])
    elapsed = time.monotonic() - started
    assert done["status"] == "completed"
    assert 0.2 <= elapsed < 2
    assert len(done["outputs"]) == 2
    assert done["has_nsfw_contents"] == [False, False]
    assert 150 <= done["timings"]["inference"] <= 300
    assert done["executionTime"] >= done["timings"]["inference"]
    assert "code" not in done


def test_progress_follows_the_clock_exactly(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api  # queue_delay 0.5, latency 1.0
    prediction_id = api.submit_ok()["id"]
    clock.advance(0.49)
    assert api.get(prediction_id)["status"] == "created"
    clock.advance(0.02)
    assert api.get(prediction_id)["status"] == "processing"
    clock.advance(0.98)
    assert api.get(prediction_id)["status"] == "processing"
    clock.advance(0.02)
    done = api.get(prediction_id)
    assert done["status"] == "completed"
    assert done["timings"]["inference"] == 1000
    clock.advance(3600)
    assert api.get(prediction_id) == done  # final states are final


def test_concurrency_limit_keeps_extras_created_in_submit_order(
    clocked_api: Api, clock: FakeClock
) -> None:
    api = clocked_api
    api.control("config", {"concurrency": 2})
    ids = [api.submit_ok({"prompt": f"job {n}"})["id"] for n in range(4)]

    def statuses() -> list[str]:
        return [api.get(i)["status"] for i in ids]

    clock.advance(0.6)
    assert statuses() == ["processing", "processing", "created", "created"]
    clock.advance(1.0)  # the first two finished at 1.5 s; the next two took their slots
    assert statuses() == ["completed", "completed", "processing", "processing"]
    clock.advance(1.0)
    assert statuses() == ["completed"] * 4

    internal = {p["id"]: p["_sim"] for p in api.control("predictions")}
    assert internal[ids[2]]["started_at"] == internal[ids[0]]["finished_at"]


def test_lowering_concurrency_waits_for_running_tasks(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    ids = [api.submit_ok()["id"] for _ in range(3)]
    clock.advance(0.6)
    assert [api.get(i)["status"] for i in ids] == ["processing"] * 3
    api.control("config", {"concurrency": 1})
    extra = api.submit_ok()["id"]
    clock.advance(1.0)  # all three finish; one slot is free again, for the extra
    assert api.get(extra)["status"] == "processing"
    clock.advance(1.0)
    assert api.get(extra)["status"] == "completed"


def test_unlimited_concurrency_runs_everything_at_once(clocked_api: Api, clock: FakeClock) -> None:
    api = clocked_api
    ids = [api.submit_ok()["id"] for _ in range(20)]
    clock.advance(1.6)
    assert {api.get(i)["status"] for i in ids} == {"completed"}
