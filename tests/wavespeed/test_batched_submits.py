"""New generations without references are sent in batches by `submit_due` (one Celery task for a
burst, not one each), claimed exactly as `submit` claims one job. Against the simulator over
HTTP, the real broker and the test cache."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache
from django.db import connection

from generations.models import Generation, Status
from generations.references import reference_create
from generations.services import generation_create
from generations.services.submission import GenerationParams
from tests.generations.reference_images import png
from tests.processes import purge_every_queue
from wavespeed import runner, timing
from wavespeed.tasks import submit_due, submit_job


def create(user, prompt: str = "a harbour at dawn") -> Generation:
    return generation_create(owner=user, params=GenerationParams(prompt=prompt))


@pytest.mark.django_db
def test_one_batch_sends_a_burst_each_exactly_once(user, sim, pipeline, settings) -> None:
    settings.SUBMIT_BATCH = 8
    made = [create(user, f"burst {n}") for n in range(20)]
    assert set(pipeline.names()) == {"submit_due"}

    assert runner.submit_due() == 20  # in three batches of at most 8
    assert runner.submit_due() == 0  # the kicks still queued find nothing left

    rows = Generation.objects.filter(pk__in=[g.pk for g in made])
    assert {row.status for row in rows} == {Status.SUBMITTED}
    assert len({row.provider_id for row in rows}) == 20
    assert {row.submit_attempts for row in rows} == {1}
    assert len(sim.submits()) == 20
    assert sorted(s["json"]["prompt"] for s in sim.submits()) == sorted(g.prompt for g in made)
    assert cache.get(runner.SUBMIT_KICK_KEY) is None


@pytest.mark.django_db
def test_a_refusal_in_a_batch_is_handled_for_that_job_alone(user, sim, pipeline) -> None:
    sim.fault("http", endpoint="submit", status=429, retry_after=3, count=1)
    made = [create(user, f"refused or not {n}") for n in range(3)]
    pipeline.queued.clear()

    assert runner.submit_due() == 3

    rows = list(Generation.objects.filter(pk__in=[g.pk for g in made]))
    waiting = [row for row in rows if row.status == Status.QUEUED]
    assert len(waiting) == 1 and "Waiting for WaveSpeed" in waiting[0].error_message
    assert sum(row.status == Status.SUBMITTED for row in rows) == 2
    # The refused one is retried by a task of its own, after WaveSpeed's Retry-After.
    [retry] = [task for task in pipeline.queued if task.name.startswith("submit")]
    assert retry.name == "submit_job" and retry.args == ("generation", waiting[0].pk)
    assert retry.countdown >= 3
    pipeline.queued.remove(retry)
    retry.task.run(*retry.args)
    waiting[0].refresh_from_db()
    assert waiting[0].status == Status.SUBMITTED
    assert len(sim.submits()) == 4  # one refused, three accepted


@pytest.mark.django_db
def test_a_generation_with_references_is_not_sent_by_a_batch(user, sim, pipeline) -> None:
    reference = reference_create(owner=user, data=png((640, 480), "teal"), name="ref.png")
    with_reference = generation_create(
        owner=user, params=GenerationParams(prompt="with a reference", references=(reference.pk,))
    )
    plain = create(user)
    assert pipeline.names() == ["submit_job", "submit_due"]

    assert runner.submit_due() == 1

    with_reference.refresh_from_db()
    plain.refresh_from_db()
    assert plain.status == Status.SUBMITTED
    assert with_reference.status == Status.QUEUED and with_reference.submit_attempts == 0


@pytest.mark.django_db(transaction=True)
def test_a_kick_is_queued_only_while_none_is_pending(
    user, sim, django_capture_on_commit_callbacks
) -> None:
    purge_every_queue()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            create(user, "first")
        with django_capture_on_commit_callbacks(execute=True):
            create(user, "second")
        assert timing.messages_waiting(submit_due.name) == 1
        assert cache.get(runner.SUBMIT_KICK_KEY) == 1

        assert runner.submit_due() == 2  # the queued kick, run here
        assert cache.get(runner.SUBMIT_KICK_KEY) is None
        with django_capture_on_commit_callbacks(execute=True):
            create(user, "after it ran")
        assert timing.messages_waiting(submit_due.name) == 2
    finally:
        purge_every_queue()
        cache.delete(runner.SUBMIT_KICK_KEY)


@pytest.mark.django_db(transaction=True)
def test_a_lost_kick_is_resumed_by_the_sweeper(user, sim, settings) -> None:
    """A kick lost with the broker (or its worker) leaves its jobs due: the sweeper queues each
    one's submit once its queue is empty, as for a lost `submit_job`."""
    settings.STALE_AFTER_SECONDS = 0
    purge_every_queue()
    try:
        generation = create(user)
        purge_every_queue()  # its kick, lost
        Generation.objects.filter(pk=generation.pk).update(next_step_at=generation.created_at)
        counts = runner.sweep()
        assert counts["generation_submit"] == 1
        assert timing.messages_waiting(submit_job.name) == 1
    finally:
        purge_every_queue()


@pytest.mark.django_db(transaction=True)
def test_batches_running_at_once_send_each_job_once(user, sim, settings) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claims between connections: PostgreSQL (SQLite serialises)")
    settings.SUBMIT_BATCH = 4
    made = [create(user, f"raced {n}") for n in range(24)]
    sent: list[int] = []
    start = threading.Barrier(3)

    def drain() -> None:
        try:
            start.wait()
            sent.append(runner.submit_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(sent) == 24 and len(sent) == 3
    assert len(sim.submits()) == 24
    rows = Generation.objects.filter(pk__in=[g.pk for g in made])
    assert {row.submit_attempts for row in rows} == {1}
    assert len({row.provider_id for row in rows}) == 24


@pytest.mark.django_db
def test_an_unexpected_error_for_one_job_leaves_the_batchs_others_sent(
    user, sim, pipeline, monkeypatch, caplog
) -> None:
    from generations.jobs import GENERATION

    made = [create(user, f"one of three {n}") for n in range(3)]
    broken = made[1].pk
    payload = type(GENERATION).payload

    def payload_or_bug(self, job):
        if job.pk == broken:
            raise RuntimeError("a bug in what is sent")
        return payload(self, job)

    monkeypatch.setattr(type(GENERATION), "payload", payload_or_bug)

    assert runner.submit_due() == 3

    rows = {row.pk: row for row in Generation.objects.filter(pk__in=[g.pk for g in made])}
    assert [rows[g.pk].status for g in made] == [Status.SUBMITTED, Status.QUEUED, Status.SUBMITTED]
    # Its claim stays: once older than the lease, the sweeper has the history asked.
    assert rows[broken].submit_claimed_at is not None and not rows[broken].provider_id
    assert len(sim.submits()) == 2
    assert any(f"generation {broken} failed" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_queues_another(user, sim, monkeypatch) -> None:
    purge_every_queue()
    try:
        create(user)
        purge_every_queue()  # the kick it queued: this test runs the batch itself

        def broken(claimed):
            raise RuntimeError("the database went away")

        monkeypatch.setattr(runner, "_send_claimed", broken)
        with pytest.raises(RuntimeError):
            runner.submit_due()
        # Jobs whose kick found this one running are not left to the sweeper.
        assert timing.messages_waiting(submit_due.name) == 1
    finally:
        purge_every_queue()
        cache.delete(runner.SUBMIT_KICK_KEY)


@pytest.mark.django_db(transaction=True)
def test_a_cache_that_is_down_still_lets_the_run_be_queued(settings) -> None:
    """One Redis is often both: a cache that fails must not turn a committed run into a 500."""
    purge_every_queue()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
        }
    }
    try:
        timing.publish_once(submit_due, runner.SUBMIT_KICK_KEY, 15)
        assert timing.messages_waiting(submit_due.name) == 1
    finally:
        purge_every_queue()
