"""The provider client against the simulator, over real HTTP."""

from __future__ import annotations

import socket
import time

import pytest

from wavespeed.client import (
    AuthError,
    InvalidRequestError,
    NetworkError,
    NoBalanceError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    Timeouts,
    WaveSpeedClient,
)
from wavespeed.specs import KLING_IMAGE_O3


@pytest.fixture
def client(sim):
    client = WaveSpeedClient(base_url=sim.base_url, api_key="test-key")
    yield client
    client.close()


def wait_final(client: WaveSpeedClient, prediction_id: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prediction = client.get_result(prediction_id)
        if prediction.is_final:
            return prediction
        time.sleep(0.05)
    raise AssertionError("prediction never finished")


def test_submit_returns_a_created_prediction_that_completes_with_outputs(client, sim) -> None:
    prediction = client.submit(
        KLING_IMAGE_O3, {"prompt": "a lighthouse", "resolution": "1k", "num_images": 2}
    )
    assert prediction.status == "created"
    assert prediction.outputs == []
    done = wait_final(client, prediction.id)
    assert done.is_completed
    assert len(done.outputs) == 2
    assert done.has_nsfw_contents == [False, False]
    assert done.inference_ms is not None and done.inference_ms > 0
    assert done.created_at is not None
    [request] = sim.submits()
    assert request["json"] == {"prompt": "a lighthouse", "resolution": "1k", "num_images": 2}
    assert request["has_authorization"]


def test_a_failed_prediction_carries_its_error_and_code(client, sim) -> None:
    sim.fault("fail_prediction", code=1200, error="Content flagged by moderation")
    prediction = client.submit(KLING_IMAGE_O3, {"prompt": "x"})
    done = wait_final(client, prediction.id)
    assert done.status == "failed"
    assert done.error_code == 1200
    assert "moderation" in done.error


def test_a_rejected_key_is_a_permanent_auth_error(client, sim) -> None:
    sim.configure(rejected_keys=["test-key"])
    with pytest.raises(AuthError) as caught:
        client.submit(KLING_IMAGE_O3, {"prompt": "x"})
    assert caught.value.permanent
    assert caught.value.status_code == 401
    assert "test-key" not in str(caught.value)


def test_an_empty_balance_is_a_permanent_balance_error(client, sim) -> None:
    sim.configure(balance=0.01)
    with pytest.raises(NoBalanceError) as caught:
        client.submit(KLING_IMAGE_O3, {"prompt": "x", "resolution": "4k"})
    assert caught.value.permanent


def test_an_invalid_request_carries_the_providers_message(client) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client.submit(KLING_IMAGE_O3, {"prompt": "x", "num_images": 12})
    assert caught.value.permanent
    assert "num_images" in caught.value.message


def test_429_is_retryable_and_carries_retry_after(client, sim) -> None:
    sim.fault("http", endpoint="submit", status=429, retry_after=7)
    with pytest.raises(RateLimitError) as caught:
        client.submit(KLING_IMAGE_O3, {"prompt": "x"})
    assert not caught.value.permanent
    assert not caught.value.maybe_sent
    assert caught.value.retry_after == 7


def test_5xx_is_retryable_but_may_have_reached_the_provider(client, sim) -> None:
    sim.fault("http", endpoint="result", status=500)
    prediction = client.submit(KLING_IMAGE_O3, {"prompt": "x"})
    with pytest.raises(ProviderError) as caught:
        client.get_result(prediction.id)
    assert not caught.value.permanent
    assert caught.value.maybe_sent
    assert caught.value.status_code == 500


def test_a_timed_out_submit_may_have_reached_the_provider(sim) -> None:
    client = WaveSpeedClient(
        base_url=sim.base_url, api_key="k", timeouts=Timeouts(submit=0.3, read=0.3)
    )
    sim.fault("slow", endpoint="submit", seconds=1.0)
    with pytest.raises(NetworkError) as caught:
        client.submit(KLING_IMAGE_O3, {"prompt": "lost answer"})
    assert caught.value.maybe_sent
    time.sleep(0.8)
    history = client.history(model=KLING_IMAGE_O3)
    assert [item.input["prompt"] for item in history.items] == ["lost answer"]


def test_no_connection_means_nothing_was_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = WaveSpeedClient(base_url=f"http://127.0.0.1:{port}", api_key="k")
    with pytest.raises(NetworkError) as caught:
        client.submit(KLING_IMAGE_O3, {"prompt": "x"})
    assert not caught.value.maybe_sent
    assert not caught.value.permanent


def test_an_unknown_prediction_is_not_found(client) -> None:
    with pytest.raises(NotFoundError):
        client.get_result("does-not-exist")


def test_upload_balance_and_history(client, sim) -> None:
    from tests.factories import image_bytes

    uploaded = client.upload_binary("ref.png", image_bytes("PNG", (400, 400)), "image/png")
    assert uploaded.download_url.startswith("http")
    assert client.balance() > 0
    client.submit(KLING_IMAGE_O3, {"prompt": "one"})
    client.submit(KLING_IMAGE_O3, {"prompt": "two"})
    page = client.history(model=KLING_IMAGE_O3)
    assert page.total == 2
    assert {item.input["prompt"] for item in page.items} == {"one", "two"}


def test_a_503_says_nothing_was_created(client, sim) -> None:
    sim.fault("http", endpoint="submit", status=503)
    with pytest.raises(ProviderError) as caught:
        client.submit(KLING_IMAGE_O3, {"prompt": "x"})
    assert not caught.value.permanent
    assert not caught.value.maybe_sent
