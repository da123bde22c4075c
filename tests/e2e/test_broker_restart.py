"""A Redis restart under a busy worker: the worker reconnects and finishes every run.

celery 5.7.0 / kombu 5.7.0 died here for good ("Unrecoverable error: AttributeError("'NoneType'
object has no attribute 'hostname'")") whenever the worker held unacknowledged messages, which
countdown polls always are; pyproject.toml pins versions that reconnect.
"""

from __future__ import annotations

import time

import pytest

from generations.models import Generation, Status
from tests.e2e.test_studio import submit_through_the_form
from tests.processes import WorkerProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RUNS = 6


def statuses() -> list[str]:
    return list(Generation.objects.values_list("status", flat=True))


def alive(worker: WorkerProcess) -> bool:
    assert worker.process is not None
    if worker.process.poll() is not None:
        raise AssertionError(f"The worker died (exit {worker.process.returncode}):\n{worker.log()}")
    return True


def test_a_busy_worker_survives_a_redis_restart(
    client, user, sim, redis_server, celery_broker, start_worker
) -> None:
    redis = redis_server()
    celery_broker(redis.url)
    worker = start_worker(REDIS_URL=redis.url, CELERY_BROKER_URL=redis.url)
    sim.configure(latency=8.0)
    client.force_login(user)
    for n in range(RUNS):
        submit_through_the_form(client, num_images=1, prompt=f"restart {n}")

    # Every run submitted and its answer recorded (the simulator logs a submit before the
    # worker writes it down): the worker now holds their polls, unacknowledged, until the
    # countdown.
    wait_for(
        lambda: (
            alive(worker)
            and len(sim.submits()) == RUNS
            and set(statuses()) <= {"submitted", "processing"}
        ),
        timeout=20,
        what="every run submitted",
    )
    redis.restart()

    started = time.monotonic()
    wait_for(
        lambda: alive(worker) and set(statuses()) <= {"done", "failed"},
        timeout=45,
        what="every run finished after the restart",
    )
    healed = time.monotonic() - started
    assert statuses() == [Status.DONE] * RUNS, [
        (g.status, g.error_message) for g in Generation.objects.all()
    ]
    # One submit per run, whatever the broker lost.
    prompts = sorted(submit["json"]["prompt"] for submit in sim.submits())
    assert prompts == sorted(f"restart {n}" for n in range(RUNS))
    # The same worker process lost its connection and found it again.
    assert alive(worker)
    log = worker.log()
    assert "Connection to broker lost" in log
    assert log.count(f"Connected to {redis.url}") == 2, log
    print(f"every run done {healed:.1f} s after the Redis restart")
