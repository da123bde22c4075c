"""Outages through a real worker (issue 10): WaveSpeed unreachable while submitting and while
saving, slow submits beside normal runs, and the database lost right after WaveSpeed accepted
a submit."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from generations.models import Generation, Status
from spend.models import LedgerEntry
from tests.conftest import REQUIRE_SERVICES
from tests.netfault import ToggleProxy
from tests.processes import PROCFILE_LAYOUT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def generate(client, prompt: str, **fields) -> Generation:
    data = {
        "prompt": prompt,
        "aspect_ratio": "1:1",
        "resolution": "1k",
        "result_type": "single",
        "num_images": 1,
        **fields,
    }
    response = client.post(reverse("generations:generate"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Generation.objects.get(prompt=prompt)


def statuses(generations: list[Generation]) -> list[str]:
    by_pk = dict(
        Generation.objects.filter(pk__in=[g.pk for g in generations]).values_list("pk", "status")
    )
    return [by_pk[g.pk] for g in generations]


def all_final(generations: list[Generation]) -> bool:
    return all(s in ("done", "failed", "needs_attention") for s in statuses(generations))


def simulator_billed(sim) -> Decimal:
    answer = sim.http.get("/api/v3/balance", headers={"Authorization": "Bearer test-key"})
    return Decimal("1000") - Decimal(str(answer.raise_for_status().json()["data"]["balance"]))


@pytest.fixture
def proxy(sim):
    port = int(sim.base_url.rsplit(":", 1)[1])
    running = ToggleProxy(port).up()
    yield running
    running.down()


# Longer than a minute, the outage the retry windows are there for; long enough past the 10 s
# retry caps below that every kind of retry runs several times.
OUTAGE_SECONDS = 70


def test_wavespeed_unreachable_for_over_a_minute_while_submitting_and_saving_fails_nothing(
    client, user, sim, proxy, start_worker
) -> None:
    sim.configure(latency=0.5)
    worker = start_worker(
        WAVESPEED_BASE_URL=proxy.url,
        DARKROOM_SUBMIT_RETRY_CAP="10",
        DARKROOM_SAVE_RETRY_CAP="10",
    )
    client.force_login(user)

    # The CDN goes first: outputs answer 503 for the whole outage, so completed runs cannot be
    # saved.
    sim.fault("http", endpoint="output", status=503, for_seconds=OUTAGE_SECONDS)
    outage_started = time.monotonic()
    saving = [generate(client, f"saved during the outage {i}") for i in range(3)]
    wait_for(lambda: statuses(saving) == ["saving"] * 3, timeout=30, what="completed, saving")
    # Then WaveSpeed itself: every connection refused, while more runs are submitted.
    proxy.down()
    submitting = [generate(client, f"submitted during the outage {i}") for i in range(3)]
    wait_for(
        lambda: all(
            g.error_message.startswith("Waiting for WaveSpeed")
            for g in Generation.objects.filter(pk__in=[g.pk for g in submitting])
        ),
        timeout=30,
        what="the person told to wait",
    )
    page = client.get(reverse("generations:generation_detail", args=[saving[0].uuid]))
    assert "WaveSpeed&#x27;s files are unreachable, retrying" in page.content.decode()

    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
    assert statuses(saving + submitting) == ["saving"] * 3 + ["queued"] * 3  # nothing failed
    proxy.up()

    everything = saving + submitting
    wait_for(lambda: all_final(everything), timeout=60, what="all final")
    assert statuses(everything) == ["done"] * 6, worker.log()[-3000:]
    prompts = [s["json"]["prompt"] for s in sim.submits()]
    assert sorted(prompts) == sorted(g.prompt for g in everything)  # one submit each
    charges = LedgerEntry.objects.filter(kind="charge")
    assert charges.count() == 6
    assert sum(c.amount for c in charges) == simulator_billed(sim) == Decimal("0.168")
    for generation in Generation.objects.filter(pk__in=[g.pk for g in everything]):
        assert generation.images.count() == 1


def test_slow_submits_do_not_hold_up_other_peoples_runs(client, user, sim, start_worker) -> None:
    sim.configure(latency=1.0)
    # The production layout: follow and sweep on one worker, submits and saves on their own.
    for options in PROCFILE_LAYOUT.values():
        start_worker(options=options)
    client.force_login(user)
    sim.fault("slow", endpoint="submit", seconds=25, count=4)
    slow = [generate(client, f"slow {i}") for i in range(4)]
    wait_for(lambda: len(sim.submits()) == 4, timeout=15, what="four submits hanging")

    started = time.monotonic()
    normal = [generate(client, f"normal {i}") for i in range(6)]
    wait_for(lambda: all_final(normal), timeout=20, what="the normal runs")
    took = time.monotonic() - started
    assert statuses(normal) == ["done"] * 6
    # Provider time (1 s queued + 1 s working) plus a few seconds, not the slow submits' 25 s.
    assert took < 15, took
    assert statuses(slow) != ["done"] * 4  # still hanging when the others were done

    wait_for(lambda: all_final(slow), timeout=60, what="the slow runs")
    assert statuses(slow) == ["done"] * 4
    assert len(sim.submits()) == 10


@pytest.mark.skipif(
    connection.vendor != "postgresql" and not REQUIRE_SERVICES,
    reason="terminating a worker's database connection needs PostgreSQL",
)
def test_a_database_connection_lost_after_an_accepted_submit_keeps_the_prediction(
    client, user, sim, start_worker
) -> None:
    sim.configure(history_inputs="none")  # a history that could not tell
    worker = start_worker()
    client.force_login(user)
    sim.fault("slow", endpoint="submit", seconds=3)
    generation = generate(client, "kept through a lost connection")
    wait_for(lambda: len(sim.submits()) == 1, timeout=15, what="the submit in flight")

    with connection.cursor() as cursor:  # every connection but this test's own
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )

    wait_for(
        lambda: statuses([generation])[0] in ("done", "failed", "needs_attention"),
        timeout=60,
        what="final",
    )
    generation.refresh_from_db()
    assert generation.status == Status.DONE, generation.error_message
    [prediction] = sim.predictions()
    assert generation.provider_id == prediction["id"]
    assert len(sim.submits()) == 1
    history_reads = [r for r in sim.requests() if r["path"] == "/api/v3/predictions"]
    assert history_reads == []  # adopted without the history
    log = worker.log()
    assert f"submit_accepted generation={generation.pk}" in log
    assert f"prediction={prediction['id']}" in log
    assert "submit_record_retry" in log  # the write did fail once, and was tried again
