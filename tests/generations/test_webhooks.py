"""WaveSpeed's webhooks into the generation pipeline: the receiver at /hooks/wavespeed/ verifies
a delivery and applies it as a poll's answer would, once. Predictions are real (the simulator
over HTTP); deliveries are signed here with the simulator's signer. tests/e2e/test_webhooks.py
lets the simulator deliver them to a live server."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from generations import services
from generations.jobs import GENERATION
from generations.models import Generation, ResultVia, Status
from generations.services.submission import GenerationParams
from simulator.webhooks import sign
from spend.models import LedgerEntry
from wavespeed import runner, webhooks
from wavespeed.client import AuthError, Prediction, ProviderError

pytestmark = pytest.mark.django_db

SECRET = "whsec_tests-secret"
URL = "/hooks/wavespeed/"


@pytest.fixture(autouse=True)
def _webhooks_on(settings):
    settings.WAVESPEED_WEBHOOK_SECRET = SECRET
    settings.DARKROOM_PUBLIC_URL = "https://darkroom.example.com"
    webhooks.forget_secret()
    yield
    webhooks.forget_secret()


def submitted(user, pipeline) -> Generation:
    """A generation WaveSpeed accepted: its submit ran, its first (fallback) poll is queued."""
    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="a lighthouse in fog")
    )
    pipeline.run_next()  # submit_job
    generation.refresh_from_db()
    assert generation.status == Status.SUBMITTED and generation.provider_id
    assert pipeline.names() == ["follow_job"]
    return generation


def final_body(sim, prediction_id: str) -> bytes:
    """The prediction as the simulator has it once final: what its webhook would carry."""
    auth = {"Authorization": "Bearer test-key"}
    for _ in range(100):
        data = sim.http.get(f"/api/v3/predictions/{prediction_id}/result", headers=auth).json()
        if data["data"]["status"] in ("completed", "failed"):
            return json.dumps(data["data"]).encode()
        time.sleep(0.05)
    raise AssertionError("the prediction did not finish")


def deliver(client, body: bytes, *, webhook_id: str = "msg_1", age: int = 0, secret=SECRET):
    ts = int(time.time()) - age
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": webhook_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret, webhook_id, ts, body),
        },
    )


def result_polls(sim) -> int:
    return len([r for r in sim.requests("/result") if r["method"] == "GET"])


def snapshot(generation: Generation) -> dict:
    row = Generation.objects.filter(pk=generation.pk).values().get()
    return {k: v for k, v in row.items()}


def test_submit_asks_for_the_webhook_and_the_first_poll_waits_for_it(
    user, sim, pipeline, settings
) -> None:
    settings.EXPECTED_RUN_SECONDS = 20
    settings.WEBHOOK_GRACE_SECONDS = 7
    submitted(user, pipeline)
    [submit] = sim.submits()
    assert submit["query"] == {"webhook": "https://darkroom.example.com/hooks/wavespeed/"}
    assert pipeline.queued[0].countdown == 27


def test_without_a_public_url_submits_carry_no_webhook_and_polls_start_soon(
    user, sim, pipeline, settings
) -> None:
    settings.DARKROOM_PUBLIC_URL = ""
    submitted(user, pipeline)
    [submit] = sim.submits()
    assert not submit["query"]
    assert pipeline.queued[0].countdown < 2


def test_a_signed_delivery_completes_the_generation_as_a_poll_would(
    client, user, sim, pipeline
) -> None:
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    polls = result_polls(sim)

    before = snapshot(generation)

    response = deliver(client, body)

    # Applied in the request, as a poll's answer would be; only the save is queued.
    assert response.status_code == 200, response.content
    assert response.content == b"applied"
    assert snapshot(generation) != before
    generation.refresh_from_db()
    assert generation.status == Status.SAVING
    assert generation.result_via == ResultVia.WEBHOOK
    assert generation.output_urls and generation.cost > 0
    assert pipeline.names() == ["follow_job", "save_generation_outputs"]
    # The fallback poll finds its claim taken: it does nothing, and asks WaveSpeed nothing.
    pipeline.run_next()
    assert result_polls(sim) == polls
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    assert generation.status == Status.DONE and generation.poll_count == 0
    assert generation.images.count() == 1


def test_a_failed_prediction_is_failed_without_cost(client, user, sim, pipeline) -> None:
    sim.fault("fail_prediction", code=1200, error="flagged")
    generation = submitted(user, pipeline)
    response = deliver(client, final_body(sim, generation.provider_id))
    assert response.status_code == 200
    generation.refresh_from_db()
    assert generation.status == Status.FAILED and generation.error_code == 1200
    assert generation.result_via == ResultVia.WEBHOOK and generation.cost == 0


@pytest.mark.parametrize(
    "how",
    ["bad signature", "other secret", "old timestamp", "unsigned"],
)
def test_a_refused_delivery_changes_nothing(client, user, sim, pipeline, how: str) -> None:
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    before = snapshot(generation)
    if how == "bad signature":
        ts = int(time.time())
        response = client.post(
            URL,
            data=body,
            content_type="application/json",
            headers={
                "webhook-id": "msg_1",
                "webhook-timestamp": str(ts),
                "webhook-signature": sign(SECRET, "msg_1", ts, body.replace(b"c", b"C", 1)),
            },
        )
    elif how == "other secret":
        response = deliver(client, body, secret="whsec_not-ours")
    elif how == "old timestamp":
        response = deliver(client, body, age=301)
    else:
        response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 401
    assert snapshot(generation) == before
    assert pipeline.names() == ["follow_job"]


def test_a_replayed_delivery_is_refused_and_changes_nothing(client, user, sim, pipeline) -> None:
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    assert deliver(client, body, webhook_id="msg_once").status_code == 200
    after_first = snapshot(generation)

    again = deliver(client, body, webhook_id="msg_once")

    assert again.status_code == 200  # nothing for WaveSpeed to deliver again
    assert b"received before" in again.content
    assert snapshot(generation) == after_first
    assert pipeline.names() == ["follow_job", "save_generation_outputs"]


def test_a_duplicate_or_contradicting_delivery_changes_nothing(client, user, sim, pipeline) -> None:
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    assert deliver(client, body, webhook_id="msg_a").status_code == 200
    after_first = snapshot(generation)
    charges = LedgerEntry.objects.count()

    duplicate = deliver(client, body, webhook_id="msg_b")
    failed = json.loads(body) | {"status": "failed", "outputs": [], "error": "late", "code": 5000}
    contradicting = deliver(client, json.dumps(failed).encode(), webhook_id="msg_c")

    assert duplicate.status_code == contradicting.status_code == 202
    assert snapshot(generation) == after_first
    assert LedgerEntry.objects.count() == charges
    assert pipeline.names() == ["follow_job", "save_generation_outputs"]


def test_a_hand_off_queued_by_an_earlier_receiver_applies_once(client, user, sim, pipeline) -> None:
    """`apply_webhook_result` messages an earlier receiver queued (still in the broker after an
    upgrade) are applied as before; run twice, or after a delivery applied the end, they change
    nothing."""
    from wavespeed.tasks import apply_webhook_result

    generation = submitted(user, pipeline)
    data = json.loads(final_body(sim, generation.provider_id))
    apply_webhook_result.run("generation", generation.pk, data)
    generation.refresh_from_db()
    assert generation.status == Status.SAVING and generation.result_via == ResultVia.WEBHOOK
    after_first = snapshot(generation)
    charges = LedgerEntry.objects.count()

    apply_webhook_result.run("generation", generation.pk, data)
    again = deliver(client, json.dumps(data).encode(), webhook_id="msg_late")

    assert again.status_code == 202 and again.content == b"ignored"
    assert snapshot(generation) == after_first
    assert LedgerEntry.objects.count() == charges
    assert [task.name for task in pipeline.queued].count("save_generation_outputs") == 1


def test_a_delivery_rolled_back_is_accepted_when_delivered_again(
    client, user, sim, pipeline, monkeypatch
) -> None:
    """Applying failed inside the request (here: the database refused the kind's move): the
    receipt rolls back with it, so WaveSpeed's retry of the same webhook-id is applied."""
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    before = snapshot(generation)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(GENERATION, "on_success", broken)
        with pytest.raises(RuntimeError):
            deliver(client, body, webhook_id="msg_retry")
    assert snapshot(generation) == before

    again = deliver(client, body, webhook_id="msg_retry")

    assert again.status_code == 200 and again.content == b"applied"
    generation.refresh_from_db()
    assert generation.status == Status.SAVING and generation.result_via == ResultVia.WEBHOOK


def test_a_delivery_after_the_poll_ended_it_changes_nothing(client, user, sim, pipeline) -> None:
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    pipeline.run_next()  # the fallback poll runs first, and ends it
    generation.refresh_from_db()
    assert generation.status == Status.SAVING and generation.result_via == ResultVia.POLL
    after_poll = snapshot(generation)

    response = deliver(client, body)

    assert response.status_code == 202 and response.content == b"ignored"
    assert snapshot(generation) == after_poll


def test_a_poll_answering_after_the_webhook_changes_nothing(client, user, sim, pipeline) -> None:
    """A poll claimed the row and asked WaveSpeed; the webhook is applied meanwhile; then the
    poll's answer (here: a contradicting one) arrives, and is dropped."""
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    Generation.objects.filter(pk=generation.pk).update(poll_seq=generation.poll_seq + 1)
    polling = Generation.objects.get(pk=generation.pk)  # as the poll loaded it
    assert deliver(client, body).status_code == 200
    after_webhook = snapshot(generation)

    failed = Prediction.from_json(json.loads(body) | {"status": "failed", "outputs": []})
    runner.apply_final(GENERATION, polling, failed, via=ResultVia.POLL)

    assert snapshot(generation) == after_webhook
    assert after_webhook["result_via"] == ResultVia.WEBHOOK


@pytest.mark.parametrize("poll_saw", ["processing", "401", "503"])
def test_a_poll_that_saw_no_end_after_the_webhook_schedules_nothing(
    client, user, sim, pipeline, poll_saw: str
) -> None:
    """The poll asked just before WaveSpeed finished (or got an error); the webhook ended the
    generation meanwhile: the poll neither fails it nor queues another poll."""
    generation = submitted(user, pipeline)
    body = final_body(sim, generation.provider_id)
    Generation.objects.filter(pk=generation.pk).update(poll_seq=generation.poll_seq + 1)
    polling = Generation.objects.get(pk=generation.pk)
    assert deliver(client, body).status_code == 200
    after_webhook = snapshot(generation)
    queued = pipeline.names()

    if poll_saw == "processing":
        running = Prediction.from_json(json.loads(body) | {"status": "processing"})
        runner._still_running(GENERATION, polling, running)
    elif poll_saw == "401":
        runner._poll_failed(GENERATION, polling, AuthError("Invalid API key"))
    else:
        runner._poll_failed(GENERATION, polling, ProviderError("unavailable"))

    assert snapshot(generation) == after_webhook
    assert pipeline.names() == queued


def test_a_delivery_for_an_unknown_prediction_is_accepted_and_ignored(
    client, user, sim, pipeline
) -> None:
    generation = submitted(user, pipeline)
    before = snapshot(generation)
    body = json.dumps(
        {"id": "nobody-has-this", "model": "kwaivgi/kling-image-o3", "status": "completed"}
    ).encode()
    response = deliver(client, body)
    assert response.status_code == 202 and response.content == b"unknown"
    assert snapshot(generation) == before


def test_a_delivery_for_someone_elses_prediction_changes_no_generation(
    client, user, sim, pipeline
) -> None:
    """Another client of the account (here: a prediction submitted straight to WaveSpeed), and
    our own id under another model: neither touches a generation."""
    generation = submitted(user, pipeline)
    before = snapshot(generation)
    theirs = httpx.post(
        f"{sim.base_url}/api/v3/kwaivgi/kling-image-o3",
        json={"prompt": "not ours"},
        headers={"Authorization": "Bearer test-key"},
    ).json()["data"]["id"]
    assert deliver(client, final_body(sim, theirs), webhook_id="msg_1").status_code == 202

    ours = json.loads(final_body(sim, generation.provider_id))
    other_model = json.dumps(ours | {"model": "wavespeed-ai/prompt-optimizer"}).encode()
    assert deliver(client, other_model, webhook_id="msg_2").status_code == 202
    assert snapshot(generation) == before
    assert pipeline.names() == ["follow_job"]


def test_a_delivery_before_the_submits_answer_was_stored_is_left_to_the_poll(
    client, user, sim, pipeline
) -> None:
    """The webhook can overtake the submit's answer being recorded: it is accepted (202) and
    dropped; the generation, once it holds the prediction, learns the result by polling."""
    generation = services.generation_create(
        owner=user, params=GenerationParams(prompt="a lighthouse in fog")
    )
    prediction_id = httpx.post(
        f"{sim.base_url}/api/v3/kwaivgi/kling-image-o3",
        json=generation.request_payload,
        headers={"Authorization": "Bearer test-key"},
    ).json()["data"]["id"]
    Generation.objects.filter(pk=generation.pk).update(submit_claimed_at=generation.created_at)

    response = deliver(client, final_body(sim, prediction_id))

    assert response.status_code == 202
    generation.refresh_from_db()
    assert generation.status == Status.QUEUED and generation.provider_id is None
    # The submit's answer is now stored; the fallback poll takes it to the end.
    runner.record_prediction(GENERATION, generation.pk, prediction_id)
    pipeline.queued = [task for task in pipeline.queued if task.name == "follow_job"]
    pipeline.run_until(lambda: Generation.objects.get(pk=generation.pk).is_final)
    generation.refresh_from_db()
    assert generation.status == Status.DONE
    assert generation.result_via == ResultVia.POLL and generation.poll_count == 1


def test_the_secret_is_fetched_from_wavespeed_once(client, user, sim, pipeline, settings) -> None:
    settings.WAVESPEED_WEBHOOK_SECRET = ""
    secret = sim.http.get("/_sim/config").json()["data"]["webhook_secret"]
    first = submitted(user, pipeline)
    pipeline.queued.clear()
    second = submitted(user, pipeline)
    for n, generation in enumerate([first, second]):
        body = final_body(sim, generation.provider_id)
        assert deliver(client, body, webhook_id=f"msg_{n}", secret=secret).status_code == 200
    assert len(sim.requests("/api/v3/webhook/secret")) == 1
    assert deliver(client, b"{}", webhook_id="msg_x").status_code == 401


def test_only_post_is_answered(client) -> None:
    assert client.get(URL).status_code == 405
