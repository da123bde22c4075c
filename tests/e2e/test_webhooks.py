"""WaveSpeed's webhooks end to end: a real worker submits with `?webhook=` pointing at the live
server, the simulator signs and POSTs the finished prediction there, and the generation is saved
without a single result poll. A webhook the simulator never sends is made up for by the
fallback poll, after the expected run time and the grace."""

from __future__ import annotations

import pytest

from generations.models import Generation, ResultVia, Status
from tests.e2e.test_outages import all_final, generate
from tests.processes import wait_for
from wavespeed import webhooks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EXPECTED = 3
GRACE = 3


def result_polls(sim, prediction_id: str) -> int:
    return len([r for r in sim.requests(f"/predictions/{prediction_id}") if r["method"] == "GET"])


def sim_record(sim, prediction_id: str) -> dict:
    """What drives the simulator's prediction: its webhook URL and delivery attempts."""
    [prediction] = [p for p in sim.predictions() if p["id"] == prediction_id]
    return prediction["_sim"]


def test_the_simulator_calls_the_app_and_a_lost_webhook_falls_back_to_polling(
    client, user, sim, live_server, start_worker, settings
) -> None:
    settings.WAVESPEED_WEBHOOK_SECRET = ""  # the live server fetches it from the simulator
    webhooks.forget_secret()
    sim.configure(latency=1.0)
    worker = start_worker(
        DARKROOM_PUBLIC_URL=live_server.url,
        DARKROOM_EXPECTED_RUN_SECONDS=str(EXPECTED),
        DARKROOM_WEBHOOK_GRACE_SECONDS=str(GRACE),
    )
    client.force_login(user)

    delivered = generate(client, "delivered by webhook")
    wait_for(lambda: all_final([delivered]), timeout=60, what="the run done")
    delivered.refresh_from_db()
    assert delivered.status == Status.DONE, worker.log()[-3000:]
    assert delivered.result_via == ResultVia.WEBHOOK
    assert delivered.poll_count == 0
    assert delivered.images.count() == 1
    [submit] = sim.submits()
    assert submit["query"] == {"webhook": f"{live_server.url}/hooks/wavespeed/"}
    assert [a["status"] for a in sim_record(sim, delivered.provider_id)["webhook_attempts"]] == [
        200
    ]
    # The simulator's request log: nobody asked for this prediction's result.
    assert result_polls(sim, delivered.provider_id) == 0
    # Done well before the first fallback poll would have been due.
    took = (delivered.finished_at - delivered.created_at).total_seconds()
    assert took < EXPECTED + GRACE, took

    sim.fault("lose_webhook")
    lost = generate(client, "its webhook is lost")
    wait_for(lambda: all_final([lost]), timeout=60, what="the second run done")
    lost.refresh_from_db()
    assert lost.status == Status.DONE, worker.log()[-3000:]
    assert lost.result_via == ResultVia.POLL
    record = sim_record(sim, lost.provider_id)
    assert record["webhook_url"] and record["webhook_lost"] and record["webhook_attempts"] == []
    # One poll after the expected run time and the grace found it finished.
    assert lost.poll_count == 1 and result_polls(sim, lost.provider_id) == 1
    took = (lost.finished_at - lost.created_at).total_seconds()
    assert took >= EXPECTED + GRACE * 0.8, took
    assert Generation.objects.filter(result_via=ResultVia.WEBHOOK).count() == 1
