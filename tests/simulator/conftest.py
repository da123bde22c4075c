"""Fixtures for the WaveSpeed simulator tests: a real server on a free port, an httpx client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from simulator.server import RunningSimulator, SimulatorConfig, start_in_thread

KLING = "/api/v3/kwaivgi/kling-image-o3"
FAST = {"latency": 0.2, "queue_delay": 0.05, "quiet": True}


class FakeClock:
    """A clock that only moves when told to: progress becomes exact and instant."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A thin client for the simulator with the helpers the tests keep needing."""

    def __init__(self, sim: RunningSimulator) -> None:
        self.sim = sim
        self.base_url = sim.base_url
        self.http = httpx.Client(
            base_url=sim.base_url,
            headers={"Authorization": "Bearer test-key"},
            trust_env=False,  # never send loopback traffic through a proxy from the env
            timeout=10,
        )
        # storage/CDN/control requests go without the API key, like a browser or S3 client
        self.bare = httpx.Client(base_url=sim.base_url, trust_env=False, timeout=10)

    def close(self) -> None:
        self.http.close()
        self.bare.close()

    def submit(self, body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
        body = {"prompt": "a red fox in snow"} if body is None else body
        return self.http.post(KLING, json=body, params=params)

    def submit_ok(self, body: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        response = self.submit(body, **params)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def get(self, prediction_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v3/predictions/{prediction_id}/result")
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def wait(self, prediction_id: str, *statuses: str, timeout: float = 5.0) -> dict[str, Any]:
        """Poll until the prediction reaches one of `statuses` (default: a final one)."""
        wanted = statuses or ("completed", "failed")
        deadline = time.monotonic() + timeout
        while True:
            data = self.get(prediction_id)
            if data["status"] in wanted:
                return data
            assert time.monotonic() < deadline, f"still {data['status']} after {timeout}s"
            time.sleep(0.02)

    def control(self, path: str, payload: Any = None) -> Any:
        response = (
            self.bare.post(f"/_sim/{path}", json=payload)
            if payload is not None or path == "reset"
            else self.bare.get(f"/_sim/{path}")
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def fault(self, **payload: Any) -> dict[str, Any]:
        return self.control("faults", payload)


def _serve(config: SimulatorConfig, clock: FakeClock | None = None) -> Iterator[Api]:
    sim = start_in_thread(config, clock=clock)
    api = Api(sim)
    try:
        yield api
    finally:
        api.close()
        sim.stop()


# One server per session for each flavour, reset before every test: starting a server and
# its clients per test would cost more than most tests take.
@pytest.fixture(scope="session")
def _real_time_sim() -> Iterator[Api]:
    yield from _serve(SimulatorConfig(**FAST))


@pytest.fixture(scope="session")
def _session_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def _clocked_sim(_session_clock: FakeClock) -> Iterator[Api]:
    yield from _serve(SimulatorConfig(latency=1.0, queue_delay=0.5, quiet=True), _session_clock)


@pytest.fixture
def api(_real_time_sim: Api) -> Api:
    """A freshly reset simulator with short latencies on the real clock."""
    _real_time_sim.control("reset")
    return _real_time_sim


@pytest.fixture
def clock(_session_clock: FakeClock) -> FakeClock:
    return _session_clock


@pytest.fixture
def clocked_api(_clocked_sim: Api) -> Api:
    """A freshly reset simulator on a FakeClock: nothing moves until the test advances `clock`.

    Its settings: latency 1.0 s, queue delay 0.5 s."""
    _clocked_sim.control("reset")
    return _clocked_sim
